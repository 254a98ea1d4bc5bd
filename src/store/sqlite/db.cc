#include "store/sqlite/db.h"

#include <sqlite3.h>

#include <cstdlib>
#include <mutex>
#include <string_view>
#include <utility>

#include "store/sqlite/wal_gathering_vfs.h"
#include "util/log.h"

namespace punt::store::sqlite {
namespace {

constexpr int kBusyTimeoutMs = 5000;

// Page-cache slots shared by every connection of the process (about 9 MB).
// A read connection drops its whole page cache whenever the writer has
// committed since its last transaction, so the claimer frees and allocates
// tens of pages per claim: from these slots that is a list operation, from
// malloc a 4 KiB allocation with consolidation. Pages beyond the slots, or of
// a database with larger pages, still come from malloc.
constexpr int kPageCacheSlots = 2048;
constexpr int kSlotPageBytes = 4096;  // SQLite's default page size, which punt keeps

// Settings for the whole process, which SQLite takes only before its first
// connection opens (a later call is refused and changes nothing). Memory
// statistics are off: they take a global mutex on every allocation.
void ConfigureProcessOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    int header = 0;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &header) != SQLITE_OK) return;
    const size_t slot = (static_cast<size_t>(kSlotPageBytes + header) + 7) & ~size_t{7};
    void* slots = std::malloc(slot * kPageCacheSlots);  // kept for the life of the process
    if (slots == nullptr) return;
    if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, slots, static_cast<int>(slot),
                       kPageCacheSlots) != SQLITE_OK) {
      std::free(slots);
    }
  });
}

}  // namespace

Query::Query(Db* db, sqlite3_stmt* stmt, bool* in_use, int rc, std::string error)
    : db_(db), stmt_(stmt), in_use_(in_use), rc_(rc), error_(std::move(error)) {
  if (rc_ != SQLITE_OK) LogFailure();
}

void Query::LogFailure() const {
  if (db_ == nullptr || !db_->log_errors()) return;
  const char* sql = stmt_ != nullptr ? sqlite3_sql(stmt_) : nullptr;
  std::string_view statement = sql != nullptr ? std::string_view(sql) : std::string_view();
  LogError("a database read failed",
           {{"error", error_}, {"code", rc_}, {"sql", statement.substr(0, 160)}});
}

Query::Query(Query&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      rc_(other.rc_),
      error_(std::move(other.error_)) {}

Query::~Query() {
  if (stmt_ == nullptr) return;
  if (in_use_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

void Query::Check(int rc) {
  if (rc == SQLITE_OK || rc_ != SQLITE_OK) return;
  rc_ = rc;
  error_ = db_->LastError();
  LogFailure();
}

Query& Query::BindInt(int index, int64_t value) {
  if (ok()) Check(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

namespace {

// A zero-length blob with a null pointer would bind NULL; keep it a blob.
const char* NotNull(std::string_view value) { return value.data() != nullptr ? value.data() : ""; }

}  // namespace

Query& Query::BindTextAs(int index, std::string_view value, void (*keep)(void*)) {
  if (ok()) Check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), keep, SQLITE_UTF8));
  return *this;
}

Query& Query::BindBlobAs(int index, std::string_view value, void (*keep)(void*)) {
  if (ok()) Check(sqlite3_bind_blob64(stmt_, index, NotNull(value), value.size(), keep));
  return *this;
}

Query& Query::BindText(int index, std::string_view value) {
  return BindTextAs(index, value, SQLITE_TRANSIENT);
}

Query& Query::BindBlob(int index, std::string_view value) {
  return BindBlobAs(index, value, SQLITE_TRANSIENT);
}

Query& Query::BindTextNoCopy(int index, std::string_view value) {
  return BindTextAs(index, value, SQLITE_STATIC);
}

Query& Query::BindBlobNoCopy(int index, std::string_view value) {
  return BindBlobAs(index, value, SQLITE_STATIC);
}

Query& Query::BindNull(int index) {
  if (ok()) Check(sqlite3_bind_null(stmt_, index));
  return *this;
}

bool Query::Step() {
  if (!ok()) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) Check(rc);
  return false;
}

bool Query::Run() {
  while (Step()) {
  }
  return ok();
}

bool Query::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

int64_t Query::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Query::Text(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return text ? std::string(text, sqlite3_column_bytes(stmt_, column)) : std::string();
}

std::string Query::Blob(int column) const {
  auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  return data ? std::string(data, sqlite3_column_bytes(stmt_, column)) : std::string();
}

std::unique_ptr<Db> Db::Open(const std::string& path, std::string* error) {
  ConfigureProcessOnce();
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  // Falls back to the default VFS if the gathering one could not be set up.
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, WalGatheringVfsName());
  std::unique_ptr<Db> db(new Db(raw));  // closes `raw` even when opening failed
  if (rc != SQLITE_OK) {
    *error = "cannot open database " + path + ": " +
             (raw ? db->LastError() : std::string(sqlite3_errstr(rc)));
    return nullptr;
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  return db;
}

Db::~Db() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

Query Db::Prepare(std::string_view sql) {
  // Found without building a key: Prepare runs for every statement executed.
  auto it = cache_.find(sql);
  bool inserted = it == cache_.end();
  if (inserted) it = cache_.emplace(std::string(sql), Cached{}).first;
  Cached& cached = it->second;
  bool use_cache = !cached.in_use;
  sqlite3_stmt* stmt = nullptr;
  if (use_cache && cached.stmt != nullptr) {
    stmt = cached.stmt;
  } else {
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                use_cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
    if (rc != SQLITE_OK || stmt == nullptr) {
      if (inserted) cache_.erase(it);
      if (stmt != nullptr) sqlite3_finalize(stmt);
      return Query(this, nullptr, nullptr, rc != SQLITE_OK ? rc : SQLITE_MISUSE,
                   LastError() + " in: " + std::string(sql));
    }
    if (use_cache) cached.stmt = stmt;
  }
  if (!use_cache) return Query(this, stmt, nullptr, SQLITE_OK, {});
  cached.in_use = true;
  return Query(this, stmt, &cached.in_use, SQLITE_OK, {});
}

bool Db::Exec(std::string_view sql, std::string* error) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return true;
  if (error != nullptr) *error = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return false;
}

int64_t Db::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

int Db::Changes() const { return sqlite3_changes(db_); }

bool Db::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

std::string Db::LastError() const { return sqlite3_errmsg(db_); }

bool IsUniqueViolation(int rc) {
  return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

}  // namespace punt::store::sqlite
