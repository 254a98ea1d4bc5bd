#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "log_capture.h"
#include "store/sqlite/db.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_store_impl.h"
#include "store_fixture.h"
#include "util/clock.h"
#include "util/log.h"

namespace punt::store {
namespace {

namespace fs = std::filesystem;
using sqlite::SqliteStore;
using testing::kUnlimited;

constexpr std::string_view kSealedBytes{"\x01\x00\x02sealed", 9};  // binary, with a NUL

class SqliteStoreTest : public testing::StoreFixture {
 protected:
  SqliteStore& impl() { return static_cast<SqliteStore&>(*store_); }
  sqlite::Writer& writer() { return impl().writer_for_test(); }

  // Ingests into org_a without waiting; the result comes with the future.
  std::future<IngestResult> IngestAsync(std::vector<NewEvent> events) {
    auto promise = std::make_shared<std::promise<IngestResult>>();
    std::future<IngestResult> answer = promise->get_future();
    store_->Ingest("org_a", std::move(events),
                   [promise](IngestResult r) { promise->set_value(std::move(r)); });
    return answer;
  }

  // Waits until the writer has run the follow-up jobs of a deletion: the
  // subscription's row is gone. Bounded: gives up after about 10 s.
  bool WaitUntilGone(const std::string& sub_id) {
    for (int i = 0; i < 5000; ++i) {
      if (Count("SELECT count(*) FROM subscriptions WHERE id = '" + sub_id + "'") == 0) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }
};

using Strings = std::vector<std::string>;

TEST_F(SqliteStoreTest, CreatesOrgAndFindsItsKey) {
  CreateOrg("org_a");
  auto org = store_->GetOrg("org_a");
  ASSERT_TRUE(org);
  EXPECT_EQ(org->name, "Org org_a");
  EXPECT_EQ(org->platform_url, "https://org_a.example");
  EXPECT_EQ(org->created_at, clock_.Now());

  auto key = store_->FindApiKey("hash_org_a");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->id, "key_org_a");
  EXPECT_EQ(key->org_id, "org_a");
  EXPECT_EQ(key->scopes, kScopeAll);
  EXPECT_FALSE(store_->FindApiKey("hash_nope"));
  EXPECT_FALSE(store_->GetOrg("org_nope"));
}

TEST_F(SqliteStoreTest, OrgAndKeyReadsShareTheCachedRowUntilAnUpdate) {
  CreateOrg("org_a");
  auto first = store_->GetOrg("org_a");
  ASSERT_TRUE(first);
  EXPECT_EQ(store_->GetOrg("org_a").get(), first.get());  // a hit: no copy
  auto key = store_->FindApiKey("hash_org_a");
  ASSERT_TRUE(key);
  EXPECT_EQ(store_->FindApiKey("hash_org_a").get(), key.get());

  Org changed = *first;
  changed.name = "Renamed";
  ASSERT_TRUE(store_->UpdateOrg(changed).ok());
  auto after = store_->GetOrg("org_a");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->name, "Renamed");
  EXPECT_EQ(first->name, "Org org_a");  // what a reader holds does not change under it
}

TEST_F(SqliteStoreTest, CreateOrgConflictsStoreNothing) {
  CreateOrg("org_a");
  Org again;
  again.id = "org_a";
  ApiKey other_key;
  other_key.id = "key_other";
  other_key.hash = "hash_other";
  EXPECT_EQ(store_->CreateOrg(again, other_key).code, Status::Code::kConflict);
  EXPECT_FALSE(store_->FindApiKey("hash_other"));

  Org org_b;
  org_b.id = "org_b";
  ApiKey reused;
  reused.id = "key_b";
  reused.hash = "hash_org_a";  // in use: the org must not be stored either
  EXPECT_EQ(store_->CreateOrg(org_b, reused).code, Status::Code::kConflict);
  EXPECT_FALSE(store_->GetOrg("org_b"));
}

TEST_F(SqliteStoreTest, UpdatesOrg) {
  CreateOrg("org_a");
  clock_.Advance(5000);
  Org org = *store_->GetOrg("org_a");
  org.name = "Renamed";
  org.mbox_opt_in = true;
  ASSERT_TRUE(store_->UpdateOrg(org).ok());
  Org read = *store_->GetOrg("org_a");
  EXPECT_EQ(read.name, "Renamed");
  EXPECT_TRUE(read.mbox_opt_in);
  EXPECT_EQ(read.updated_at, clock_.Now());
  EXPECT_EQ(read.created_at, clock_.Now() - 5000);

  org.id = "org_nope";
  EXPECT_EQ(store_->UpdateOrg(org).code, Status::Code::kNotFound);
}

TEST_F(SqliteStoreTest, SubscriptionRoundTripsEveryField) {
  CreateOrg("org_a");
  Subscription sub = MakeSub("org_a", "sub_1", SubscriptionKind::kXapi, {"lesson.completed"});
  sub.description = "LRS";
  sub.xapi_version = "2.0.0";
  sub.token_sealed = std::string(kSealedBytes.data(), kSealedBytes.size());
  sub.secret_sealed = "whsec_sealed";
  sub.token_hint = "abcd…wxyz";
  sub.max_in_flight = 7;
  sub.batch_size = 42;
  ASSERT_TRUE(store_->CreateSubscription(sub).ok());

  std::optional<Subscription> read = store_->GetSubscription("org_a", "sub_1");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->kind, SubscriptionKind::kXapi);
  EXPECT_EQ(read->url, sub.url);
  EXPECT_EQ(read->description, "LRS");
  EXPECT_EQ(read->events, Strings{"lesson.completed"});
  EXPECT_TRUE(read->enabled);
  EXPECT_EQ(read->xapi_version, "2.0.0");
  EXPECT_EQ(read->token_sealed, sub.token_sealed);
  EXPECT_EQ(read->secret_sealed, "whsec_sealed");
  EXPECT_EQ(read->token_hint, "abcd…wxyz");
  EXPECT_EQ(read->max_in_flight, 7);
  EXPECT_EQ(read->batch_size, 42);
  EXPECT_EQ(read->created_at, clock_.Now());
}

TEST_F(SqliteStoreTest, SubscriptionCrud) {
  CreateOrg("org_a");
  CreateSub("org_a", "sub_1", SubscriptionKind::kWebhook, {"*"});
  clock_.Advance(1);
  CreateSub("org_a", "sub_2", SubscriptionKind::kXapi, {"*"});
  EXPECT_EQ(
      store_->CreateSubscription(MakeSub("org_a", "sub_1", SubscriptionKind::kWebhook, {})).code,
      Status::Code::kConflict);
  EXPECT_EQ(
      store_->CreateSubscription(MakeSub("org_x", "sub_9", SubscriptionKind::kWebhook, {})).code,
      Status::Code::kNotFound);

  std::vector<Subscription> subs = store_->ListSubscriptions("org_a");
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[0].id, "sub_1");
  EXPECT_EQ(subs[1].id, "sub_2");

  clock_.Advance(1000);
  Subscription sub = subs[0];
  sub.url = "https://new.example/hook";
  sub.events = {"user.created", "user.updated"};
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  Subscription read = *store_->GetSubscription("org_a", "sub_1");
  EXPECT_EQ(read.url, "https://new.example/hook");
  EXPECT_EQ(read.events, (Strings{"user.created", "user.updated"}));
  EXPECT_EQ(read.updated_at, clock_.Now());
  EXPECT_EQ(read.created_at, subs[0].created_at);

  ASSERT_TRUE(store_->DeleteSubscription("org_a", "sub_1").ok());
  EXPECT_FALSE(store_->GetSubscription("org_a", "sub_1"));
  EXPECT_EQ(store_->DeleteSubscription("org_a", "sub_1").code, Status::Code::kNotFound);
  sub.id = "sub_nope";
  EXPECT_EQ(store_->UpdateSubscription(sub).code, Status::Code::kNotFound);
  EXPECT_EQ(store_->ListSubscriptions("org_a").size(), 1u);
}

TEST_F(SqliteStoreTest, AnotherOrgCannotSeeUpdateOrDeleteASubscription) {
  CreateOrg("org_a");
  CreateOrg("org_b");
  CreateSub("org_a", "sub_1", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  int64_t delivery_id = List("org_a", "sub_1").at(0).id;

  EXPECT_FALSE(store_->GetSubscription("org_b", "sub_1"));
  EXPECT_TRUE(store_->ListSubscriptions("org_b").empty());
  Subscription hijack = MakeSub("org_b", "sub_1", SubscriptionKind::kWebhook, {"*"});
  hijack.url = "https://evil.example";
  EXPECT_EQ(store_->UpdateSubscription(hijack).code, Status::Code::kNotFound);
  EXPECT_EQ(store_->DeleteSubscription("org_b", "sub_1").code, Status::Code::kNotFound);
  EXPECT_TRUE(List("org_b", "sub_1").empty());
  EXPECT_FALSE(store_->GetDelivery("org_b", delivery_id));

  EXPECT_EQ(store_->GetSubscription("org_a", "sub_1")->url, "https://receiver.example/sub_1");
  EXPECT_TRUE(store_->GetDelivery("org_a", delivery_id));
}

TEST_F(SqliteStoreTest, IngestFansOutToMatchingSubscriptionsOnly) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook_all", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "xapi_all", SubscriptionKind::kXapi, {"*"});
  CreateSub("org_a", "hook_users", SubscriptionKind::kWebhook, {"user.created"});
  CreateSub("org_a", "xapi_lessons", SubscriptionKind::kXapi, {"lesson.completed"});

  IngestResult result = IngestSync(
      "org_a",
      {Event("u1", "user.created"), Event("l1", "lesson.completed"), Event("t1", "term.searched")});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.stored, 3);
  EXPECT_EQ(result.duplicates, 0);
  EXPECT_EQ(result.deliveries, 7);

  EXPECT_EQ(EventIds(List("org_a", "hook_all")), (Strings{"u1", "l1", "t1"}));
  EXPECT_EQ(EventIds(List("org_a", "xapi_all")), (Strings{"l1", "t1"}));
  EXPECT_EQ(EventIds(List("org_a", "hook_users")), (Strings{"u1"}));
  EXPECT_EQ(EventIds(List("org_a", "xapi_lessons")), (Strings{"l1"}));

  Delivery d = List("org_a", "xapi_all").at(0);
  EXPECT_EQ(d.org_id, "org_a");
  EXPECT_EQ(d.event_type, "lesson.completed");
  EXPECT_EQ(d.state, DeliveryState::kPending);
  EXPECT_EQ(d.attempt_count, 0);
  EXPECT_EQ(d.next_attempt_at, clock_.Now());
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 3);
  EXPECT_EQ(Count("SELECT accepted_at FROM events WHERE event_id = 'u1'"), clock_.Now());
}

TEST_F(SqliteStoreTest, BodyIsStoredOncePerEventAndFormat) {
  CreateOrg("org_a");
  for (std::string id : {"x1", "x2", "x3"}) CreateSub("org_a", id, SubscriptionKind::kXapi, {"*"});
  for (std::string id : {"w1", "w2"}) CreateSub("org_a", id, SubscriptionKind::kWebhook, {"*"});

  IngestResult result = IngestSync("org_a", {Event("l1", "lesson.completed")});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.deliveries, 5);
  EXPECT_EQ(Count("SELECT count(*) FROM statements"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE webhook_body IS NOT NULL"), 1);
  // The xAPI deliveries' rows; the webhook ones' are written when they are
  // claimed or read (deferred_rows.h).
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 3);

  // Every delivery sends the one body of its subscription's format.
  std::vector<DueDelivery> due = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  ASSERT_EQ(due.size(), 5u);
  for (const DueDelivery& d : due) {
    bool xapi = d.subscription_id[0] == 'x';
    EXPECT_EQ(d.body, xapi ? "{\"statement\":\"l1\"}" : "{\"webhook\":\"l1\"}")
        << d.subscription_id;
  }
}

TEST_F(SqliteStoreTest, UserEventStoresOnlyTheWebhookBody) {
  CreateOrg("org_a");
  ASSERT_TRUE(IngestSync("org_a", {Event("u1", "user.created")}).ok);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE webhook_body IS NOT NULL"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM statements"), 0);
}

TEST_F(SqliteStoreTest, DuplicateIdsAreNotStoredTwice) {
  CreateOrg("org_a");
  CreateOrg("org_b");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});

  IngestResult first = IngestSync("org_a", {Event("a"), Event("b"), Event("a")});
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.stored, 2);
  EXPECT_EQ(first.duplicates, 1);
  EXPECT_EQ(first.deliveries, 2);

  IngestResult second = IngestSync("org_a", {Event("b"), Event("c")});
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.stored, 1);
  EXPECT_EQ(second.duplicates, 1);
  EXPECT_EQ(second.deliveries, 1);

  IngestResult other_org = IngestSync("org_b", {Event("a")});  // ids are per organisation
  EXPECT_EQ(other_org.stored, 1);

  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE org_id = 'org_a'"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE webhook_body IS NOT NULL"), 4);
  EXPECT_EQ(Count("SELECT count(*) FROM statements"), 4);
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"a", "b", "c"}));
}

TEST_F(SqliteStoreTest, IngestForUnknownOrgFails) {
  IngestResult result = IngestSync("org_nope", {Event("a")});
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("org_nope"), std::string::npos) << result.error;
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 0);
}

TEST_F(SqliteStoreTest, FailingBatchStoresNothingWhileItsGroupCommits) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  int64_t commits_before = impl().writer_stats().commits;
  int64_t again_before = impl().writer_stats().groups_run_again;

  std::vector<std::future<IngestResult>> results;
  auto submit = [&](std::vector<NewEvent> events) {
    auto promise = std::make_shared<std::promise<IngestResult>>();
    results.push_back(promise->get_future());
    store_->Ingest("org_a", std::move(events),
                   [promise](IngestResult r) { promise->set_value(std::move(r)); });
  };
  impl().writer_for_test().PauseForTest();  // so the three batches form one group
  submit({Event("g1"), Event("g2")});
  submit({Event("bad1"), Event("")});  // an empty id breaks a CHECK constraint
  submit({Event("g3")});
  impl().writer_for_test().ResumeForTest();

  IngestResult good1 = results[0].get(), bad = results[1].get(), good2 = results[2].get();
  EXPECT_TRUE(good1.ok) << good1.error;
  EXPECT_TRUE(good2.ok) << good2.error;
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("CHECK"), std::string::npos) << bad.error;
  EXPECT_EQ(bad.stored, 0);
  EXPECT_EQ(impl().writer_stats().commits, commits_before + 1);
  // Without savepoints the bad batch failed the whole first run; the group
  // then ran again with a savepoint per job.
  EXPECT_EQ(impl().writer_stats().groups_run_again, again_before + 1);

  EXPECT_EQ(Count("SELECT count(*) FROM events"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE event_id = 'bad1'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE webhook_body IS NOT NULL"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM statements"), 3);
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"g1", "g2", "g3"}));
}

TEST_F(SqliteStoreTest, ConcurrentIngestsShareCommits) {
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 200;
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  std::atomic<int> wakeups{0};
  store_->SetCommitListener([&] { ++wakeups; });

  // Callers that wait at the same time share one commit. The writer is
  // paused until all of them wait, so this does not depend on timing.
  sqlite::WriterStats start = impl().writer_stats();
  impl().writer_for_test().PauseForTest();
  std::vector<std::thread> waiting;
  std::atomic<int> waiting_ok{0};
  for (int t = 0; t < kThreads; ++t) {
    waiting.emplace_back([&, t] {
      if (IngestSync("org_a", {Event("w" + std::to_string(t))}).ok) ++waiting_ok;
    });
  }
  for (int i = 0; i < 5000 && impl().writer_for_test().QueuedForTest() < kThreads; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(impl().writer_for_test().QueuedForTest(), static_cast<size_t>(kThreads));
  impl().writer_for_test().ResumeForTest();
  for (std::thread& thread : waiting) thread.join();
  EXPECT_EQ(waiting_ok.load(), kThreads);
  EXPECT_EQ(impl().writer_stats().commits - start.commits, 1);
  EXPECT_EQ(wakeups.load(), 1);
  EXPECT_GE(impl().writer_stats().largest_group, kThreads);
  sqlite::WriterStats before = impl().writer_stats();
  wakeups = 0;

  // Then under load: each thread is a client that waits for each answer
  // before sending again. How many commits they share depends on timing
  // (printed, not asserted).
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        IngestResult r = IngestSync("org_a", {Event(id)});
        if (r.ok && r.stored == 1 && r.deliveries == 1) ++ok;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  constexpr int kCalls = kThreads * kCallsPerThread;
  sqlite::WriterStats after = impl().writer_stats();
  int64_t commits = after.commits - before.commits;
  std::printf("[ group commit ] %d ingest calls, %lld commits, largest group %lld\n", kCalls,
              static_cast<long long>(commits), static_cast<long long>(after.largest_group));
  EXPECT_EQ(ok.load(), kCalls);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), kCalls + kThreads);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 0);  // written when needed
  const sqlite::WriterStats ingested = impl().writer_stats();
  EXPECT_EQ(after.jobs - before.jobs, kCalls);
  EXPECT_LE(commits, kCalls);
  EXPECT_EQ(wakeups.load(), commits);  // once per group, not per call
  EXPECT_EQ(after.groups_run_again, before.groups_run_again);  // no job failed: no savepoints
  // A read of the deliveries writes their rows, in slices of 2,000 events.
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kPending], kCalls + kThreads);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), kCalls + kThreads);
  EXPECT_EQ(impl().writer_stats().jobs - ingested.jobs, 1);
}

// Claims and attempt records only repeat a delivery if a power loss takes
// them: they commit without an fsync. Ingest always fsyncs.
TEST_F(SqliteStoreTest, OnlyGroupsWithDurableJobsSync) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  sqlite::WriterStats before = impl().writer_stats();
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  sqlite::WriterStats ingested = impl().writer_stats();
  EXPECT_EQ(ingested.synced_commits - before.synced_commits, 1);
  EXPECT_EQ(ingested.syncs - before.syncs, 1);  // the answer came after the WAL's sync

  DueDelivery due = store_->ClaimDue(clock_.Now(), 1, kUnlimited).at(0);
  // The claim wrote the delivery's row (deferred_rows.h) without a sync.
  sqlite::WriterStats claimed = impl().writer_stats();
  EXPECT_EQ(claimed.commits - ingested.commits, 1);
  EXPECT_EQ(claimed.synced_commits, ingested.synced_commits);
  AttemptOutcome delivered;
  delivered.delivery_id = due.delivery_id;
  delivered.attempt.at = clock_.Now();
  delivered.attempt.status = 204;
  delivered.new_state = DeliveryState::kDelivered;
  store_->RecordAttempts({delivered});
  sqlite::WriterStats recorded = impl().writer_stats();
  // The claim itself wrote nothing (claims are kept in memory, read on a
  // connection of their own); the record committed once, without a sync.
  EXPECT_EQ(recorded.commits - claimed.commits, 1);
  EXPECT_EQ(recorded.synced_commits, ingested.synced_commits);
  EXPECT_EQ(recorded.syncs, ingested.syncs);
  EXPECT_EQ(store_->GetDelivery("org_a", due.delivery_id)->state, DeliveryState::kDelivered);

  // After NORMAL commits, a durable one syncs again; and a restart finds all.
  ASSERT_TRUE(IngestSync("org_a", {Event("e2")}).ok);
  EXPECT_EQ(impl().writer_stats().synced_commits, recorded.synced_commits + 1);
  store_.reset();
  Open();
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kDelivered).size(), 1u);
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kPending).size(), 1u);
}

TEST_F(SqliteStoreTest, OutstandingIngestsShareCommits) {
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 200;
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  sqlite::WriterStats before = impl().writer_stats();

  // Clients that do not wait for one answer before sending the next (as an
  // event loop serving many connections).
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<void>> answers;
      for (int i = 0; i < kCallsPerThread; ++i) {
        auto answered = std::make_shared<std::promise<void>>();
        answers.push_back(answered->get_future());
        std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        store_->Ingest("org_a", {Event(id)}, [&ok, answered](IngestResult r) {
          if (r.ok && r.stored == 1) ++ok;
          answered->set_value();
        });
      }
      for (auto& answer : answers) answer.wait();
    });
  }
  for (std::thread& thread : threads) thread.join();

  constexpr int kCalls = kThreads * kCallsPerThread;
  int64_t commits = impl().writer_stats().commits - before.commits;
  std::printf("[ group commit ] %d outstanding ingest calls, %lld commits\n", kCalls,
              static_cast<long long>(commits));
  EXPECT_EQ(ok.load(), kCalls);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), kCalls);
  EXPECT_LT(commits, kCalls / 4);
  // Every answer came after a sync, and a sync covers every commit before it.
  sqlite::WriterStats after = impl().writer_stats();
  EXPECT_GE(after.syncs - before.syncs, 1);
  EXPECT_LE(after.syncs - before.syncs, after.synced_commits - before.synced_commits);
}

// While the sync thread syncs one commit, the writer keeps the next group's
// transaction open and runs what comes meanwhile in it: one commit and one
// sync for all of it, answered when that sync is done.
class HeldGroupTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    CreateOrg("org_a");
    CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  }
  void TearDown() override {
    writer().ReleaseSyncForTest();  // a failed expectation must not leave it held
    SqliteStoreTest::TearDown();
  }
  // Bounded waits (about 10 s) for what another thread does.
  template <typename Done>
  bool WaitFor(Done done) {
    for (int i = 0; i < 5000 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return done();
  }
  // Ingests one event and waits until the sync thread holds its commit.
  std::future<IngestResult> IngestAndHoldItsSync(const std::string& id) {
    writer().HoldSyncForTest();
    auto answer = IngestAsync({Event(id)});
    EXPECT_TRUE(WaitFor([&] { return writer().SyncingForTest(); }));
    return answer;
  }
  static bool Ready(std::future<IngestResult>& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
  // An attempt record's kind of job (not durable), waited for.
  Status RenameOrg(bool urgent) {
    return writer().RunSync(
        [](sqlite::Db& db, bool*) {
          return db.Exec("UPDATE orgs SET name = 'Renamed' WHERE id = 'org_a'", nullptr)
                     ? Status::Ok()
                     : Status::Failed("update failed");
        },
        /*durable=*/false, urgent);
  }
};

TEST_F(HeldGroupTest, JobsThatComeDuringASyncShareOneCommitAfterIt) {
  sqlite::WriterStats before = impl().writer_stats();
  auto a = IngestAndHoldItsSync("a");
  auto b = IngestAsync({Event("b")});
  auto c = IngestAsync({Event("c")});
  // The writer ran both in a transaction it keeps open: nothing committed.
  ASSERT_TRUE(WaitFor([&] { return writer().QueuedForTest() == 0; }));
  EXPECT_EQ(impl().writer_stats().commits, before.commits + 1);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 1);
  EXPECT_FALSE(Ready(a));
  EXPECT_FALSE(Ready(b));

  writer().ReleaseSyncForTest();
  EXPECT_TRUE(a.get().ok);
  IngestResult rb = b.get(), rc = c.get();
  EXPECT_TRUE(rb.ok) << rb.error;
  EXPECT_TRUE(rc.ok) << rc.error;
  EXPECT_EQ(rb.stored, 1);
  EXPECT_EQ(rc.stored, 1);
  sqlite::WriterStats after = impl().writer_stats();
  EXPECT_EQ(after.commits, before.commits + 2);  // a; then b and c together
  EXPECT_EQ(after.syncs, before.syncs + 2);
  EXPECT_GE(after.largest_group, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 3);
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"a", "b", "c"}));
}

TEST_F(HeldGroupTest, AGroupOfOnlyNonDurableJobsIsNotHeld) {
  sqlite::WriterStats before = impl().writer_stats();
  auto a = IngestAndHoldItsSync("a");
  // An attempt record's kind of job: it returns while the sync is still held.
  Status status = RenameOrg(/*urgent=*/false);
  EXPECT_TRUE(status.ok()) << status.message;
  EXPECT_TRUE(writer().SyncingForTest());
  EXPECT_FALSE(Ready(a));
  EXPECT_EQ(impl().writer_stats().commits, before.commits + 2);
  EXPECT_EQ(Count("SELECT count(*) FROM orgs WHERE name = 'Renamed'"), 1);
  writer().ReleaseSyncForTest();
  EXPECT_TRUE(a.get().ok);
}

// A claim waits for the rows a catch-up writes (deferred_rows.h), not for
// the sync of the ingests it shares a group with: an urgent job's group
// commits at once, and the job is finished at its commit.
TEST_F(HeldGroupTest, AnUrgentJobCommitsTheHeldGroupAndReturnsBeforeItsSync) {
  sqlite::WriterStats before = impl().writer_stats();
  auto a = IngestAndHoldItsSync("a");
  auto b = IngestAsync({Event("b")});
  ASSERT_TRUE(WaitFor([&] { return writer().QueuedForTest() == 0; }));  // b's group is held
  Status status = RenameOrg(/*urgent=*/true);
  EXPECT_TRUE(status.ok()) << status.message;
  EXPECT_TRUE(writer().SyncingForTest());
  EXPECT_EQ(impl().writer_stats().commits, before.commits + 2);  // a; then b with it
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 2);
  EXPECT_FALSE(Ready(b));  // b's answer still waits for its sync
  writer().ReleaseSyncForTest();
  EXPECT_TRUE(a.get().ok);
  EXPECT_TRUE(b.get().ok);
}

TEST_F(HeldGroupTest, AJobThatFailsInAHeldGroupFailsAlone) {
  sqlite::WriterStats before = impl().writer_stats();
  auto a = IngestAndHoldItsSync("a");
  auto good = IngestAsync({Event("good")});
  auto bad = IngestAsync({Event("bad1"), Event("")});  // an empty id breaks a CHECK
  auto later = IngestAsync({Event("later")});
  ASSERT_TRUE(WaitFor([&] { return writer().QueuedForTest() == 0; }));  // run while held
  writer().ReleaseSyncForTest();
  EXPECT_TRUE(a.get().ok);
  IngestResult rg = good.get(), rb = bad.get(), rl = later.get();
  EXPECT_TRUE(rg.ok) << rg.error;
  EXPECT_TRUE(rl.ok) << rl.error;
  EXPECT_FALSE(rb.ok);
  EXPECT_NE(rb.error.find("CHECK"), std::string::npos) << rb.error;
  EXPECT_GE(impl().writer_stats().groups_run_again, before.groups_run_again + 1);
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"a", "good", "later"}));
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE event_id = 'bad1'"), 0);
}

TEST_F(SqliteStoreTest, DisabledSubscriptionHoldsAndEnablingReleases) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"}, /*enabled=*/false);
  std::atomic<int> wakeups{0};
  store_->SetCommitListener([&] { ++wakeups; });

  const Millis ingested_at = clock_.Now();
  IngestResult result = IngestSync("org_a", {Event("e1"), Event("e2")});
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(result.deliveries, 2);
  EXPECT_EQ(wakeups.load(), 0);  // nothing is due
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kHeld).size(), 2u);
  EXPECT_TRUE(List("org_a", "hook", DeliveryState::kPending).empty());
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kHeld], 2);
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kPending], 0);
  EXPECT_EQ(List("org_a", "hook")[0].state, DeliveryState::kHeld);
  EXPECT_FALSE(store_->NextDueTime(0));
  EXPECT_TRUE(store_->ClaimDue(clock_.Now(), 10, kUnlimited).empty());

  // Enabled: they are due since they came, oldest first.
  clock_.Advance(60'000);
  Subscription sub = *store_->GetSubscription("org_a", "hook");
  sub.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  EXPECT_EQ(wakeups.load(), 2);  // its commit made them due; then the change itself
  std::vector<Delivery> pending = List("org_a", "hook", DeliveryState::kPending);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].next_attempt_at, ingested_at);
  EXPECT_EQ(store_->NextDueTime(0), ingested_at);
  EXPECT_TRUE(List("org_a", "hook", DeliveryState::kHeld).empty());

  // Disabling again holds pending and retrying deliveries, not in-flight ones.
  std::vector<DueDelivery> claimed = store_->ClaimDue(clock_.Now(), 2, kUnlimited);
  ASSERT_EQ(claimed.size(), 2u);
  AttemptOutcome failed;
  failed.delivery_id = claimed[0].delivery_id;
  failed.subscription_id = "hook";
  failed.attempt.at = clock_.Now();
  failed.attempt.status = 503;
  failed.new_state = DeliveryState::kRetrying;
  failed.next_attempt_at = clock_.Now() + 3'600'000;
  store_->RecordAttempts({failed});
  sub.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kHeld).size(), 1u);
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kInFlight).size(), 1u);
  EXPECT_TRUE(List("org_a", "hook", DeliveryState::kRetrying).empty());
  EXPECT_EQ(store_->GetDelivery("org_a", claimed[0].delivery_id)->state, DeliveryState::kHeld);
  EXPECT_EQ(store_->GetDelivery("org_a", claimed[1].delivery_id)->state, DeliveryState::kInFlight);

  // The in-flight one's outcome comes while disabled: held, not claimed.
  AttemptOutcome late = failed;
  late.delivery_id = claimed[1].delivery_id;
  store_->RecordAttempts({late});
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kHeld).size(), 2u);
  EXPECT_TRUE(store_->ClaimDue(clock_.Now() + 7'200'000, 10, kUnlimited).empty());

  // Enabling again sends the retrying ones now, not in an hour.
  clock_.Advance(1000);
  sub.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  std::vector<Delivery> retrying = List("org_a", "hook", DeliveryState::kRetrying);
  ASSERT_EQ(retrying.size(), 2u);
  EXPECT_EQ(retrying[0].next_attempt_at, clock_.Now());
  EXPECT_EQ(retrying[1].next_attempt_at, clock_.Now());
  EXPECT_EQ(store_->ClaimDue(clock_.Now(), 10, kUnlimited).size(), 2u);
}

// Enabling makes the retrying deliveries due now one slice per commit, the
// rest after UpdateSubscription returns; those that failed after the
// enabling keep their time. Disabling moves nothing.
TEST_F(SqliteStoreTest, EnablingReleasesRetryingDeliveriesInSlices) {
  impl().set_slice_for_test(10);
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  std::vector<NewEvent> events;
  for (int i = 0; i < 35; ++i) events.push_back(Event("e" + std::to_string(i)));
  ASSERT_TRUE(IngestSync("org_a", std::move(events)).ok);
  WriteDeferredRows("org_a", "hook");
  const Millis later = clock_.Now() + 3'600'000;
  ASSERT_TRUE(
      ExecOnWriter("UPDATE deliveries SET state = 2, next_attempt_at = " + std::to_string(later))
          .ok());
  Subscription sub = *store_->GetSubscription("org_a", "hook");
  sub.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  auto counts = [&] { return store_->CountDeliveries("org_a", "hook"); };
  EXPECT_EQ(counts()[DeliveryState::kHeld], 35);
  std::atomic<int> wakeups{0};
  store_->SetCommitListener([&] { ++wakeups; });
  // The follow-up slices run on the writer thread: wait for them, bounded.
  auto due_now = [&] {
    return Count("SELECT count(*) FROM deliveries WHERE state = 2 AND next_attempt_at <= " +
                 std::to_string(clock_.Now()));
  };
  auto settles = [&](int64_t n) {
    for (int i = 0; i < 500 && due_now() != n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return due_now() == n;
  };

  clock_.Advance(1000);
  sub.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  EXPECT_GE(due_now(), 10);  // the first slice is in the update's commit
  EXPECT_TRUE(settles(35)) << due_now();
  EXPECT_EQ(counts()[DeliveryState::kRetrying], 35);
  EXPECT_EQ(counts()[DeliveryState::kHeld], 0);
  EXPECT_EQ(Count("SELECT release_until FROM subscriptions WHERE id = 'hook'"), 0);
  EXPECT_EQ(store_->ClaimDue(clock_.Now(), 100, kUnlimited).size(), 35u);
  // The enabling (its commit, then the change), then the slices that moved
  // some: 10, 10, 5. The writer calls the listener after a commit that a
  // read may already see: wait for it, bounded.
  for (int i = 0; i < 500 && wakeups.load() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(wakeups.load(), 5);
}

// A stop between two slices of an enabling leaves its mark in the row; the
// next start goes on. Deliveries that went retrying after the enabling keep
// their time.
TEST_F(SqliteStoreTest, ARestartFinishesAnEnablingAStopInterrupted) {
  CreateOrg("org_a");
  CreateSub("org_a", "on", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1"), Event("e2"), Event("e3")}).ok);
  WriteDeferredRows("org_a", "on");
  const Millis enabled_at = clock_.Now();
  const Millis later = enabled_at + 3'600'000;
  store_.reset();
  // What a stop after the enabling's first slice would leave, written by
  // hand: e1 made due by it, e2 still waiting for its slice, e3 failed after.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  const std::string sql =
      "UPDATE subscriptions SET release_until = " + std::to_string(enabled_at) +
      ";"
      "UPDATE deliveries SET state = 2, updated_at = " +
      std::to_string(enabled_at - 10) + ", next_attempt_at = " + std::to_string(later) +
      ";"
      "UPDATE deliveries SET next_attempt_at = " +
      std::to_string(enabled_at) +
      " WHERE id = (SELECT min(id) FROM deliveries);"
      "UPDATE deliveries SET updated_at = " +
      std::to_string(enabled_at + 5) + " WHERE id = (SELECT max(id) FROM deliveries);";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  Open();
  clock_.Advance(1000);
  EXPECT_EQ(store_->ResetInFlight(), 0);  // nothing was in flight
  auto release_until = [&] {
    return Count("SELECT release_until FROM subscriptions WHERE id = 'on'");
  };
  for (int i = 0; i < 500 && release_until() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(release_until(), 0);
  std::vector<Delivery> on = List("org_a", "on", DeliveryState::kRetrying);
  ASSERT_EQ(on.size(), 3u);
  EXPECT_EQ(on[0].next_attempt_at, enabled_at);    // made due by the first slice
  EXPECT_EQ(on[1].next_attempt_at, clock_.Now());  // made due at the start
  EXPECT_EQ(on[2].next_attempt_at, later);         // failed after the enabling
  EXPECT_EQ(store_->NextDueTime(0), enabled_at);
}

// Ingest keeps each organisation's subscriptions in memory: every change to
// them must show in the next fan-out.
TEST_F(SqliteStoreTest, FanOutFollowsEverySubscriptionChange) {
  CreateOrg("org_a");
  CreateSub("org_a", "a", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  CreateSub("org_a", "b", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e2")}).ok);
  EXPECT_EQ(EventIds(List("org_a", "b")), (Strings{"e2"}));

  Subscription b = *store_->GetSubscription("org_a", "b");
  b.events = {"user.created"};
  ASSERT_TRUE(store_->UpdateSubscription(b).ok());
  ASSERT_TRUE(IngestSync("org_a", {Event("e3")}).ok);
  EXPECT_EQ(EventIds(List("org_a", "b")), (Strings{"e2"}));  // no longer matches

  ASSERT_TRUE(store_->DeleteSubscription("org_a", "b").ok());
  IngestResult r = IngestSync("org_a", {Event("e4")});
  EXPECT_EQ(r.deliveries, 1);  // only a's

  // A 410 disables "a" inside RecordAttempts: the next event is held.
  DueDelivery due = store_->ClaimDue(clock_.Now(), 1, kUnlimited).at(0);
  AttemptOutcome gone;
  gone.delivery_id = due.delivery_id;
  gone.attempt.at = clock_.Now();
  gone.attempt.status = 410;
  gone.attempt.error = "gone";
  gone.new_state = DeliveryState::kRetrying;
  gone.next_attempt_at = clock_.Now() + 1000;
  gone.signal = AttemptOutcome::Signal::kGone;
  store_->RecordAttempts({gone});
  ASSERT_FALSE(store_->GetSubscription("org_a", "a")->enabled);
  ASSERT_TRUE(IngestSync("org_a", {Event("e5")}).ok);
  auto held = List("org_a", "a", DeliveryState::kHeld);
  ASSERT_FALSE(held.empty());
  EXPECT_EQ(held.back().event_id, "e5");
}

TEST_F(SqliteStoreTest, GetOrgShowsAnUpdateAtOnce) {
  CreateOrg("org_a");
  ASSERT_EQ(store_->GetOrg("org_a")->platform_url, "https://org_a.example");
  Org org = *store_->GetOrg("org_a");
  org.platform_url = "https://renamed.example";
  ASSERT_TRUE(store_->UpdateOrg(org).ok());
  EXPECT_EQ(store_->GetOrg("org_a")->platform_url, "https://renamed.example");
  EXPECT_FALSE(store_->GetOrg("org_nope"));
  EXPECT_FALSE(store_->FindApiKey("no such hash"));
}

TEST_F(SqliteStoreTest, ClaimDueMovesDueDeliveriesToInFlight) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  clock_.Advance(10);
  ASSERT_TRUE(IngestSync("org_a", {Event("e2"), Event("e3")}).ok);

  EXPECT_TRUE(store_->ClaimDue(clock_.Now() - 11, 10, kUnlimited).empty());  // none due yet
  std::vector<DueDelivery> first = store_->ClaimDue(clock_.Now(), 2, kUnlimited);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].event_id, "e1");  // earliest first
  EXPECT_EQ(first[0].org_id, "org_a");
  EXPECT_EQ(first[0].subscription_id, "hook");
  EXPECT_EQ(first[0].attempt_count, 0);
  EXPECT_EQ(first[0].body, "{\"webhook\":\"e1\"}");
  EXPECT_EQ(store_->GetDelivery("org_a", first[0].delivery_id)->state, DeliveryState::kInFlight);

  std::vector<DueDelivery> second = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].event_id, "e3");
  EXPECT_TRUE(store_->ClaimDue(clock_.Now(), 10, kUnlimited).empty());
  EXPECT_FALSE(store_->NextDueTime(clock_.Now()));
}

// A claim reads what its deliveries send in one statement: they come back in
// due order (retries and first attempts merged), and one whose body is
// missing is left out. Outcomes that make claimed deliveries pending again
// (none the dispatcher sends today) are claimed again at once, though
// behind the claim cursor.
TEST_F(SqliteStoreTest, AClaimLoadsItsDeliveriesInDueOrderAndLeavesOutOneWithoutABody) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  std::vector<NewEvent> events;
  for (int i = 1; i <= 30; ++i) events.push_back(Event("e" + std::to_string(i)));
  ASSERT_TRUE(IngestSync("org_a", events).ok);
  // e20 and e25 failed once and are due again before all the others.
  std::vector<AttemptOutcome> retries;
  for (const DueDelivery& d : store_->ClaimDue(clock_.Now(), 30, kUnlimited)) {
    if (d.event_id != "e20" && d.event_id != "e25") {
      AttemptOutcome back;  // not sent after all: due again, as it was
      back.delivery_id = d.delivery_id;
      back.new_state = DeliveryState::kPending;
      back.next_attempt_at = clock_.Now();
      retries.push_back(back);
      continue;
    }
    AttemptOutcome failed;
    failed.delivery_id = d.delivery_id;
    failed.new_state = DeliveryState::kRetrying;
    failed.next_attempt_at = clock_.Now() - (d.event_id == "e25" ? 20 : 10);
    retries.push_back(failed);
  }
  store_->RecordAttempts(retries);
  Status status = ExecOnWriter("UPDATE events SET webhook_body = NULL WHERE event_id = 'e7'");
  ASSERT_TRUE(status.ok()) << status.message;

  std::vector<std::string> ids;
  for (const DueDelivery& d : store_->ClaimDue(clock_.Now(), 30, kUnlimited)) {
    ids.push_back(d.event_id);
    EXPECT_EQ(d.body, "{\"webhook\":\"" + d.event_id + "\"}");
    EXPECT_EQ(d.attempt_count, 1);
  }
  std::vector<std::string> expected = {"e25", "e20"};
  for (int i = 1; i <= 30; ++i) {
    if (i != 7 && i != 20 && i != 25) expected.push_back("e" + std::to_string(i));
  }
  EXPECT_EQ(ids, expected);
}

// The SQLite store keeps claims in memory: the row keeps its waiting state,
// and every read shows the delivery as in_flight until its outcome is
// recorded.
TEST_F(SqliteStoreTest, AClaimLeavesTheRowWaitingAndReadsShowItInFlight) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1"), Event("e2"), Event("e3")}).ok);
  std::vector<DueDelivery> claimed = store_->ClaimDue(clock_.Now(), 2, kUnlimited);
  ASSERT_EQ(claimed.size(), 2u);
  const int64_t id = claimed[0].delivery_id;
  EXPECT_EQ(Count("SELECT state FROM deliveries WHERE id = " + std::to_string(id)), 0);

  using Counts = std::map<DeliveryState, int64_t>;
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook"), (Counts{{DeliveryState::kPending, 1},
                                                              {DeliveryState::kInFlight, 2},
                                                              {DeliveryState::kRetrying, 0},
                                                              {DeliveryState::kHeld, 0},
                                                              {DeliveryState::kDelivered, 0},
                                                              {DeliveryState::kDead, 0}}));
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kInFlight).size(), 2u);
  std::vector<Delivery> pending = List("org_a", "hook", DeliveryState::kPending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].event_id, "e3");
  std::vector<Delivery> all = List("org_a", "hook", std::nullopt);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].state, DeliveryState::kInFlight);
  EXPECT_EQ(all[2].state, DeliveryState::kPending);
  EXPECT_EQ(store_->RetryDelivery("org_a", id).code, Status::Code::kConflict);

  AttemptOutcome done;
  done.delivery_id = id;
  done.subscription_id = "hook";
  done.new_state = DeliveryState::kDelivered;
  done.attempt.at = clock_.Now();
  done.attempt.status = 204;
  store_->RecordAttempts({done});
  EXPECT_EQ(store_->GetDelivery("org_a", id)->state, DeliveryState::kDelivered);
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kInFlight).size(), 1u);
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kInFlight], 1);
}

// Disabling and enabling again while a request is open moves the claimed
// row to held and back to pending, due now; it must not be claimed a second
// time, and its outcome still lands.
TEST_F(SqliteStoreTest, AClaimedDeliveryIsNotClaimedAgainAfterADisableAndEnable) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  std::vector<DueDelivery> claimed = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  ASSERT_EQ(claimed.size(), 1u);
  Subscription sub = *store_->GetSubscription("org_a", "hook");
  sub.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  EXPECT_EQ(store_->GetDelivery("org_a", claimed[0].delivery_id)->state,
            DeliveryState::kInFlight);
  sub.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  clock_.Advance(10);
  EXPECT_TRUE(store_->ClaimDue(clock_.Now(), 10, kUnlimited).empty());
  EXPECT_FALSE(store_->NextDueTime(clock_.Now()));

  AttemptOutcome done;
  done.delivery_id = claimed[0].delivery_id;
  done.subscription_id = "hook";
  done.new_state = DeliveryState::kDelivered;
  done.attempt.at = clock_.Now();
  store_->RecordAttempts({done});
  EXPECT_EQ(store_->GetDelivery("org_a", claimed[0].delivery_id)->state,
            DeliveryState::kDelivered);
  EXPECT_TRUE(store_->ClaimDue(clock_.Now(), 10, kUnlimited).empty());
}

// The log lines written while it lives (the sink before it comes back when
// it goes, whatever way the test ends).
class CapturedLog {
 public:
  CapturedLog()
      : previous_(SetLogSink([this](std::string_view line) {
          std::lock_guard lock(mu_);
          lines_.emplace_back(line);
        })) {}
  ~CapturedLog() { SetLogSink(std::move(previous_)); }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
  LogSink previous_;
};

// A new database's schema steps pass in silence; an existing one's upgrade
// says what the start waits for, step by step.
TEST(SqliteDbTest, OnlyAnUpgradeLogsItsSchemaSteps) {
  CapturedLog log;
  const fs::path path =
      fs::temp_directory_path() / ("punt_db_steps_" + std::to_string(getpid()) + ".db");
  auto migrate = [&](int version) {
    std::string error;
    std::unique_ptr<sqlite::Db> db = sqlite::Db::Open(path.string(), &error);
    ASSERT_NE(db, nullptr) << error;
    ASSERT_TRUE(sqlite::ConfigureConnection(*db, /*reader=*/false, &error)) << error;
    int applied = 0;
    ASSERT_TRUE(sqlite::MigrateTo(*db, version, &applied, &error)) << error;
  };
  migrate(sqlite::LatestSchemaVersion());  // new: every step, none logged
  EXPECT_TRUE(log.lines().empty()) << log.lines().front();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);

  migrate(1);  // new, then upgraded
  EXPECT_TRUE(log.lines().empty()) << log.lines().front();
  migrate(sqlite::LatestSchemaVersion());
  const std::vector<std::string> lines = log.lines();
  const size_t steps = static_cast<size_t>(sqlite::LatestSchemaVersion() - 1);
  ASSERT_EQ(lines.size(), 2 * steps);
  EXPECT_NE(lines[0].find("\"msg\":\"upgrading the database schema\""), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("\"from\":1,\"to\":2"), std::string::npos) << lines[0];
  EXPECT_NE(lines.back().find("\"msg\":\"database schema upgraded\""), std::string::npos)
      << lines.back();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
}

// The writer's automatic checkpoints wait for kCheckpointPages WAL pages,
// not SQLite's 1,000: three commits of ~800 pages each are all still in the
// WAL (with 1,000, the second commit's checkpoint would have copied them and
// the third would have started the WAL again from its start). A read
// connection does not checkpoint on its own.
TEST(SqliteDbTest, TheWriterCheckpointsOnlyAfterItsManyWalPages) {
  const fs::path path =
      fs::temp_directory_path() / ("punt_db_checkpoint_" + std::to_string(getpid()) + ".db");
  std::string error;
  std::unique_ptr<sqlite::Db> db = sqlite::Db::Open(path.string(), &error);
  ASSERT_NE(db, nullptr) << error;
  ASSERT_TRUE(sqlite::ConfigureConnection(*db, /*reader=*/false, &error)) << error;
  auto autocheckpoint = [](sqlite::Db& connection) {
    sqlite::Query q = connection.Prepare("PRAGMA wal_autocheckpoint");
    return q.Step() ? q.Int(0) : -1;
  };
  EXPECT_EQ(autocheckpoint(*db), sqlite::kCheckpointPages);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (b BLOB)", &error)) << error;
  for (int commit = 0; commit < 3; ++commit) {
    ASSERT_TRUE(
        db->Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                 "WHERE i < 800) INSERT INTO t SELECT randomblob(3500) FROM n",
                 &error))
        << error;
  }
  {
    sqlite::Query checkpoint = db->Prepare("PRAGMA wal_checkpoint(PASSIVE)");
    ASSERT_TRUE(checkpoint.Step());
    EXPECT_GE(checkpoint.Int(1), 2400);  // the WAL's frames, none copied before this
  }
  db.reset();

  std::unique_ptr<sqlite::Db> reader = sqlite::Db::Open(path.string(), &error);
  ASSERT_NE(reader, nullptr) << error;
  ASSERT_TRUE(sqlite::ConfigureConnection(*reader, /*reader=*/true, &error)) << error;
  EXPECT_EQ(autocheckpoint(*reader), 1000);  // SQLite's default; it writes nothing
  reader.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
}

// A read connection logs its failures, with SQLite's error and the
// statement; the writer's come back as a Status.
TEST(SqliteDbTest, AReadConnectionLogsItsFailures) {
  CapturedLog log;
  const fs::path path =
      fs::temp_directory_path() / ("punt_db_log_" + std::to_string(getpid()) + ".db");
  std::string error;
  std::unique_ptr<sqlite::Db> db = sqlite::Db::Open(path.string(), &error);
  ASSERT_NE(db, nullptr) << error;
  auto fail_twice = [&] {
    EXPECT_FALSE(db->Prepare("SELECT * FROM missing").ok());  // fails as it is prepared
    sqlite::Query overflow = db->Prepare("SELECT abs(-9223372036854775807 - 1)");
    EXPECT_FALSE(overflow.Step());  // fails as it runs
    EXPECT_FALSE(overflow.ok());
  };
  fail_twice();
  EXPECT_TRUE(log.lines().empty());

  db->set_log_errors(true);
  fail_twice();
  const std::vector<std::string> lines = log.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("\"msg\":\"a database read failed\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("no such table: missing"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("integer overflow"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("SELECT abs("), std::string::npos) << lines[1];
  db.reset();
  fs::remove(path);
}

// The dispatcher gives back what it claimed and did not send (its
// subscription changed): no attempt, the rows wait as they were, and the
// next claim returns them even after a claim that moved the cursor past.
TEST_F(SqliteStoreTest, ReleasedClaimsWaitAgainWithoutAnAttempt) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1"), Event("e2"), Event("e3")}).ok);
  std::vector<DueDelivery> first = store_->ClaimDue(clock_.Now(), 2, kUnlimited);
  ASSERT_EQ(first.size(), 2u);
  std::vector<DueDelivery> second = store_->ClaimDue(clock_.Now(), 2, kUnlimited);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].event_id, "e3");
  const uint64_t changes = store_->SubscriptionChanges();

  store_->ReleaseClaims(first);
  for (const DueDelivery& d : first) {
    Delivery read = *store_->GetDelivery("org_a", d.delivery_id);
    EXPECT_EQ(read.state, DeliveryState::kPending);
    EXPECT_EQ(read.attempt_count, 0);
    EXPECT_TRUE(read.attempts.empty());
  }
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kInFlight], 1);
  std::vector<DueDelivery> again = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].event_id, "e1");
  EXPECT_EQ(again[1].event_id, "e2");
  EXPECT_EQ(store_->SubscriptionChanges(), changes);  // releasing changes no subscription

  Subscription sub = *store_->GetSubscription("org_a", "hook");
  sub.url = "https://elsewhere.example/hook";
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  EXPECT_GT(store_->SubscriptionChanges(), changes);
}

// The dispatcher reads again only the subscriptions that changed, as long as
// the store remembers which; a disable by a 410 counts as a change.
TEST_F(SqliteStoreTest, NamesTheSubscriptionsChangedSinceACount) {
  CreateOrg("org_a");
  CreateSub("org_a", "a", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "b", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "c", SubscriptionKind::kWebhook, {"*"});
  auto changed_since = [&](uint64_t since) {
    std::vector<std::string> ids;
    EXPECT_TRUE(store_->SubscriptionsChangedSince(since, &ids));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  };
  const uint64_t start = store_->SubscriptionChanges();
  EXPECT_TRUE(changed_since(start).empty());

  Subscription a = *store_->GetSubscription("org_a", "a");
  a.url = "https://elsewhere.example/a";
  ASSERT_TRUE(store_->UpdateSubscription(a).ok());
  const uint64_t after_a = store_->SubscriptionChanges();
  ASSERT_TRUE(store_->DeleteSubscription("org_a", "b").ok());
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  std::vector<DueDelivery> due = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  auto to_c = std::find_if(due.begin(), due.end(),
                           [](const DueDelivery& d) { return d.subscription_id == "c"; });
  ASSERT_NE(to_c, due.end());
  AttemptOutcome gone;
  gone.delivery_id = to_c->delivery_id;
  gone.subscription_id = "c";
  gone.attempt = {0, clock_.Now(), 410, 3, "", ""};
  gone.new_state = DeliveryState::kDead;
  gone.signal = AttemptOutcome::Signal::kGone;
  store_->RecordAttempts({gone});
  ASSERT_FALSE(store_->GetSubscription("org_a", "c")->enabled);

  EXPECT_EQ(changed_since(start), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(changed_since(after_a), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(changed_since(store_->SubscriptionChanges()).empty());

  // Beyond what it remembers, it says so, and names nothing.
  static_cast<sqlite::SqliteStore&>(*store_).set_changes_kept_for_test(2);
  a.description = "once more";
  ASSERT_TRUE(store_->UpdateSubscription(a).ok());
  std::vector<std::string> ids;
  EXPECT_FALSE(store_->SubscriptionsChangedSince(start, &ids));
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(changed_since(store_->SubscriptionChanges() - 1), (std::vector<std::string>{"a"}));
}

// Once the writer refuses every write, no outcome could be recorded: the
// store claims nothing more, so nothing more is sent.
TEST_F(SqliteStoreTest, NothingIsClaimedOnceTheWriterRefuses) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  impl().writer_for_test().FailNextCommitForTest();
  EXPECT_FALSE(IngestSync("org_a", {Event("e2")}).ok);
  EXPECT_TRUE(store_->ClaimDue(clock_.Now(), 10, kUnlimited).empty());
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kPending], 1);
}

// Claims read on their own connection while the writer commits outcomes:
// a delivery is never claimed twice, and every one is claimed once.
TEST_F(SqliteStoreTest, ClaimsBesideCommittingOutcomesNeverTakeADeliveryTwice) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  std::vector<NewEvent> events;
  for (int i = 0; i < 400; ++i) events.push_back(Event("e" + std::to_string(i)));
  ASSERT_TRUE(IngestSync("org_a", std::move(events)).ok);
  std::mutex mu;
  std::vector<DueDelivery> to_record;  // protected by mu
  std::atomic<bool> claiming{true};
  std::thread recorder([&] {
    while (true) {
      std::vector<DueDelivery> batch;
      {
        std::lock_guard lock(mu);
        batch.swap(to_record);
      }
      if (batch.empty() && !claiming) return;
      if (batch.empty()) std::this_thread::yield();
      std::vector<AttemptOutcome> outcomes;
      for (const DueDelivery& d : batch) {
        AttemptOutcome o;
        o.delivery_id = d.delivery_id;
        o.subscription_id = d.subscription_id;
        o.new_state = DeliveryState::kDelivered;
        o.attempt.at = clock_.Now();
        outcomes.push_back(o);
      }
      if (!outcomes.empty()) store_->RecordAttempts(std::move(outcomes));
    }
  });
  std::map<int64_t, int> times_claimed;
  for (int round = 0; round < 2000 && times_claimed.size() < 400; ++round) {
    for (DueDelivery& d : store_->ClaimDue(clock_.Now(), 7, kUnlimited)) {
      ++times_claimed[d.delivery_id];
      std::lock_guard lock(mu);
      to_record.push_back(std::move(d));
    }
  }
  claiming = false;
  recorder.join();
  EXPECT_EQ(times_claimed.size(), 400u);
  for (const auto& [id, n] : times_claimed) EXPECT_EQ(n, 1) << "delivery " << id;
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kDelivered], 400);
}

// A row an older punt wrote as in_flight (it claimed by writing the row) is
// moved back at start like before.
TEST_F(SqliteStoreTest, ResetInFlightMovesRowsAnOlderPuntLeftInFlight) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1"), Event("e2")}).ok);
  WriteDeferredRows("org_a", "hook");
  store_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE deliveries SET state = 1", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  Open();
  EXPECT_EQ(store_->ResetInFlight(), 2);
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kPending).size(), 2u);
  EXPECT_EQ(store_->ClaimDue(clock_.Now(), 10, kUnlimited).size(), 2u);
}

TEST_F(SqliteStoreTest, ClaimDueCountsRequestsAndAnXapiRequestCarriesABatch) {
  CreateOrg("org_a");
  Subscription lrs = MakeSub("org_a", "lrs", SubscriptionKind::kXapi, {"*"});
  lrs.batch_size = 3;
  ASSERT_TRUE(store_->CreateSubscription(lrs).ok());
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  std::vector<NewEvent> events;
  for (int i = 0; i < 10; ++i) events.push_back(Event("e" + std::to_string(i)));
  ASSERT_TRUE(IngestSync("org_a", std::move(events)).ok);

  // Two requests' worth each: six statements for the LRS, two webhooks.
  auto two_slots = [](const std::string&, int, int) { return 2; };
  std::vector<DueDelivery> due = store_->ClaimDue(clock_.Now(), 4, two_slots);
  std::map<std::string, int> by_sub;
  for (const auto& d : due) ++by_sub[d.subscription_id];
  EXPECT_EQ(by_sub["lrs"], 6);
  EXPECT_EQ(by_sub["hook"], 2);
  // The total limit counts requests too: one request is one batch of 3.
  due = store_->ClaimDue(clock_.Now(), 1, two_slots);
  ASSERT_FALSE(due.empty());
  EXPECT_EQ(due.size(), due[0].subscription_id == "lrs" ? 3u : 1u);
}

TEST_F(SqliteStoreTest, ASplitBatchOnlyLogsItsAttempt) {
  CreateOrg("org_a");
  CreateSub("org_a", "lrs", SubscriptionKind::kXapi, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  DueDelivery due = store_->ClaimDue(clock_.Now(), 1, kUnlimited).at(0);
  AttemptOutcome split;
  split.delivery_id = due.delivery_id;
  split.attempt.at = clock_.Now();
  split.attempt.status = 400;
  split.attempt.error = "the LRS refused a batch of 2 statements whole";
  split.new_state = DeliveryState::kInFlight;
  AttemptOutcome gone = split;
  gone.delivery_id = 999'999;  // skipped, not an error
  store_->RecordAttempts({split, gone});

  Delivery d = *store_->GetDelivery("org_a", due.delivery_id);
  EXPECT_EQ(d.state, DeliveryState::kInFlight);
  EXPECT_EQ(d.attempt_count, 0);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].status, 400);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 1);
  EXPECT_EQ(store_->GetSubscription("org_a", "lrs")->consecutive_failures, 0);
}

TEST_F(SqliteStoreTest, RecordAttemptsLogsTheAttemptAndMovesTheState) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  DueDelivery due = store_->ClaimDue(clock_.Now(), 1, kUnlimited).at(0);

  AttemptOutcome failed;
  failed.delivery_id = due.delivery_id;
  failed.attempt.at = clock_.Now();
  failed.attempt.status = 503;
  failed.attempt.latency_ms = 12;
  failed.attempt.error = "service unavailable";
  failed.attempt.response = std::string(5000, 'r');
  failed.new_state = DeliveryState::kRetrying;
  failed.next_attempt_at = clock_.Now() + 5000;
  store_->RecordAttempts({failed});

  Delivery d = *store_->GetDelivery("org_a", due.delivery_id);
  EXPECT_EQ(d.state, DeliveryState::kRetrying);
  EXPECT_EQ(d.attempt_count, 1);
  EXPECT_EQ(d.next_attempt_at, clock_.Now() + 5000);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].status, 503);
  EXPECT_EQ(d.attempts[0].latency_ms, 12);
  EXPECT_EQ(d.attempts[0].error, "service unavailable");
  EXPECT_EQ(d.attempts[0].response, std::string(4096, 'r'));
  EXPECT_EQ(store_->NextDueTime(0), clock_.Now() + 5000);

  EXPECT_TRUE(store_->ClaimDue(clock_.Now(), 10, kUnlimited).empty());
  clock_.Advance(5000);
  std::vector<DueDelivery> retry = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].attempt_count, 1);

  AttemptOutcome delivered;
  delivered.delivery_id = due.delivery_id;
  delivered.attempt.at = clock_.Now();
  delivered.attempt.status = 204;
  delivered.new_state = DeliveryState::kDelivered;
  store_->RecordAttempts({delivered});
  d = *store_->GetDelivery("org_a", due.delivery_id);
  EXPECT_EQ(d.state, DeliveryState::kDelivered);
  EXPECT_EQ(d.attempt_count, 2);
  ASSERT_EQ(d.attempts.size(), 2u);
  EXPECT_EQ(d.attempts[0].status, 503);
  EXPECT_EQ(d.attempts[1].status, 204);
  EXPECT_FALSE(store_->NextDueTime(0));
}

// The attempt that delivers a delivery is kept in the delivery's row, not
// as a row of attempts (schema step 6); reads show it like any other. An
// admin's retry moves it to attempts, so the next success has the slot and
// both stay, in order.
TEST_F(SqliteStoreTest, TheDeliveringAttemptIsKeptInTheRowAndSurvivesARetry) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  const int64_t id = store_->ClaimDue(clock_.Now(), 1, kUnlimited).at(0).delivery_id;
  auto deliver = [&](int status, const std::string& response) {
    AttemptOutcome ok;
    ok.delivery_id = id;
    ok.attempt.at = clock_.Now();
    ok.attempt.status = status;
    ok.attempt.latency_ms = 7;
    ok.attempt.response = response;
    ok.new_state = DeliveryState::kDelivered;
    store_->RecordAttempts({ok});
  };
  deliver(200, "thanks " + std::string(5000, 'x'));
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 0);
  Delivery d = *store_->GetDelivery("org_a", id);
  EXPECT_EQ(d.state, DeliveryState::kDelivered);
  EXPECT_EQ(d.attempt_count, 1);
  ASSERT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(d.attempts[0].at, clock_.Now());
  EXPECT_EQ(d.attempts[0].status, 200);
  EXPECT_EQ(d.attempts[0].latency_ms, 7);
  EXPECT_EQ(d.attempts[0].error, "");
  EXPECT_EQ(d.attempts[0].response, ("thanks " + std::string(5000, 'x')).substr(0, 4096));

  clock_.Advance(1000);
  ASSERT_TRUE(store_->RetryDelivery("org_a", id).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 1);  // the first success, moved
  ASSERT_EQ(store_->ClaimDue(clock_.Now(), 1, kUnlimited).size(), 1u);
  deliver(204, "");
  d = *store_->GetDelivery("org_a", id);
  EXPECT_EQ(d.attempt_count, 2);
  ASSERT_EQ(d.attempts.size(), 2u);
  EXPECT_EQ(d.attempts[0].status, 200);
  EXPECT_EQ(d.attempts[0].at, clock_.Now() - 1000);
  EXPECT_EQ(d.attempts[0].response.substr(0, 6), "thanks");
  EXPECT_EQ(d.attempts[1].status, 204);
  EXPECT_EQ(d.attempts[1].at, clock_.Now());
  EXPECT_EQ(d.attempts[1].response, "");
}

TEST_F(SqliteStoreTest, RecordAttemptsHoldsWhenTheSubscriptionWasDisabledMeanwhile) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  DueDelivery due = store_->ClaimDue(clock_.Now(), 1, kUnlimited).at(0);
  Subscription sub = *store_->GetSubscription("org_a", "hook");
  sub.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());

  AttemptOutcome outcome;
  outcome.delivery_id = due.delivery_id;
  outcome.attempt.status = 500;
  outcome.new_state = DeliveryState::kRetrying;
  outcome.next_attempt_at = clock_.Now() + 1000;
  AttemptOutcome gone = outcome;
  gone.delivery_id = 999'999;  // skipped, not an error
  store_->RecordAttempts({outcome, gone});
  Delivery d = *store_->GetDelivery("org_a", due.delivery_id);
  EXPECT_EQ(d.state, DeliveryState::kHeld);
  EXPECT_EQ(d.attempts.size(), 1u);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 1);
}

TEST_F(SqliteStoreTest, ResetInFlightForgetsClaimsAndACrashLeavesTheirRowsWaiting) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "off", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1"), Event("e2")}).ok);
  ASSERT_EQ(store_->ClaimDue(clock_.Now(), 10, kUnlimited).size(), 4u);
  EXPECT_FALSE(store_->NextDueTime(clock_.Now()));
  Subscription off = *store_->GetSubscription("org_a", "off");
  off.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(off).ok());

  // A crash here, then a restart.
  store_.reset();
  Open();
  // Claims are kept in memory (claimed_set.h): the rows still wait, nothing
  // has to move back.
  EXPECT_EQ(store_->ResetInFlight(), 0);
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kPending).size(), 2u);
  EXPECT_EQ(List("org_a", "off", DeliveryState::kHeld).size(), 2u);
  EXPECT_EQ(store_->NextDueTime(0), clock_.Now());
  EXPECT_EQ(store_->ClaimDue(clock_.Now(), 10, kUnlimited).size(), 2u);
  EXPECT_EQ(store_->ResetInFlight(), 2);
  EXPECT_EQ(store_->ResetInFlight(), 0);
}

TEST_F(SqliteStoreTest, NextDueTimeIsTheEarliestWaitingDeliveryAfterTheGivenTime) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  EXPECT_FALSE(store_->NextDueTime(0));
  Millis start = clock_.Now();
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);
  clock_.Advance(100);
  ASSERT_TRUE(IngestSync("org_a", {Event("e2")}).ok);
  EXPECT_EQ(store_->NextDueTime(0), start);

  EXPECT_EQ(store_->NextDueTime(start), start + 100);
  EXPECT_FALSE(store_->NextDueTime(start + 100));

  // The claimed delivery was due at the claim's time: not after it.
  DueDelivery first = store_->ClaimDue(start, 1, kUnlimited).at(0);
  EXPECT_EQ(store_->NextDueTime(start), start + 100);
  AttemptOutcome soon;
  soon.delivery_id = first.delivery_id;
  soon.new_state = DeliveryState::kRetrying;
  soon.next_attempt_at = start + 50;  // a retry earlier than the pending one
  store_->RecordAttempts({soon});
  EXPECT_EQ(store_->NextDueTime(start), start + 50);
}

// Each enabled subscription is looked at (one seek per waiting state);
// a disabled subscription's deliveries are held and never due.
TEST_F(SqliteStoreTest, NextDueTimeIsTheEarliestOfEveryEnabledSubscription) {
  CreateOrg("org_a");
  CreateSub("org_a", "early", SubscriptionKind::kWebhook, {"lesson.completed"});
  CreateSub("org_a", "late", SubscriptionKind::kWebhook, {"lesson.viewed"});
  CreateSub("org_a", "off", SubscriptionKind::kWebhook, {"*"});
  Subscription off = *store_->GetSubscription("org_a", "off");
  off.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(off).ok());
  const Millis start = clock_.Now();
  ASSERT_TRUE(IngestSync("org_a", {Event("e1", "lesson.completed")}).ok);
  clock_.Advance(100);
  ASSERT_TRUE(IngestSync("org_a", {Event("e2", "lesson.viewed")}).ok);
  clock_.Advance(100);
  ASSERT_TRUE(IngestSync("org_a", {Event("e3", "lesson.completed")}).ok);

  EXPECT_EQ(store_->NextDueTime(0), start);
  EXPECT_EQ(store_->NextDueTime(start), start + 100);        // late's only one
  EXPECT_EQ(store_->NextDueTime(start + 100), start + 200);  // early's second
  EXPECT_FALSE(store_->NextDueTime(start + 200));            // off's are held

  // Retries count as much as first attempts, whichever subscription they
  // belong to.
  std::vector<DueDelivery> due = store_->ClaimDue(start + 200, 10, kUnlimited);
  ASSERT_EQ(due.size(), 3u);
  std::vector<AttemptOutcome> outcomes;
  for (const DueDelivery& d : due) {
    AttemptOutcome outcome;
    outcome.delivery_id = d.delivery_id;
    outcome.new_state = DeliveryState::kRetrying;
    outcome.next_attempt_at = d.subscription_id == "late" ? start + 150 : start + 300;
    outcomes.push_back(outcome);
  }
  store_->RecordAttempts(outcomes);
  EXPECT_EQ(store_->NextDueTime(start + 100), start + 150);
  EXPECT_EQ(store_->NextDueTime(start + 150), start + 300);
  EXPECT_FALSE(store_->NextDueTime(start + 300));
}

// Regression: an update made from a copy read before another change
// committed wrote the copy's every field back: a PATCH of the description
// re-enabled a subscription another admin (or a 410) had just disabled, and
// re-queued its dead deliveries. With the copy as read, it is a Conflict.
TEST_F(SqliteStoreTest, AnUpdateFromAStaleReadIsAConflict) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  std::optional<Subscription> read = store_->GetSubscription("org_a", "hook");
  ASSERT_TRUE(read);

  clock_.Advance(5);
  Subscription off = *read;
  off.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(off, &*read).ok());  // first: as read

  Subscription described = *read;
  described.description = "x";
  Status stale = store_->UpdateSubscription(described, &*read);
  EXPECT_EQ(stale.code, Status::Code::kConflict) << stale.message;
  std::optional<Subscription> now = store_->GetSubscription("org_a", "hook");
  EXPECT_FALSE(now->enabled);
  EXPECT_EQ(now->description, read->description);

  // Read again, the same change goes through.
  described = *now;
  described.description = "x";
  EXPECT_TRUE(store_->UpdateSubscription(described, &*now).ok());
  EXPECT_EQ(store_->GetSubscription("org_a", "hook")->description, "x");
  EXPECT_FALSE(store_->GetSubscription("org_a", "hook")->enabled);
}

// Regression: the stale-read check compared updated_at, which has
// millisecond resolution: two PATCHes read in the same millisecond as the
// last change both passed it, and the second wrote the first's field back
// (a lost update). Every change now moves updated_at on.
TEST_F(SqliteStoreTest, TwoUpdatesFromOneReadInTheSameMillisecondConflict) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  std::optional<Subscription> read = store_->GetSubscription("org_a", "hook");
  ASSERT_TRUE(read);

  Subscription described = *read;  // the clock does not move: the same millisecond
  described.description = "first";
  ASSERT_TRUE(store_->UpdateSubscription(described, &*read).ok());

  Subscription moved = *read;
  moved.url = "https://receiver.example/moved";
  Status stale = store_->UpdateSubscription(moved, &*read);
  EXPECT_EQ(stale.code, Status::Code::kConflict) << stale.message;
  std::optional<Subscription> now = store_->GetSubscription("org_a", "hook");
  EXPECT_EQ(now->description, "first");
  EXPECT_GT(now->updated_at, read->updated_at);
}

TEST_F(SqliteStoreTest, DeleteSubscriptionRemovesItsDeliveriesAndAttempts) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "keep", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1"), Event("e2")}).ok);
  std::vector<DueDelivery> due = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  std::vector<AttemptOutcome> outcomes;
  for (const DueDelivery& d : due) {
    AttemptOutcome o;
    o.delivery_id = d.delivery_id;
    // e1's attempt is kept in its delivery's row, e2's as a row of attempts.
    o.new_state = d.event_id == "e1" ? DeliveryState::kDelivered : DeliveryState::kRetrying;
    o.next_attempt_at = clock_.Now() + 1000;
    outcomes.push_back(o);
  }
  store_->RecordAttempts(outcomes);
  ASSERT_EQ(Count("SELECT count(*) FROM attempts"), 2);

  ASSERT_TRUE(store_->DeleteSubscription("org_a", "hook").ok());
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 2);  // events stay for replay
}

// Regression: delivery ids are rowids, so once a deleted subscription's
// deliveries held the highest ids, the next delivery of another subscription
// took one again. That id was still claimed for the deleted one (its request
// open): the new delivery read as in_flight, no claim took it, and the old
// request's answer was recorded on it ("delivered", never sent).
TEST_F(SqliteStoreTest, ADeletedSubscriptionsOpenClaimLeavesAnIdUsedAgainAlone) {
  CreateOrg("org_a");
  CreateSub("org_a", "keep", SubscriptionKind::kWebhook, {"user.created"});
  CreateSub("org_a", "gone", SubscriptionKind::kWebhook, {"lesson.completed"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1", "lesson.completed")}).ok);
  std::vector<DueDelivery> claimed = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  ASSERT_EQ(claimed.size(), 1u);
  const int64_t gone_id = claimed[0].delivery_id;
  ASSERT_TRUE(store_->DeleteSubscription("org_a", "gone").ok());  // its request still open
  ASSERT_TRUE(IngestSync("org_a", {Event("u1", "user.created")}).ok);
  std::vector<Delivery> keep = List("org_a", "keep");
  ASSERT_EQ(keep.size(), 1u);
  ASSERT_EQ(keep[0].id, gone_id);  // the case at hand: the id came again
  EXPECT_EQ(keep[0].state, DeliveryState::kPending);

  // The answer to the deleted subscription's request comes in.
  AttemptOutcome outcome;
  outcome.delivery_id = gone_id;
  outcome.subscription_id = "gone";
  outcome.attempt.at = clock_.Now();
  outcome.attempt.status = 200;
  outcome.new_state = DeliveryState::kDelivered;
  outcome.next_attempt_at = clock_.Now();
  outcome.signal = AttemptOutcome::Signal::kSuccess;
  store_->RecordAttempts({outcome});
  EXPECT_EQ(List("org_a", "keep")[0].state, DeliveryState::kPending);
  EXPECT_EQ(store_->CountDeliveries("org_a", "keep")[DeliveryState::kDelivered], 0);

  // keep's delivery is claimed as its own, and the deleted one's answer
  // does not release that claim either.
  std::vector<DueDelivery> again = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].subscription_id, "keep");
  store_->RecordAttempts({outcome});
  EXPECT_EQ(List("org_a", "keep")[0].state, DeliveryState::kInFlight);
  EXPECT_TRUE(store_->ClaimDue(clock_.Now(), 10, kUnlimited).empty());
}

// Deleting a subscription with more deliveries than a slice: it is gone from
// every read and from fan-out at once; its deliveries and attempts go in
// follow-up commits, the row last.
TEST_F(SqliteStoreTest, DeleteSubscriptionGoesAtOnceAndItsDeliveriesInSlices) {
  impl().set_slice_for_test(2);
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "keep", SubscriptionKind::kWebhook, {"*"});
  std::vector<NewEvent> events;
  for (int i = 0; i < 7; ++i) events.push_back(Event("e" + std::to_string(i)));
  ASSERT_TRUE(IngestSync("org_a", events).ok);
  std::vector<AttemptOutcome> outcomes;
  for (const DueDelivery& d : store_->ClaimDue(clock_.Now(), 100, kUnlimited)) {
    AttemptOutcome o;
    o.delivery_id = d.delivery_id;
    o.new_state = DeliveryState::kRetrying;
    o.next_attempt_at = clock_.Now() + 1000;
    outcomes.push_back(o);
  }
  ASSERT_EQ(outcomes.size(), 14u);
  store_->RecordAttempts(outcomes);
  int64_t a_delivery = List("org_a", "hook").at(0).id;

  ASSERT_TRUE(store_->DeleteSubscription("org_a", "hook").ok());

  EXPECT_FALSE(store_->GetSubscription("org_a", "hook"));
  ASSERT_EQ(store_->ListSubscriptions("org_a").size(), 1u);
  EXPECT_EQ(store_->ListSubscriptions("org_a")[0].id, "keep");
  EXPECT_TRUE(List("org_a", "hook").empty());
  EXPECT_FALSE(store_->GetDelivery("org_a", a_delivery));
  EXPECT_TRUE(store_->CountDeliveries("org_a", "hook").empty());
  EXPECT_EQ(store_->RetryDelivery("org_a", a_delivery).code, Status::Code::kNotFound);
  EXPECT_EQ(std::get<Status>(store_->ReplaySync("org_a", "hook", 0, clock_.Now() + 1)).code,
            Status::Code::kNotFound);
  EXPECT_EQ(store_->UpdateSubscription(MakeSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"}))
                .code,
            Status::Code::kNotFound);
  EXPECT_EQ(store_->DeleteSubscription("org_a", "hook").code, Status::Code::kNotFound);
  EXPECT_EQ(IngestSync("org_a", {Event("late")}).deliveries, 1);  // only keep's
  clock_.Advance(1000);
  for (const DueDelivery& d : store_->ClaimDue(clock_.Now(), 100, kUnlimited)) {
    EXPECT_EQ(d.subscription_id, "keep");
  }

  ASSERT_TRUE(WaitUntilGone("hook"));
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries WHERE subscription_id = 'hook'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 8);  // keep's 7 and the late one
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 7);    // keep's
}

// One slice deletes at most `slice` deliveries, and the subscription's row
// only with the last, short one.
TEST_F(SqliteStoreTest, ADeletionSliceTakesASliceAndTheRowLast) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1"), Event("e2"), Event("e3"), Event("e4"),
                                   Event("e5")})
                  .ok);
  WriteDeferredRows("org_a", "hook");
  auto slice = [&](bool* gone) {
    return impl().writer_for_test().RunSync([gone](sqlite::Db& db, bool*) {
      return sqlite::DeleteDeliveriesSlice(db, "hook", 2, gone);
    });
  };
  ASSERT_TRUE(ExecOnWriter("UPDATE subscriptions SET deleted_at = 1, enabled = 0").ok());
  for (int64_t left : {3, 1}) {
    bool gone = true;
    ASSERT_TRUE(slice(&gone).ok());
    EXPECT_FALSE(gone);
    EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), left);
    EXPECT_EQ(Count("SELECT count(*) FROM subscriptions"), 1);
  }
  bool gone = false;
  ASSERT_TRUE(slice(&gone).ok());
  EXPECT_TRUE(gone);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM subscriptions"), 0);
}

// A stop in the middle of a deletion leaves the mark and some deliveries: the
// next start deletes the rest.
TEST_F(SqliteStoreTest, ARestartGoesOnDeletingASubscription) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1"), Event("e2"), Event("e3")}).ok);
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE subscriptions SET deleted_at = 1, enabled = 0", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  Open();
  impl().set_slice_for_test(2);
  EXPECT_TRUE(store_->ListSubscriptions("org_a").empty());
  EXPECT_EQ(store_->ResetInFlight(), 0);
  ASSERT_TRUE(WaitUntilGone("hook"));
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 3);  // events stay for replay
}

TEST_F(SqliteStoreTest, ListDeliveriesPagesWithACursor) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  std::vector<NewEvent> events;
  for (int i = 1; i <= 7; ++i) events.push_back(Event("e" + std::to_string(i)));
  ASSERT_TRUE(IngestSync("org_a", events).ok);

  DeliveryQuery query;
  query.org_id = "org_a";
  query.subscription_id = "hook";
  query.limit = 3;
  std::vector<std::string> seen;
  std::vector<size_t> page_sizes;
  for (;;) {
    std::vector<Delivery> page = store_->ListDeliveries(query);
    if (page.empty()) break;
    page_sizes.push_back(page.size());
    for (const Delivery& d : page) seen.push_back(d.event_id);
    query.after_id = page.back().id;
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{3, 3, 1}));
  EXPECT_EQ(seen, (Strings{"e1", "e2", "e3", "e4", "e5", "e6", "e7"}));

  query.after_id = 0;
  query.limit = 0;  // clamped to 1
  EXPECT_EQ(store_->ListDeliveries(query).size(), 1u);
  query.limit = 10'000;  // clamped to 500
  EXPECT_EQ(store_->ListDeliveries(query).size(), 7u);

  ASSERT_EQ(store_->ClaimDue(clock_.Now(), 2, kUnlimited).size(), 2u);
  query.state = DeliveryState::kInFlight;
  EXPECT_EQ(EventIds(store_->ListDeliveries(query)), (Strings{"e1", "e2"}));
  query.state = DeliveryState::kPending;
  EXPECT_EQ(store_->ListDeliveries(query).size(), 5u);
}

TEST_F(SqliteStoreTest, ReopenKeepsDataAndDoesNotRerunMigrations) {
  EXPECT_EQ(impl().migrations_applied(), sqlite::LatestSchemaVersion());
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("e1")}).ok);

  store_.reset();
  Open();
  EXPECT_EQ(impl().migrations_applied(), 0);
  EXPECT_EQ(Count("PRAGMA user_version"), sqlite::LatestSchemaVersion());
  EXPECT_TRUE(store_->GetOrg("org_a"));
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"e1"}));
  IngestResult again = IngestSync("org_a", {Event("e1")});
  EXPECT_EQ(again.duplicates, 1);
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerPunt) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  std::string error;
  EXPECT_EQ(OpenSqliteStore(path(), clock_, &error), nullptr);
  EXPECT_NE(error.find("newer punt"), std::string::npos) << error;
}

// Schema step 9 rewrites every event's row: the WAL it grows is emptied when
// the upgrade is done, not kept as large as the database while punt runs.
TEST_F(SqliteStoreTest, AnUpgradeDoesNotLeaveItsWalBehind) {
  store_.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path() + suffix);
  {
    std::string error;
    std::unique_ptr<sqlite::Db> db = sqlite::Db::Open(path(), &error);
    ASSERT_NE(db, nullptr) << error;
    int applied = 0;
    ASSERT_TRUE(sqlite::ConfigureConnection(*db, /*reader=*/false, &error)) << error;
    ASSERT_TRUE(sqlite::MigrateTo(*db, 8, &applied, &error)) << error;
    ASSERT_TRUE(
        db->Exec("INSERT INTO orgs (id, name, platform_url, created_at, updated_at) "
                 "VALUES ('org_a', 'Org a', 'https://a.example', 0, 0);"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                 "INSERT INTO events (seq, org_id, event_id, type, occurred_at, accepted_at) "
                 "SELECT i, 'org_a', 'e' || i, 'lesson.completed', 0, 0 FROM n;"
                 "INSERT INTO bodies (event_seq, format, body) SELECT seq, 0, randomblob(1000) "
                 "FROM events;"
                 "PRAGMA wal_checkpoint(TRUNCATE);",
                 &error))
        << error;
  }
  Open();
  EXPECT_EQ(impl().migrations_applied(), sqlite::LatestSchemaVersion() - 8);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE length(webhook_body) = 1000"), 2000);
  EXPECT_GT(fs::file_size(path()), 2'000'000u);
  EXPECT_LT(fs::file_size(path() + "-wal"), 100'000u);
}

// A database an older punt left at schema version 1, with deliveries in
// every state, moves to the partial due indexes of version 2 and then claims,
// counts and enables as before.
TEST_F(SqliteStoreTest, MigratesAVersion1DatabaseThatThenClaimsAndCounts) {
  store_.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path() + suffix);
  const Millis now = clock_.Now();
  {
    std::string error;
    std::unique_ptr<sqlite::Db> db = sqlite::Db::Open(path(), &error);
    ASSERT_NE(db, nullptr) << error;
    int applied = 0;
    ASSERT_TRUE(sqlite::ConfigureConnection(*db, /*reader=*/false, &error)) << error;
    ASSERT_TRUE(sqlite::MigrateTo(*db, 1, &applied, &error)) << error;
    ASSERT_EQ(applied, 1);
    // "hook" is enabled, "off" disabled.
    struct Row {
      int id;
      std::string sub;
      int event_seq;
      DeliveryState state;
      Millis due_in;
    };
    const Row rows[] = {{1, "hook", 1, DeliveryState::kPending, -100},
                        {2, "hook", 2, DeliveryState::kRetrying, -200},
                        {3, "hook", 3, DeliveryState::kRetrying, 60'000},
                        {4, "hook", 4, DeliveryState::kInFlight, 0},
                        {5, "hook", 5, DeliveryState::kDelivered, 0},
                        {6, "hook", 6, DeliveryState::kDead, 0},
                        {7, "hook", 7, DeliveryState::kDelivered, 0},
                        {8, "off", 1, DeliveryState::kHeld, -300},
                        {9, "off", 2, DeliveryState::kHeld, -300}};
    std::string deliveries;
    for (const Row& r : rows) {
      deliveries += (deliveries.empty() ? "(" : ", (") + std::to_string(r.id) + ", '" + r.sub +
                    "', " + std::to_string(r.event_seq) + ", " +
                    std::to_string(static_cast<int>(r.state)) + ", " +
                    std::to_string(now + r.due_in) + ")";
    }
    std::string sql =
        "INSERT INTO orgs (id, name, platform_url, created_at, updated_at) "
        "VALUES ('org_a', 'Org a', 'https://a.example', 0, 0);"
        "INSERT INTO subscriptions (id, org_id, kind, url, description, events, enabled, "
        "xapi_version, token_sealed, secret_sealed, token_hint, max_in_flight, batch_size, "
        "created_at, updated_at) VALUES "
        "('hook', 'org_a', 'webhook', 'https://r.example/hook', '', '[\"*\"]', 1, '1.0.3', "
        "x'', x'', '', 8, 1, 0, 0), "
        "('off', 'org_a', 'webhook', 'https://r.example/off', '', '[\"*\"]', 0, '1.0.3', "
        "x'', x'', '', 8, 1, 0, 0);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 7) "
        "INSERT INTO events (seq, org_id, event_id, type, occurred_at, accepted_at) "
        "SELECT i, 'org_a', 'e' || i, 'lesson.completed', 0, 0 FROM n;"
        "INSERT INTO bodies (event_seq, format, body) SELECT seq, 0, 'body ' || event_id "
        "FROM events;"
        "INSERT INTO bodies (event_seq, format, body) VALUES (3, 1, 'statement e3');"
        "INSERT INTO deliveries (id, subscription_id, event_seq, state, next_attempt_at, "
        "created_at, updated_at) SELECT column1, column2, column3, column4, column5, 0, 0 "
        "FROM (VALUES " +
        deliveries + ");";
    ASSERT_TRUE(db->Exec(sql, &error)) << error;
  }
  Open();
  EXPECT_EQ(impl().migrations_applied(), sqlite::LatestSchemaVersion() - 1);
  EXPECT_EQ(Count("PRAGMA user_version"), sqlite::LatestSchemaVersion());
  EXPECT_EQ(Count("SELECT count(*) FROM sqlite_master WHERE name IN "
                  "('deliveries_due', 'deliveries_due_by_subscription')"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM sqlite_master WHERE name IN "
                  "('deliveries_waiting_by_subscription', 'deliveries_in_flight_held_dead')"),
            2);
  EXPECT_EQ(Count("SELECT count(*) FROM sqlite_master WHERE name = 'deliveries_waiting'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries WHERE state = 3"), 0);  // step 7
  EXPECT_EQ(Count("SELECT count(*) FROM pragma_index_info('deliveries_in_flight_held_dead') "
                  "WHERE name = 'updated_at'"),
            1);  // step 8
  // Step 9: the webhook bodies are in the events' rows, the statements in a
  // table of their own; `bodies` and the index by event are gone.
  EXPECT_EQ(Count("SELECT count(*) FROM sqlite_master WHERE name IN "
                  "('bodies', 'deliveries_by_event')"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE webhook_body = 'body ' || event_id"), 7);
  EXPECT_EQ(Count("SELECT event_seq FROM statements WHERE body = 'statement e3'"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM statements"), 1);
  // Step 10: every subscription has the rows of every event stored before.
  EXPECT_EQ(Count("SELECT count(*) FROM subscriptions WHERE rows_through = 7"), 2);

  using Counts = std::map<DeliveryState, int64_t>;
  EXPECT_EQ(store_->CountDeliveries("org_a", "off")[DeliveryState::kHeld], 2);
  EXPECT_EQ(List("org_a", "off", DeliveryState::kHeld).size(), 2u);
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook"), (Counts{{DeliveryState::kPending, 1},
                                                              {DeliveryState::kInFlight, 1},
                                                              {DeliveryState::kRetrying, 2},
                                                              {DeliveryState::kHeld, 0},
                                                              {DeliveryState::kDelivered, 2},
                                                              {DeliveryState::kDead, 1}}));
  EXPECT_EQ(store_->NextDueTime(0), now - 200);

  // Retries and first attempts merged by due time; the held ones of "off",
  // though due earlier, stay.
  std::vector<DueDelivery> claimed = store_->ClaimDue(now, 10, kUnlimited);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].event_id, "e2");
  EXPECT_EQ(claimed[0].body, "body e2");
  EXPECT_EQ(claimed[1].event_id, "e1");
  EXPECT_EQ(store_->NextDueTime(now), now + 60'000);
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook"), (Counts{{DeliveryState::kPending, 0},
                                                              {DeliveryState::kInFlight, 3},
                                                              {DeliveryState::kRetrying, 1},
                                                              {DeliveryState::kHeld, 0},
                                                              {DeliveryState::kDelivered, 2},
                                                              {DeliveryState::kDead, 1}}));

  AttemptOutcome delivered;
  delivered.delivery_id = claimed[0].delivery_id;
  delivered.attempt.at = now;
  delivered.attempt.status = 204;
  delivered.new_state = DeliveryState::kDelivered;
  store_->RecordAttempts({delivered});
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kDelivered], 3);
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kInFlight], 2);

  Subscription off = *store_->GetSubscription("org_a", "off");
  off.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(off).ok());
  EXPECT_EQ(store_->CountDeliveries("org_a", "off"), (Counts{{DeliveryState::kPending, 2},
                                                             {DeliveryState::kInFlight, 0},
                                                             {DeliveryState::kRetrying, 0},
                                                             {DeliveryState::kHeld, 0},
                                                             {DeliveryState::kDelivered, 0},
                                                             {DeliveryState::kDead, 0}}));
  EXPECT_EQ(EventIds(List("org_a", "off", DeliveryState::kPending)), (Strings{"e1", "e2"}));
  EXPECT_EQ(store_->ClaimDue(now, 10, kUnlimited).size(), 2u);

  EXPECT_EQ(store_->ResetInFlight(), 4);  // e1, e4 of "hook"; e1, e2 of "off"
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kPending], 2);
  EXPECT_EQ(store_->CountDeliveries("org_a", "off")[DeliveryState::kPending], 2);
  // A new event's deliveries get their rows after the old ones', once each.
  ASSERT_TRUE(IngestSync("org_a", {Event("e8")}).ok);
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kPending], 3);
  EXPECT_EQ(store_->CountDeliveries("org_a", "off")[DeliveryState::kPending], 3);
  EXPECT_EQ(Count("SELECT count(*) FROM deliveries"), 11);
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotADatabase) {
  store_.reset();
  fs::remove(path());
  fs::remove(path() + "-wal");
  fs::remove(path() + "-shm");
  {
    std::FILE* f = std::fopen(path().c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a database, just some text that is long enough......", f);
    std::fclose(f);
  }
  std::string error;
  EXPECT_EQ(OpenSqliteStore(path(), clock_, &error), nullptr);
  EXPECT_FALSE(error.empty());
}

// A failed fdatasync may have lost what it should have made durable, and a
// later one cannot tell: the jobs waiting on it fail and the writer takes
// nothing more (as after a failed commit).
TEST_F(SqliteStoreTest, FailedSyncFailsWhatWaitedForItAndRefusesEveryLaterWrite) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  DueDelivery due = [&] {
    EXPECT_TRUE(IngestSync("org_a", {Event("e0")}).ok);
    return store_->ClaimDue(clock_.Now(), 1, kUnlimited).at(0);
  }();
  LogCapture log;
  impl().writer_for_test().FailNextSyncForTest();
  IngestResult unsynced = IngestSync("org_a", {Event("e1")});
  EXPECT_FALSE(unsynced.ok);
  EXPECT_NE(unsynced.error.find("durable"), std::string::npos) << unsynced.error;

  Status later = store_->UpdateOrg(*store_->GetOrg("org_a"));
  EXPECT_EQ(later.code, Status::Code::kFailed);
  EXPECT_NE(later.message.find("refuses writes"), std::string::npos) << later.message;
  EXPECT_FALSE(IngestSync("org_a", {Event("e2")}).ok);
  AttemptOutcome delivered;  // a record is refused too (it goes again after a restart)
  delivered.delivery_id = due.delivery_id;
  delivered.attempt.at = clock_.Now();
  delivered.attempt.status = 204;
  delivered.new_state = DeliveryState::kDelivered;
  store_->RecordAttempts({delivered});
  EXPECT_EQ(store_->GetDelivery("org_a", due.delivery_id)->state, DeliveryState::kInFlight);
  // The operator hears of it once, not at every refused write.
  auto told = log.With("refuses every write until punt restarts");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_NE(told[0].find("a sync of the WAL failed"), std::string::npos) << told[0];
  EXPECT_NE(told[0].find("injected sync failure"), std::string::npos) << told[0];
}

TEST_F(SqliteStoreTest, FailedCommitRefusesEveryLaterWrite) {
  CreateOrg("org_a");
  LogCapture log;
  impl().writer_for_test().FailNextCommitForTest();
  IngestResult lost = IngestSync("org_a", {Event("e1")});
  EXPECT_FALSE(lost.ok);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 0);

  Status later = store_->UpdateOrg(*store_->GetOrg("org_a"));  // reads still work
  EXPECT_EQ(later.code, Status::Code::kFailed);
  EXPECT_NE(later.message.find("refuses writes"), std::string::npos) << later.message;
  EXPECT_FALSE(IngestSync("org_a", {Event("e2")}).ok);
  EXPECT_TRUE(store_->ClaimDue(clock_.Now(), 10, kUnlimited).empty());
  EXPECT_EQ(store_->ResetInFlight(), -1);
  auto told = log.With("refuses every write until punt restarts");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_NE(told[0].find("a commit failed"), std::string::npos) << told[0];
}

// Subscription health, kept from attempt outcomes (DESIGN.md section 3).
class SqliteHealthTest : public SqliteStoreTest {
 protected:
  using Signal = AttemptOutcome::Signal;

  void SetUp() override {
    SqliteStoreTest::SetUp();
    CreateOrg("org_a");
    CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  }

  // Ingests one event and claims its delivery.
  DueDelivery IngestAndClaim(const std::string& event_id) {
    EXPECT_TRUE(IngestSync("org_a", {Event(event_id)}).ok);
    auto due = store_->ClaimDue(clock_.Now(), 1, kUnlimited);
    EXPECT_EQ(due.size(), 1u);
    return due.empty() ? DueDelivery{} : due[0];
  }

  void Record(const DueDelivery& due, DeliveryState state, Signal signal, int status,
              Millis disable_before = 0, Millis sent_to_version = 0) {
    AttemptOutcome outcome;
    outcome.subscription_updated_at = sent_to_version;
    outcome.delivery_id = due.delivery_id;
    outcome.attempt.at = clock_.Now();
    outcome.attempt.status = status;
    outcome.attempt.error = status == 410 ? "the receiver answered 410 Gone" : "";
    outcome.new_state = state;
    outcome.next_attempt_at = clock_.Now() + 5000;
    outcome.signal = signal;
    outcome.disable_if_failing_since_before = disable_before;
    store_->RecordAttempts({outcome});
  }

  Subscription Sub() { return *store_->GetSubscription("org_a", "hook"); }
};

TEST_F(SqliteHealthTest, FailuresThenASuccess) {
  Millis start = clock_.Now();
  Record(IngestAndClaim("e1"), DeliveryState::kRetrying, Signal::kFailure, 500);
  clock_.Advance(1000);
  Record(IngestAndClaim("e2"), DeliveryState::kRetrying, Signal::kFailure, 503);
  Subscription failing = Sub();
  EXPECT_EQ(HealthState(failing), "failing");
  EXPECT_EQ(failing.consecutive_failures, 2);
  EXPECT_EQ(failing.failing_since, start);
  EXPECT_EQ(failing.last_failure_at, start + 1000);

  clock_.Advance(1000);
  Record(IngestAndClaim("e3"), DeliveryState::kDelivered, Signal::kSuccess, 204);
  Subscription healthy = Sub();
  EXPECT_EQ(HealthState(healthy), "healthy");
  EXPECT_EQ(healthy.consecutive_failures, 0);
  EXPECT_EQ(healthy.failing_since, 0);
  EXPECT_EQ(healthy.last_success_at, start + 2000);
  EXPECT_EQ(healthy.last_failure_at, start + 1000);
}

TEST_F(SqliteHealthTest, CredentialsRefusedIsShownUntilASuccess) {
  Record(IngestAndClaim("e1"), DeliveryState::kRetrying, Signal::kCredentialsRefused, 401);
  EXPECT_EQ(HealthState(Sub()), "credentials_refused");
  EXPECT_TRUE(Sub().enabled);
  Record(IngestAndClaim("e2"), DeliveryState::kDelivered, Signal::kSuccess, 200);
  EXPECT_EQ(HealthState(Sub()), "healthy");
}

TEST_F(SqliteHealthTest, GoneDisablesAndHoldsTheRest) {
  DueDelivery gone = IngestAndClaim("e1");
  ASSERT_TRUE(IngestSync("org_a", {Event("e2"), Event("e3")}).ok);
  Record(gone, DeliveryState::kRetrying, Signal::kGone, 410);
  Subscription sub = Sub();
  EXPECT_FALSE(sub.enabled);
  EXPECT_EQ(HealthState(sub), "disabled");
  EXPECT_EQ(sub.disabled_reason, "the receiver answered 410 Gone");
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kHeld).size(), 3u);
  EXPECT_TRUE(store_->ClaimDue(clock_.Now() + 10000, 10, kUnlimited).empty());
}

// Regression: a 410 from the URL a subscription had before a PATCH (the
// dispatcher had not seen the PATCH yet) disabled the moved subscription.
// A 410 disables only the subscription as the request was sent to it.
TEST_F(SqliteHealthTest, GoneDisablesOnlyTheSubscriptionAsTheRequestWasSentToIt) {
  const Millis sent_to = Sub().updated_at;
  DueDelivery gone = IngestAndClaim("e1");
  clock_.Advance(1000);
  Subscription moved = Sub();
  moved.url = "https://moved.example/hook";
  moved.updated_at = clock_.Now();
  ASSERT_TRUE(store_->UpdateSubscription(moved).ok());
  Record(gone, DeliveryState::kRetrying, Signal::kGone, 410, 0, sent_to);
  Subscription after = Sub();
  EXPECT_TRUE(after.enabled) << after.disabled_reason;
  EXPECT_EQ(after.consecutive_failures, 1);  // a failed attempt all the same

  // A 410 from the subscription as it is now disables it.
  Record(IngestAndClaim("e2"), DeliveryState::kRetrying, Signal::kGone, 410, 0, after.updated_at);
  EXPECT_FALSE(Sub().enabled);
  EXPECT_EQ(Sub().disabled_reason, "the receiver answered 410 Gone");
}

// Regression: PATCH answered with a read made after its commit, so a failed
// attempt of a delivery the enabling had made due could show in the answer
// as "failing". as_stored is read in the change's own transaction.
TEST_F(SqliteHealthTest, UpdateSubscriptionGivesTheSubscriptionAsItsChangeLeftIt) {
  Record(IngestAndClaim("e1"), DeliveryState::kRetrying, Signal::kFailure, 500);
  clock_.Advance(1000);
  Subscription sub = Sub();
  ASSERT_EQ(HealthState(sub), "failing");
  const Subscription as_read = sub;
  sub.enabled = false;
  Subscription stored;
  ASSERT_TRUE(store_->UpdateSubscription(sub, &as_read, &stored).ok());
  EXPECT_EQ(HealthState(stored), "disabled");
  EXPECT_EQ(stored.disabled_reason, "disabled by an admin");
  EXPECT_GT(stored.updated_at, as_read.updated_at);
  EXPECT_EQ(stored, Sub());

  clock_.Advance(1000);
  const Subscription disabled = stored;
  Subscription on = disabled;
  on.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(on, &disabled, &stored).ok());
  EXPECT_EQ(HealthState(stored), "healthy");
  EXPECT_EQ(stored.consecutive_failures, 0);
  EXPECT_EQ(stored.failing_since, 0);
  EXPECT_TRUE(stored.enabled);
  EXPECT_EQ(stored, Sub());

  // The retrying delivery is due at once; its next failure comes after the
  // change and is not in what the change gave back.
  DueDelivery again = store_->ClaimDue(clock_.Now(), 1, kUnlimited).at(0);
  Record(again, DeliveryState::kRetrying, Signal::kFailure, 500);
  EXPECT_EQ(HealthState(Sub()), "failing");
  EXPECT_EQ(HealthState(stored), "healthy");
}

// A 410 holds a large backlog slice by slice, after the record's commit.
TEST_F(SqliteHealthTest, GoneHoldsALargeBacklogInSlices) {
  impl().set_slice_for_test(2);
  DueDelivery gone = IngestAndClaim("e1");
  ASSERT_TRUE(IngestSync("org_a", {Event("e2"), Event("e3"), Event("e4"), Event("e5"),
                                   Event("e6"), Event("e7")})
                  .ok);
  Record(gone, DeliveryState::kRetrying, Signal::kGone, 410);
  EXPECT_FALSE(Sub().enabled);
  for (int i = 0; i < 500 && List("org_a", "hook", DeliveryState::kHeld).size() < 7; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kHeld).size(), 7u);
  EXPECT_TRUE(List("org_a", "hook", DeliveryState::kPending).empty());
  EXPECT_FALSE(store_->NextDueTime(0));
}

TEST_F(SqliteHealthTest, DisabledAfterFailingForTooLong) {
  constexpr Millis kFiveDays = 5LL * 24 * 3600 * 1000;
  Record(IngestAndClaim("e1"), DeliveryState::kRetrying, Signal::kFailure, 500,
         clock_.Now() - kFiveDays);
  EXPECT_TRUE(Sub().enabled);
  clock_.Advance(kFiveDays + 1000);
  Record(IngestAndClaim("e2"), DeliveryState::kRetrying, Signal::kFailure, 500,
         clock_.Now() - kFiveDays);
  Subscription sub = Sub();
  EXPECT_FALSE(sub.enabled);
  EXPECT_NE(sub.disabled_reason.find("failing since"), std::string::npos) << sub.disabled_reason;
}

TEST_F(SqliteHealthTest, EnablingRequeuesWhatDiedWhileFailing) {
  DueDelivery before = IngestAndClaim("e0");
  Record(before, DeliveryState::kDead, Signal::kNone, 422);  // died while healthy: stays dead
  clock_.Advance(1000);
  Record(IngestAndClaim("e1"), DeliveryState::kDead, Signal::kFailure, 500);
  ASSERT_TRUE(IngestSync("org_a", {Event("e2")}).ok);

  Subscription sub = Sub();
  sub.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  EXPECT_EQ(Sub().disabled_reason, "disabled by an admin");
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kHeld).size(), 1u);

  sub.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  auto pending = List("org_a", "hook", DeliveryState::kPending);
  ASSERT_EQ(pending.size(), 2u);  // e1 and e2
  ASSERT_EQ(List("org_a", "hook", DeliveryState::kDead).size(), 1u);
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kDead)[0].event_id, "e0");
  EXPECT_EQ(HealthState(Sub()), "healthy");
  EXPECT_EQ(Sub().disabled_reason, "");
  // Re-queued, e1 starts the schedule afresh (it kept its used-up count, so
  // one more failure ended it), its attempt still in its log.
  for (const Delivery& d : pending) EXPECT_EQ(d.attempt_count, 0) << d.event_id;
  auto e1 = std::find_if(pending.begin(), pending.end(),
                         [](const Delivery& d) { return d.event_id == "e1"; });
  ASSERT_NE(e1, pending.end());
  EXPECT_EQ(store_->GetDelivery("org_a", e1->id)->attempts.size(), 1u);
}

// Many deliveries died while failing: enabling re-queues them a slice per
// commit, and a stop in the middle leaves the window for the next start.
TEST_F(SqliteHealthTest, EnablingRequeuesALargeBacklogOfDeadInSlices) {
  impl().set_slice_for_test(2);
  Record(IngestAndClaim("e0"), DeliveryState::kDead, Signal::kNone, 422);  // stays dead
  clock_.Advance(1000);
  for (int i = 1; i <= 7; ++i) {
    Record(IngestAndClaim("e" + std::to_string(i)), DeliveryState::kDead, Signal::kFailure, 500);
  }
  Subscription sub = Sub();
  sub.enabled = false;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  sub.enabled = true;
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  EXPECT_EQ(HealthState(Sub()), "healthy");
  for (int i = 0; i < 500 && List("org_a", "hook", DeliveryState::kPending).size() < 7; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kPending).size(), 7u);
  ASSERT_EQ(List("org_a", "hook", DeliveryState::kDead).size(), 1u);
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kDead)[0].event_id, "e0");
  for (int i = 0; i < 500 && Count("SELECT requeue_until FROM subscriptions") != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Count("SELECT requeue_until FROM subscriptions"), 0);  // the window is closed

  // What a stop after the first slice would leave, written by hand.
  Millis since = clock_.Now();
  clock_.Advance(1000);
  for (int i = 8; i <= 12; ++i) {
    Record(IngestAndClaim("e" + std::to_string(i)), DeliveryState::kDead, Signal::kFailure, 500);
  }
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  std::string window = "UPDATE subscriptions SET failing_since = 0, requeue_since = " +
                       std::to_string(since) + ", requeue_until = " +
                       std::to_string(clock_.Now());
  ASSERT_EQ(sqlite3_exec(db, window.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Open();
  impl().set_slice_for_test(2);
  EXPECT_EQ(store_->ResetInFlight(), 0);
  for (int i = 0; i < 500 && List("org_a", "hook", DeliveryState::kDead).size() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kDead).size(), 1u);  // e0 only
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kPending).size(), 12u);
}

// Regression: ingest's subscriptions are loaded inside the group's
// transaction. When a job of the group failed, the writer rolled back and
// ran the group again job by job, but an earlier ingest then found what a
// later job's load had left: a subscription created after it (its
// deliveries broke the foreign key and the valid ingest failed) or a filter
// changed after it (its event missed its delivery).
class GroupRunAgainTest : public SqliteStoreTest {
 protected:
  void WaitQueued(size_t n) {
    for (int i = 0; i < 5000 && writer().QueuedForTest() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_EQ(writer().QueuedForTest(), n);
  }
  // One group: an ingest of event "a", then `change`, then an ingest of
  // `later`, then a job that fails, so the writer runs the group again job
  // by job. The first ingest's result.
  IngestResult RunGroup(const std::function<Status()>& change, NewEvent later) {
    writer().PauseForTest();
    auto first = IngestAsync({Event("a")});
    WaitQueued(1);
    auto changed = std::async(std::launch::async, change);
    WaitQueued(2);
    auto second = IngestAsync({std::move(later)});
    WaitQueued(3);
    auto failed = FailingJob();
    WaitQueued(4);
    writer().ResumeForTest();
    IngestResult result = first.get();
    EXPECT_TRUE(changed.get().ok());
    EXPECT_TRUE(second.get().ok);
    EXPECT_FALSE(failed.get().ok());
    EXPECT_EQ(impl().writer_stats().groups_run_again, 1);
    return result;
  }
  std::future<Status> FailingJob() {
    auto promise = std::make_shared<std::promise<Status>>();
    std::future<Status> failed = promise->get_future();
    writer().Submit({[](sqlite::Db&, bool*) { return Status::Conflict("fails"); },
                     [promise](const Status& s) { promise->set_value(s); }, true});
    return failed;
  }
};

TEST_F(GroupRunAgainTest, AnIngestDoesNotSeeASubscriptionCreatedAfterIt) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(IngestSync("org_a", {Event("warm")}).ok);  // loaded: {hook}
  IngestResult first = RunGroup(
      [&] {
        return store_->CreateSubscription(
            MakeSub("org_a", "late", SubscriptionKind::kWebhook, {"*"}));
      },
      Event("c"));  // the second ingest loads {hook, late}
  EXPECT_TRUE(first.ok) << first.error;
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"warm", "a", "c"}));
  EXPECT_EQ(EventIds(List("org_a", "late")), (Strings{"c"}));
}

TEST_F(GroupRunAgainTest, AnIngestKeepsTheFilterOfItsPlaceInTheGroup) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"lesson.completed"});
  ASSERT_TRUE(IngestSync("org_a", {Event("warm")}).ok);
  Subscription changed = MakeSub("org_a", "hook", SubscriptionKind::kWebhook, {"term.searched"});
  IngestResult first =
      RunGroup([&] { return store_->UpdateSubscription(changed); }, Event("c", "term.searched"));
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.deliveries, 1);  // event "a" matched hook where it stood
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"warm", "a", "c"}));
}

}  // namespace
}  // namespace punt::store
