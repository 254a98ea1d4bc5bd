// A thin RAII layer over one sqlite3 connection and its prepared statements.
//
// Thread-safety: a Db and its Queries are used by one thread at a time (the
// connection is opened with SQLITE_OPEN_NOMUTEX). Errors are values: a Query
// remembers the first failing result code and every later call is a no-op.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace punt::store::sqlite {

class Db;

// One execution of a prepared statement. Binds are 1-based, columns 0-based.
// Destroying it resets a cached statement (so the Db can hand it out again)
// or finalizes an uncached one.
class Query {
 public:
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  ~Query();

  Query& BindInt(int index, int64_t value);
  Query& BindText(int index, std::string_view value);
  Query& BindBlob(int index, std::string_view value);
  // As BindText and BindBlob, without SQLite's copy of the value: the caller
  // keeps `value` alive and unchanged until this Query is destroyed (which
  // resets the statement). For the large values of hot writes.
  Query& BindTextNoCopy(int index, std::string_view value);
  Query& BindBlobNoCopy(int index, std::string_view value);
  Query& BindNull(int index);

  // True when a row is ready to be read; false when done or on error.
  bool Step();
  // Steps to completion; true on success.
  bool Run();

  bool ok() const { return rc_ == 0; }
  int rc() const { return rc_; }  // extended result code of the first failure
  const std::string& error() const { return error_; }

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;

 private:
  friend class Db;
  Query(Db* db, sqlite3_stmt* stmt, bool* in_use, int rc, std::string error);
  // `keep`: SQLITE_TRANSIENT (SQLite copies the value) or SQLITE_STATIC.
  Query& BindTextAs(int index, std::string_view value, void (*keep)(void*));
  Query& BindBlobAs(int index, std::string_view value, void (*keep)(void*));
  void Check(int rc);
  void LogFailure() const;  // when the Db asks for it

  Db* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache entry's flag; null for an uncached statement
  int rc_;
  std::string error_;
};

class Db {
 public:
  // Opens (creating if needed) the database file at `path` and sets a busy
  // timeout. Returns null with `*error` set on failure.
  static std::unique_ptr<Db> Open(const std::string& path, std::string* error);

  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // A statement for `sql`, prepared once and cached for the connection's
  // life. If that statement is still in use (a nested query of the same
  // text), a fresh uncached one is prepared. A prepare error shows in the
  // Query's rc()/error().
  Query Prepare(std::string_view sql);

  // Runs one or more statements that return no rows of interest.
  bool Exec(std::string_view sql, std::string* error);

  int64_t LastInsertRowid() const;
  int Changes() const;
  bool InTransaction() const;
  std::string LastError() const;

  // For a connection whose callers mostly turn a failed read into "not
  // found" or "nothing" (the read pool's): every failure of one of its
  // queries is logged, so a failing disk does not pass in silence as a
  // missing row. The writer's failures come back as a Status instead.
  void set_log_errors(bool on) { log_errors_ = on; }
  bool log_errors() const { return log_errors_; }

 private:
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  explicit Db(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  bool log_errors_ = false;
  // Looked up by string_view (a transparent hash): no key is built per call.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, Cached, SqlHash, std::equal_to<>> cache_;
};

// True for the result codes a UNIQUE or PRIMARY KEY constraint gives.
bool IsUniqueViolation(int rc);

}  // namespace punt::store::sqlite
