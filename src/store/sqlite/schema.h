// The SQLite schema, versioned in code: PRAGMA user_version is the number of
// migration steps applied. Steps are only ever appended.
#pragma once

#include <string>

#include "store/sqlite/db.h"

namespace punt::store::sqlite {

// Delivery states and body formats are stored as the integer values of
// model.h's enums.

// The version Migrate brings a database to.
int LatestSchemaVersion();

// The writer's automatic checkpoint copies the WAL into the database file
// once the WAL holds this many pages (SQLite's default is 1,000).
inline constexpr int kCheckpointPages = 4000;

// Sets the per-connection pragmas: WAL, foreign keys, and synchronous: FULL
// for readers, NORMAL for the writer (whose sync thread syncs the WAL, and
// whose automatic checkpoints come every kCheckpointPages WAL pages).
// A reader connection is also made query-only.
bool ConfigureConnection(Db& db, bool reader, std::string* error);

// Applies every step past the database's user_version, each in its own
// IMMEDIATE transaction that also reads the version (so concurrent openers do
// not apply a step twice); `*applied` counts them. Refuses a database written
// by a newer punt. REQUIRES: `db` is a writer connection.
bool Migrate(Db& db, int* applied, std::string* error);

// As Migrate, but stops at `version` (at most LatestSchemaVersion()): tests
// build a database as an older punt left it.
bool MigrateTo(Db& db, int version, int* applied, std::string* error);

}  // namespace punt::store::sqlite
