#include "server/app.h"

#include <sys/stat.h>

#include <filesystem>

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

class AppImpl final : public App {
 public:
  AppImpl(const Config& config, security::Sealer sealer, security::AdminKey admin,
          std::unique_ptr<store::Store> store)
      : sealer_(std::move(sealer)),
        admin_(std::move(admin)),
        store_(std::move(store)),
        context_{*store_, sealer_, clock_, admin_.key,
                 api::DestinationPolicy{config.allowed_destinations, config.allow_http}},
        guard_(config.allowed_destinations),
        dispatcher_(*store_, sealer_, clock_, MakeRetryPolicy(config),
                    delivery::DispatcherOptions{
                        .max_in_flight = config.max_in_flight,
                        .transport = {.ca_file = config.ca_file, .guard = &guard_},
                        .disable_after = config.disable_after_ms}),
        server_(router_, http::Server::Options{.host = config.host,
                                               .port = config.port,
                                               .threads = config.threads}) {
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

}  // namespace

std::unique_ptr<App> App::Start(const Config& config, std::string* error) {
  std::error_code ec;
  std::filesystem::path dir(config.data_dir);
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create the data dir " + config.data_dir + ": " + ec.message();
    return nullptr;
  }
  ::chmod(dir.c_str(), 0700);
  auto sealer = security::Sealer::FromEnvironmentOrKeyFile(dir, error);
  if (!sealer) return nullptr;
  auto admin = security::LoadOrCreateAdminKey(dir, config.admin_key, error);
  if (!admin) return nullptr;
  static const SystemClock kClock;
  auto store = store::OpenSqliteStore((dir / "punt.db").string(), kClock, error);
  if (!store) return nullptr;
  auto app = std::make_unique<AppImpl>(config, std::move(*sealer), std::move(*admin),
                                       std::move(store));
  if (!app->StartDelivery(error) || !app->Listen(error)) return nullptr;
  return app;
}

}  // namespace punt::server
