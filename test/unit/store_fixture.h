// A fresh SQLite store in a temp dir per test, with helpers to make
// organisations, subscriptions and events. Shared by the store's tests.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_store_impl.h"
#include "util/clock.h"

namespace punt::store::testing {

// No per-subscription cap: tests that use it claim by the total limit alone.
inline const Store::FreeSlots kUnlimited = [](const std::string&, int, int) { return 1 << 20; };

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("punt_store_" + std::string(info->name()) + "_" + std::to_string(getpid()) + "_" +
            std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Open();
  }

  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string path() const { return (dir_ / "punt.db").string(); }

  void Open() {
    std::string error;
    store_ = OpenSqliteStore(path(), clock_, &error);
    ASSERT_NE(store_, nullptr) << error;
  }

  void CreateOrg(const std::string& id) {
    Org org{.id = id, .name = "Org " + id, .platform_url = "https://" + id + ".example"};
    ApiKey key{.id = "key_" + id, .org_id = id, .hash = "hash_" + id};
    ASSERT_TRUE(store_->CreateOrg(org, key).ok());
  }

  static Subscription MakeSub(const std::string& org, const std::string& id,
                              SubscriptionKind kind, std::vector<std::string> events,
                              bool enabled = true) {
    Subscription sub;
    sub.id = id;
    sub.org_id = org;
    sub.kind = kind;
    sub.url = "https://receiver.example/" + id;
    sub.events = std::move(events);
    sub.enabled = enabled;
    return sub;
  }

  void CreateSub(const std::string& org, const std::string& id, SubscriptionKind kind,
                 std::vector<std::string> events, bool enabled = true) {
    Status status = store_->CreateSubscription(MakeSub(org, id, kind, std::move(events), enabled));
    ASSERT_TRUE(status.ok()) << status.message;
  }

  static NewEvent Event(const std::string& id, const std::string& type = "lesson.completed") {
    NewEvent e;
    e.event_id = id;
    e.type = type;
    e.occurred_at = 1000;
    e.learning = type.rfind("user.", 0) != 0;
    e.webhook_body = "{\"webhook\":\"" + id + "\"}";
    if (e.learning) e.statement_body = "{\"statement\":\"" + id + "\"}";
    return e;
  }

  IngestResult IngestSync(const std::string& org, std::vector<NewEvent> events) {
    auto promise = std::make_shared<std::promise<IngestResult>>();
    std::future<IngestResult> result = promise->get_future();
    store_->Ingest(org, std::move(events),
                   [promise](IngestResult r) { promise->set_value(std::move(r)); });
    return result.get();
  }

  std::vector<Delivery> List(const std::string& org, const std::string& sub,
                             std::optional<DeliveryState> state = std::nullopt) {
    DeliveryQuery query;
    query.org_id = org;
    query.subscription_id = sub;
    query.state = state;
    query.limit = 500;
    return store_->ListDeliveries(query);
  }

  // Counts rows through a connection of its own, as another process would.
  int64_t Count(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    int64_t n = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  // Writes the rows of the subscription's deliveries that have none yet
  // (deferred_rows.h), as a read of its deliveries does: for a test that
  // changes or counts rows by hand.
  void WriteDeferredRows(const std::string& org, const std::string& sub) {
    ASSERT_FALSE(store_->CountDeliveries(org, sub).empty());
  }

  // Runs `sql` on the store's write connection, as a writer job: for a state
  // no API call makes.
  Status ExecOnWriter(const std::string& sql) {
    auto& store = static_cast<sqlite::SqliteStore&>(*store_);
    return store.writer_for_test().RunSync([&sql](sqlite::Db& db, bool*) {
      std::string error;
      return db.Exec(sql, &error) ? Status::Ok() : Status::Failed(error);
    });
  }

  static std::vector<std::string> EventIds(const std::vector<Delivery>& deliveries) {
    std::vector<std::string> ids;
    for (const Delivery& d : deliveries) ids.push_back(d.event_id);
    return ids;
  }

  ManualClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace punt::store::testing
