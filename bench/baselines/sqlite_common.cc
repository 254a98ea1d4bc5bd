#include "sqlite_common.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "store/sqlite/db.h"
#include "store/sqlite/schema.h"

namespace bench {

Flags::Flags(int argc, char** argv) {
  for (int i = 1; i < argc; i += 2) {
    std::string name = argv[i];
    if (!name.starts_with("--") || i + 1 >= argc) Die("expected --name value, got " + name);
    values_[name.substr(2)] = argv[i + 1];
  }
}

std::string Flags::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

int64_t Flags::Int(const std::string& name, int64_t fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : std::atoll(it->second.c_str());
}

void Die(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::exit(1);
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::vector<std::string> SplitList(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    if (comma != 0) out.emplace_back(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return out;
}

Stmt::Stmt(sqlite3* db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
    Die(std::string("prepare: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::Int(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Stmt& Stmt::Text(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::Blob(int index, std::string_view value) {
  sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT);
  return *this;
}

bool Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) Die(std::string("step: ") + sqlite3_errmsg(db_));
  sqlite3_reset(stmt_);
  return false;
}

void Stmt::Run() {
  while (Step()) {
  }
}

int64_t Stmt::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string_view Stmt::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  return {static_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

void Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown";
    sqlite3_free(error);
    Die(message + " in: " + sql);
  }
}

sqlite3* OpenFresh(const std::string& path, const std::string& synchronous) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  {
    std::string error;
    auto db = punt::store::sqlite::Db::Open(path, &error);
    int applied = 0;
    if (!db || !punt::store::sqlite::ConfigureConnection(*db, false, &error) ||
        !punt::store::sqlite::Migrate(*db, &applied, &error)) {
      Die("cannot create the schema: " + error);
    }
  }
  if (synchronous != "FULL" && synchronous != "NORMAL") Die("--synchronous: FULL or NORMAL");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    Die("cannot open " + path);
  }
  sqlite3_busy_timeout(db, 5000);
  // The pragmas of punt's ConfigureConnection (schema.cc), its writer's
  // checkpoint window too.
  Exec(db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;");
  Exec(db, ("PRAGMA synchronous = " + synchronous).c_str());
  Exec(db, ("PRAGMA wal_autocheckpoint = " +
            std::to_string(punt::store::sqlite::kCheckpointPages))
               .c_str());
  return db;
}

void SeedTenant(sqlite3* db, const Tenant& tenant, const std::string& kind, bool enabled) {
  int64_t now = NowMs();
  Stmt org(db,
           "INSERT INTO orgs (id, name, platform_url, mbox_opt_in, created_at, updated_at) "
           "VALUES (?1, 'Bench', 'https://bench.example', 0, ?2, ?2)");
  org.Text(1, tenant.org_id).Int(2, now).Run();
  Stmt sub(db,
           "INSERT INTO subscriptions (id, org_id, kind, url, description, events, enabled, "
           "xapi_version, token_sealed, secret_sealed, token_hint, max_in_flight, batch_size, "
           "created_at, updated_at) VALUES (?1, ?2, ?3, 'http://127.0.0.1:1/statements', '', "
           "'[\"*\"]', ?4, '1.0.3', ?5, ?6, 'YmVu****==', 64, 100, ?7, ?7)");
  sub.Text(1, tenant.sub_id).Text(2, tenant.org_id).Text(3, kind).Int(4, enabled ? 1 : 0)
      .Blob(5, std::string(60, 't')).Blob(6, std::string(60, 's')).Int(7, now).Run();
}

std::string Body(size_t size, int64_t seed) {
  std::string head = "{\"seq\":" + std::to_string(seed) + ",\"pad\":\"";
  std::string body = head;
  while (body.size() + 2 < size) body.push_back(static_cast<char>('a' + (body.size() + seed) % 26));
  body += "\"}";
  return body;
}

}  // namespace bench
