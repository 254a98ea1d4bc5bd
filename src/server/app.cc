#include "server/app.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "api/context.h"
#include "api/http/router.h"
#include "api/http/server.h"
#include "api/routes.h"
#include "api/statement_builder.h"
#include "delivery/dispatcher.h"
#include "security/api_keys.h"
#include "security/sealer.h"
#include "store/sqlite/sqlite_store.h"
#include "util/log.h"

namespace punt::server {
namespace {

delivery::RetryPolicy MakeRetryPolicy(const Config& config) {
  if (config.retry_schedule.empty()) return delivery::RetryPolicy();
  return delivery::RetryPolicy(config.retry_schedule, 0.2);
}

// One punt serve a data dir: a second would claim and send the same
// deliveries (each keeps its claims in memory). An flock on DIR/punt.lock,
// held while the process lives; the kernel lets go of it when the process
// ends, however it ends.
class DataDirLock {
 public:
  static std::optional<DataDirLock> Take(const std::filesystem::path& dir, std::string* error) {
    const std::string path = (dir / "punt.lock").string();
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      *error = "cannot open " + path + ": " + std::strerror(errno);
      return std::nullopt;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      *error = err == EWOULDBLOCK ? "another punt serve is using the data dir " + dir.string() +
                                        " (it holds " + path + ")"
                                  : "cannot lock " + path + ": " + std::strerror(err);
      return std::nullopt;
    }
    return DataDirLock(fd);
  }
  DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DataDirLock& operator=(DataDirLock&&) = delete;
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

class AppImpl final : public App {
 public:
  AppImpl(const Config& config, DataDirLock lock, security::Sealer sealer, security::AdminKey admin,
          std::unique_ptr<store::Store> store)
      : lock_(std::move(lock)),
        sealer_(std::move(sealer)),
        admin_(std::move(admin)),
        store_(std::move(store)),
        context_{*store_, sealer_, clock_, admin_.key,
                 api::DestinationPolicy{config.allowed_destinations, config.allow_http}},
        guard_(config.allowed_destinations),
        dispatcher_(
            *store_, sealer_, clock_, MakeRetryPolicy(config),
            delivery::DispatcherOptions{.max_in_flight = config.max_in_flight,
                                        .transport = {.ca_file = config.ca_file, .guard = &guard_},
                                        .disable_after = config.disable_after_ms}),
        server_(router_, http::Server::Options{
                             .host = config.host, .port = config.port, .threads = config.threads}) {
    store_->SetStatementBuilder(api::MakeStatementBuilder());
    context_.guard = &guard_;  // guard_ is made after context_
    context_.ca_file = config.ca_file;
    api::AddRoutes(router_, context_);
  }

  // Resumes what a previous run left in flight, then starts sending.
  bool StartDelivery(std::string* error) {
    int resumed = store_->ResetInFlight();
    if (resumed < 0) {
      *error = "cannot reset in-flight deliveries";
      return false;
    }
    if (resumed > 0) LogInfo("resuming deliveries left in flight", {{"count", resumed}});
    store_->SetCommitListener([this] { dispatcher_.Wake(); });
    dispatcher_.Start();
    return true;
  }

  bool Listen(std::string* error) { return server_.Start(error); }
  uint16_t port() const override { return server_.port(); }
  std::string admin_key_file() const override { return admin_.file.string(); }

  void Stop() override {
    server_.Stop(std::chrono::seconds(10));
    dispatcher_.Stop(std::chrono::seconds(5));
    store_->SetCommitListener(nullptr);
    store_.reset();  // joins the writer after it commits what is queued
  }

 private:
  DataDirLock lock_;  // first made, last let go: after the store is closed
  SystemClock clock_;
  security::Sealer sealer_;
  security::AdminKey admin_;
  std::unique_ptr<store::Store> store_;
  api::Context context_;
  delivery::DestinationGuard guard_;
  delivery::Dispatcher dispatcher_;
  http::Router router_;
  http::Server server_;
};

// The database holds the events, learners' data among them: only punt's user
// may read it, whatever the umask. The file is made (empty: SQLite takes it as
// a new database) or set to 0600 before SQLite opens it, and SQLite gives the
// WAL and its index the database file's mode when it makes them; ones an older
// punt left are set too.
bool RestrictDatabaseFiles(const std::filesystem::path& db, std::string* error) {
  int fd = ::open(db.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot open " + db.string() + ": " + std::strerror(errno);
    return false;
  }
  const bool made_private = ::fchmod(fd, 0600) == 0;
  const int err = errno;
  ::close(fd);
  if (!made_private) {
    *error = "cannot make " + db.string() + " private: " + std::strerror(err);
    return false;
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string path = db.string() + suffix;
    if (::chmod(path.c_str(), 0600) != 0 && errno != ENOENT) {
      *error = "cannot make " + path + " private: " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

// libcurl opens --ca-file only at each HTTPS request: one it cannot read
// would fail every HTTPS delivery while punt looked healthy.
bool CheckCaFile(const std::string& path, std::string* error) {
  if (path.empty()) return true;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *error = "cannot read the --ca-file " + path + ": " +
             (fd < 0 ? std::strerror(errno) : "not a regular file");
    if (fd >= 0) ::close(fd);
    return false;
  }
  ::close(fd);
  return true;
}

}  // namespace

std::unique_ptr<App> App::Start(const Config& config, std::string* error) {
  if (!CheckCaFile(config.ca_file, error)) return nullptr;
  std::error_code ec;
  std::filesystem::path dir(config.data_dir);
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create the data dir " + config.data_dir + ": " + ec.message();
    return nullptr;
  }
  ::chmod(dir.c_str(), 0700);
  auto lock = DataDirLock::Take(dir, error);
  if (!lock) return nullptr;
  auto sealer = security::Sealer::FromEnvironmentOrKeyFile(dir, error);
  if (!sealer) return nullptr;
  auto admin = security::LoadOrCreateAdminKey(dir, config.admin_key, error);
  if (!admin) return nullptr;
  const std::filesystem::path db = dir / "punt.db";
  if (!RestrictDatabaseFiles(db, error)) return nullptr;
  static const SystemClock kClock;
  auto store = store::OpenSqliteStore(db.string(), kClock, error);
  if (!store) return nullptr;
  auto app = std::make_unique<AppImpl>(config, std::move(*lock), std::move(*sealer),
                                       std::move(*admin), std::move(store));
  if (!app->StartDelivery(error) || !app->Listen(error)) return nullptr;
  return app;
}

}  // namespace punt::server
