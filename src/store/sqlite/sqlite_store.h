// The embedded store: one SQLite database file in WAL mode.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"
#include "util/clock.h"

namespace punt::store {

// Opens (creating and migrating if needed) the database file at `path`; its
// directory must exist. `clock` must outlive the store. Returns null with
// `*error` set when the file cannot be opened, is not a punt database, or was
// written by a newer punt.
std::unique_ptr<Store> OpenSqliteStore(const std::string& path, const Clock& clock,
                                       std::string* error);

}  // namespace punt::store
