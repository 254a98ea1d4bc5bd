// Shared by the bare SQLite baselines: flags, a raw sqlite3 connection, and
// a database whose schema is made by punt's own migration (so tables and
// indexes are exactly punt's). Everything else is plain sqlite3 calls: no
// writer thread, no savepoints, no job queue.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// `--name value` pairs.
class Flags {
 public:
  Flags(int argc, char** argv);
  std::string Get(const std::string& name, const std::string& fallback) const;
  int64_t Int(const std::string& name, int64_t fallback) const;

 private:
  std::map<std::string, std::string> values_;
};

[[noreturn]] void Die(const std::string& message);
int64_t NowMs();
std::vector<std::string> SplitList(std::string_view list);  // "a,b" -> {a, b}

// A prepared statement; Step/Run die on an error.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql);
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();
  Stmt& Int(int index, int64_t value);
  Stmt& Text(int index, std::string_view value);
  Stmt& Blob(int index, std::string_view value);
  bool Step();  // true while a row is ready; resets the statement when done
  void Run();   // steps to completion
  int64_t ColumnInt(int column) const;
  std::string_view ColumnBlob(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Creates the database at `path` with punt's migrations, then opens it raw
// with punt's pragmas (WAL, foreign keys) and `synchronous` (FULL or NORMAL).
sqlite3* OpenFresh(const std::string& path, const std::string& synchronous);
void Exec(sqlite3* db, const char* sql);

// One organisation and one subscription of `kind` ("webhook" or "xapi"),
// with row sizes like punt's (sealed token and secret).
struct Tenant {
  std::string org_id = "org_bench0000000000000000";
  std::string sub_id = "sub_bench0000000000000000";
};
void SeedTenant(sqlite3* db, const Tenant& tenant, const std::string& kind, bool enabled);

// `size` bytes of JSON-looking text, different for each `seed`.
std::string Body(size_t size, int64_t seed);

}  // namespace bench
