// The operator actions of the store (DESIGN.md section 3): retry one
// delivery, replay a window of accepted events, count deliveries by state,
// and list deliveries by time.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_store_impl.h"
#include "store_fixture.h"
#include "util/clock.h"

namespace punt::store {
namespace {

using Strings = std::vector<std::string>;

using testing::kUnlimited;

class StoreOperationsTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    store_->SetCommitListener([this] { ++wakeups_; });
  }

  void Ingest(const std::string& org, std::vector<NewEvent> events) {
    IngestResult result = IngestSync(org, std::move(events));
    ASSERT_TRUE(result.ok) << result.error;
  }

  int64_t OnlyDeliveryId(const std::string& org, const std::string& sub) {
    std::vector<Delivery> all = List(org, sub);
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? 0 : all[0].id;
  }

  // Puts a delivery into `state` through a connection of its own, as the
  // dispatcher's attempts would have (the states are the store's to keep;
  // this only sets the scene).
  void ForceState(int64_t id, DeliveryState state) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    std::string sql = "UPDATE deliveries SET state = " + std::to_string(static_cast<int>(state)) +
                      ", attempt_count = 3 " + "WHERE id = " + std::to_string(id);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }

  std::atomic<int> wakeups_{0};
};

// ------------------------------------------------------------------ retry

TEST_F(StoreOperationsTest, RetryOfADeadDeliveryMakesItPendingAndDueNow) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  Ingest("org_a", {Event("e1")});
  int64_t id = OnlyDeliveryId("org_a", "hook");
  ASSERT_EQ(store_->ClaimDue(clock_.Now(), 10, kUnlimited).size(), 1u);
  AttemptOutcome dead;
  dead.delivery_id = id;
  dead.subscription_id = "hook";
  dead.new_state = DeliveryState::kDead;
  dead.attempt.at = clock_.Now();
  store_->RecordAttempts({dead});
  ForceState(id, DeliveryState::kDead);  // and its schedule used up
  EXPECT_FALSE(store_->NextDueTime(0));

  clock_.Advance(3'600'000);
  int before = wakeups_.load();
  Status status = store_->RetryDelivery("org_a", id);
  ASSERT_TRUE(status.ok()) << status.message;
  EXPECT_EQ(wakeups_.load(), before + 1);

  std::optional<Delivery> d = store_->GetDelivery("org_a", id);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, DeliveryState::kPending);
  EXPECT_EQ(d->next_attempt_at, clock_.Now());
  EXPECT_EQ(d->updated_at, clock_.Now());
  EXPECT_EQ(d->attempt_count, 3);  // the count goes on
  EXPECT_EQ(store_->NextDueTime(0), clock_.Now());
  std::vector<DueDelivery> due = store_->ClaimDue(clock_.Now(), 10, kUnlimited);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].delivery_id, id);
  EXPECT_EQ(due[0].body, "{\"webhook\":\"e1\"}");
}

TEST_F(StoreOperationsTest, RetryWorksFromEveryStateButInFlight) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  Ingest("org_a", {Event("e1")});
  int64_t id = OnlyDeliveryId("org_a", "hook");
  for (DeliveryState state : {DeliveryState::kDelivered, DeliveryState::kRetrying,
                              DeliveryState::kPending, DeliveryState::kHeld}) {
    ForceState(id, state);
    Status status = store_->RetryDelivery("org_a", id);
    ASSERT_TRUE(status.ok()) << StateName(state) << ": " << status.message;
    EXPECT_EQ(store_->GetDelivery("org_a", id)->state, DeliveryState::kPending) << StateName(state);
  }
}

TEST_F(StoreOperationsTest, RetryConflictsWhileInFlight) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  Ingest("org_a", {Event("e1")});
  int64_t id = OnlyDeliveryId("org_a", "hook");
  ASSERT_EQ(store_->ClaimDue(clock_.Now(), 10, kUnlimited).size(), 1u);

  Status status = store_->RetryDelivery("org_a", id);
  EXPECT_EQ(status.code, Status::Code::kConflict) << status.message;
  EXPECT_EQ(store_->GetDelivery("org_a", id)->state, DeliveryState::kInFlight);
}

TEST_F(StoreOperationsTest, RetryIsScopedToTheOrganisation) {
  CreateOrg("org_a");
  CreateOrg("org_b");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  Ingest("org_a", {Event("e1")});
  int64_t id = OnlyDeliveryId("org_a", "hook");
  ForceState(id, DeliveryState::kDead);

  EXPECT_EQ(store_->RetryDelivery("org_b", id).code, Status::Code::kNotFound);
  EXPECT_EQ(store_->RetryDelivery("org_a", id + 1000).code, Status::Code::kNotFound);
  EXPECT_EQ(store_->GetDelivery("org_a", id)->state, DeliveryState::kDead);
}

TEST_F(StoreOperationsTest, RetryForADisabledSubscriptionHoldsAndWakesNobody) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"}, /*enabled=*/false);
  Ingest("org_a", {Event("e1")});
  int64_t id = OnlyDeliveryId("org_a", "hook");
  ForceState(id, DeliveryState::kDead);

  int before = wakeups_.load();
  ASSERT_TRUE(store_->RetryDelivery("org_a", id).ok());
  EXPECT_EQ(store_->GetDelivery("org_a", id)->state, DeliveryState::kHeld);
  EXPECT_EQ(wakeups_.load(), before);
  EXPECT_FALSE(store_->NextDueTime(0));
}

// ----------------------------------------------------------------- replay

// Four events accepted at t0, t0+10, t0+20 and t0+30 ms, all before the
// subscription existed.
class ReplayTest : public StoreOperationsTest {
 protected:
  void SetUp() override {
    StoreOperationsTest::SetUp();
    CreateOrg("org_a");
    CreateOrg("org_b");
    t0_ = clock_.Now();
    for (const char* id : {"e0", "e1", "e2", "e3"}) {
      Ingest("org_a", {Event(id)});
      clock_.Advance(10);
    }
    Ingest("org_b", {Event("b1")});
    clock_.Advance(1000);
  }

  std::variant<int64_t, Status> Replay(const std::string& sub, Millis since, Millis until,
                                       const std::string& org = "org_a") {
    return store_->ReplaySync(org, sub, since, until);
  }

  Millis t0_ = 0;
};

TEST_F(ReplayTest, WindowIsSinceInclusiveUntilExclusiveAndReachesBeforeTheSubscription) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  ASSERT_TRUE(List("org_a", "hook").empty());  // created after the events

  int before = wakeups_.load();
  auto result = Replay("hook", t0_ + 10, t0_ + 30);
  ASSERT_TRUE(std::holds_alternative<int64_t>(result)) << std::get<Status>(result).message;
  EXPECT_EQ(std::get<int64_t>(result), 2);
  EXPECT_EQ(wakeups_.load(), before + 1);

  std::vector<Delivery> replayed = List("org_a", "hook");
  EXPECT_EQ(EventIds(replayed), (Strings{"e1", "e2"}));
  for (const Delivery& d : replayed) {
    EXPECT_EQ(d.state, DeliveryState::kPending);
    EXPECT_EQ(d.next_attempt_at, clock_.Now());
    EXPECT_EQ(d.attempt_count, 0);
  }

  // The edges one by one, and an empty window.
  EXPECT_EQ(std::get<int64_t>(Replay("hook", t0_, t0_ + 1)), 1);        // e0 exactly at since
  EXPECT_EQ(std::get<int64_t>(Replay("hook", t0_ + 1, t0_ + 10)), 0);   // e1 exactly at until
  EXPECT_EQ(std::get<int64_t>(Replay("hook", t0_ + 30, t0_ + 31)), 1);  // e3
  EXPECT_EQ(std::get<int64_t>(Replay("hook", 0, t0_)), 0);
}

// A replay goes through the window a slice of events per commit; events
// sharing one accepted_at, events the subscription does not take and another
// organisation's events must neither be skipped nor taken twice at the
// slices' edges.
TEST_F(ReplayTest, ASlicedReplayTakesEveryEventOnce) {
  static_cast<sqlite::SqliteStore&>(*store_).set_slice_for_test(3);
  Millis from = clock_.Now();
  std::vector<NewEvent> batch;  // one request: one accepted_at for all
  for (int i = 0; i < 8; ++i) {
    batch.push_back(Event("s" + std::to_string(i), i % 3 == 2 ? "lesson.liked" : "lesson.completed"));
  }
  Ingest("org_a", std::move(batch));
  Ingest("org_b", {Event("b2"), Event("b3")});
  clock_.Advance(10);
  Ingest("org_a", {Event("s8"), Event("s9")});
  clock_.Advance(10);
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"lesson.completed"});  // after them

  auto result = Replay("hook", from, clock_.Now());
  ASSERT_TRUE(std::holds_alternative<int64_t>(result)) << std::get<Status>(result).message;
  EXPECT_EQ(std::get<int64_t>(result), 8);  // s2 and s5 are lesson.liked
  std::vector<Delivery> replayed = List("org_a", "hook");
  EXPECT_EQ(EventIds(replayed), (Strings{"s0", "s1", "s3", "s4", "s6", "s7", "s8", "s9"}));

  // The whole history, slice by slice: e0-e3 come first.
  EXPECT_EQ(std::get<int64_t>(Replay("hook", 0, clock_.Now())), 12);
  EXPECT_EQ(std::get<int64_t>(Replay("hook", clock_.Now(), clock_.Now() + 10)), 0);
  EXPECT_EQ(std::get<Status>(Replay("nope", 0, clock_.Now())).code, Status::Code::kNotFound);
  // An empty window still checks the subscription.
  EXPECT_EQ(std::get<Status>(Replay("nope", 0, 0)).code, Status::Code::kNotFound);
}

// The writer runs a group's jobs without savepoints first; a failing job in
// the group makes it run them all again. The replay slice must then start
// from its own cursor again, not from where its first run left it.
TEST_F(ReplayTest, AReplaySliceRunAgainWithItsGroupTakesEachEventOnce) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  auto& impl = static_cast<sqlite::SqliteStore&>(*store_);
  int64_t again_before = impl.writer_stats().groups_run_again;
  impl.writer_for_test().PauseForTest();
  std::variant<int64_t, Status> result = Status::Ok();
  std::thread replay([&] { result = Replay("hook", t0_ + 10, t0_ + 30); });
  while (impl.writer_for_test().QueuedForTest() < 1) std::this_thread::yield();
  std::promise<IngestResult> bad;
  store_->Ingest("org_a", {Event("")},  // an empty id breaks a CHECK constraint
                 [&bad](IngestResult r) { bad.set_value(std::move(r)); });
  impl.writer_for_test().ResumeForTest();
  replay.join();

  EXPECT_FALSE(bad.get_future().get().ok);
  ASSERT_TRUE(std::holds_alternative<int64_t>(result)) << std::get<Status>(result).message;
  EXPECT_EQ(std::get<int64_t>(result), 2);
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"e1", "e2"}));
  EXPECT_EQ(impl.writer_stats().groups_run_again, again_before + 1);
}

// Replay does not hold its caller (an HTTP thread) while the window is gone
// through: it returns at once, and its callback brings the count.
TEST_F(ReplayTest, ReplayReturnsAtOnceAndAnswersThroughItsCallback) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  auto& impl = static_cast<sqlite::SqliteStore&>(*store_);
  impl.set_slice_for_test(1);
  impl.writer_for_test().PauseForTest();
  std::promise<ReplayResult> answered;
  store_->Replay("org_a", "hook", t0_, clock_.Now(),
                 [&answered](ReplayResult r) { answered.set_value(std::move(r)); });
  std::future<ReplayResult> result = answered.get_future();
  EXPECT_EQ(result.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  impl.writer_for_test().ResumeForTest();
  ReplayResult r = result.get();
  ASSERT_TRUE(std::holds_alternative<int64_t>(r)) << std::get<Status>(r).message;
  EXPECT_EQ(std::get<int64_t>(r), 4);  // e0-e3, one slice each
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"e0", "e1", "e2", "e3"}));
}

TEST_F(ReplayTest, ReplayingTwiceSendsTwiceWithTheSameBodies) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  EXPECT_EQ(std::get<int64_t>(Replay("hook", t0_, clock_.Now())), 4);
  EXPECT_EQ(std::get<int64_t>(Replay("hook", t0_, clock_.Now())), 4);
  std::vector<DueDelivery> due = store_->ClaimDue(clock_.Now(), 100, kUnlimited);
  ASSERT_EQ(due.size(), 8u);
  for (const DueDelivery& d : due) {
    EXPECT_EQ(d.body, "{\"webhook\":\"" + d.event_id + "\"}");
    EXPECT_EQ(d.org_id, "org_a");
  }
}

TEST_F(ReplayTest, XapiSubscriptionReplaysOnlyLearningEvents) {
  clock_.Advance(1);
  Millis since = clock_.Now();
  Ingest("org_a",
         {Event("u1", "user.created"), Event("t1", "term.searched"), Event("u2", "user.archived")});
  clock_.Advance(1);
  CreateSub("org_a", "lrs", SubscriptionKind::kXapi, {"*"});
  CreateSub("org_a", "all", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "users", SubscriptionKind::kWebhook, {"user.created", "user.updated"});
  CreateSub("org_a", "lrs_search", SubscriptionKind::kXapi, {"term.searched", "user.created"});

  EXPECT_EQ(std::get<int64_t>(Replay("lrs", since, clock_.Now())), 1);
  EXPECT_EQ(EventIds(List("org_a", "lrs")), (Strings{"t1"}));
  EXPECT_EQ(std::get<int64_t>(Replay("all", since, clock_.Now())), 3);
  EXPECT_EQ(std::get<int64_t>(Replay("users", since, clock_.Now())), 1);
  EXPECT_EQ(EventIds(List("org_a", "users")), (Strings{"u1"}));
  EXPECT_EQ(std::get<int64_t>(Replay("lrs_search", since, clock_.Now())), 1);

  // The xAPI delivery sends the stored statement, not the webhook body.
  std::vector<DueDelivery> due = store_->ClaimDue(clock_.Now(), 100, kUnlimited);
  bool saw_statement = false;
  for (const DueDelivery& d : due) {
    if (d.subscription_id != "lrs") continue;
    EXPECT_EQ(d.body, "{\"statement\":\"t1\"}");
    saw_statement = true;
  }
  EXPECT_TRUE(saw_statement);
}

TEST_F(ReplayTest, ReplayStaysInsideTheOrganisation) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_b", "hook_b", SubscriptionKind::kWebhook, {"*"});
  EXPECT_EQ(std::get<int64_t>(Replay("hook", 0, clock_.Now())), 4);  // not org_b's b1
  EXPECT_EQ(std::get<int64_t>(Replay("hook_b", 0, clock_.Now(), "org_b")), 1);

  auto other = Replay("hook", 0, clock_.Now(), "org_b");
  ASSERT_TRUE(std::holds_alternative<Status>(other));
  EXPECT_EQ(std::get<Status>(other).code, Status::Code::kNotFound);
  auto unknown = Replay("nope", 0, clock_.Now());
  ASSERT_TRUE(std::holds_alternative<Status>(unknown));
  EXPECT_EQ(std::get<Status>(unknown).code, Status::Code::kNotFound);
}

TEST_F(ReplayTest, DisabledSubscriptionGetsHeldDeliveries) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"}, /*enabled=*/false);
  int before = wakeups_.load();
  EXPECT_EQ(std::get<int64_t>(Replay("hook", t0_, clock_.Now())), 4);
  EXPECT_EQ(wakeups_.load(), before);
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kHeld).size(), 4u);
  EXPECT_FALSE(store_->NextDueTime(0));
}

// ----------------------------------------------------------------- counts

TEST_F(StoreOperationsTest, CountsDeliveriesByStateWithEveryStatePresent) {
  CreateOrg("org_a");
  CreateOrg("org_b");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "quiet", SubscriptionKind::kWebhook, {"user.created"});

  std::map<DeliveryState, int64_t> empty = store_->CountDeliveries("org_a", "quiet");
  EXPECT_EQ(empty.size(), 6u);
  for (const auto& [state, n] : empty) EXPECT_EQ(n, 0) << StateName(state);

  Ingest("org_a", {Event("e1"), Event("e2"), Event("e3"), Event("e4"), Event("e5")});
  std::vector<Delivery> all = List("org_a", "hook");
  ASSERT_EQ(all.size(), 5u);
  ForceState(all[0].id, DeliveryState::kDelivered);
  ForceState(all[1].id, DeliveryState::kDelivered);
  ForceState(all[2].id, DeliveryState::kDead);
  ASSERT_EQ(store_->ClaimDue(clock_.Now(), 1, kUnlimited).size(), 1u);  // e4: in flight

  std::map<DeliveryState, int64_t> counts = store_->CountDeliveries("org_a", "hook");
  std::map<DeliveryState, int64_t> expected = {
      {DeliveryState::kPending, 1}, {DeliveryState::kInFlight, 1},  {DeliveryState::kRetrying, 0},
      {DeliveryState::kHeld, 0},    {DeliveryState::kDelivered, 2}, {DeliveryState::kDead, 1}};
  EXPECT_EQ(counts, expected);

  EXPECT_TRUE(store_->CountDeliveries("org_b", "hook").empty());
  EXPECT_TRUE(store_->CountDeliveries("org_a", "nope").empty());
}

// Counts go on from the last count's total (delivery_totals.h): what comes
// after it, what changes state under it, a replay and a subscription of the
// same id created again must all show.
TEST_F(StoreOperationsTest, CountsStayRightAsDeliveriesComeAndChange) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "other", SubscriptionKind::kWebhook, {"*"});
  auto counts = [&](const std::string& sub) { return store_->CountDeliveries("org_a", sub); };
  EXPECT_EQ(counts("hook")[DeliveryState::kPending], 0);

  Ingest("org_a", {Event("e1"), Event("e2"), Event("e3")});
  EXPECT_EQ(counts("hook")[DeliveryState::kPending], 3);
  std::vector<Delivery> first = List("org_a", "hook");
  ForceState(first[0].id, DeliveryState::kDelivered);
  ForceState(first[1].id, DeliveryState::kDelivered);
  EXPECT_EQ(counts("hook")[DeliveryState::kDelivered], 2);
  EXPECT_EQ(counts("hook")[DeliveryState::kPending], 1);

  Ingest("org_a", {Event("e4")});  // after the mark, and the other's between
  ForceState(first[2].id, DeliveryState::kDead);
  auto now = counts("hook");
  EXPECT_EQ(now[DeliveryState::kDelivered], 2);
  EXPECT_EQ(now[DeliveryState::kPending], 1);
  EXPECT_EQ(now[DeliveryState::kDead], 1);
  EXPECT_EQ(counts("other")[DeliveryState::kPending], 4);

  ASSERT_TRUE(store_->RetryDelivery("org_a", first[0].id).ok());  // delivered -> pending
  now = counts("hook");
  EXPECT_EQ(now[DeliveryState::kDelivered], 1);
  EXPECT_EQ(now[DeliveryState::kPending], 2);
  auto replayed = store_->ReplaySync("org_a", "hook", 0, clock_.Now() + 1);
  ASSERT_TRUE(std::holds_alternative<int64_t>(replayed));
  EXPECT_EQ(std::get<int64_t>(replayed), 4);
  EXPECT_EQ(counts("hook")[DeliveryState::kPending], 6);

  // Deleted and created again: its deliveries went with it.
  ASSERT_TRUE(store_->DeleteSubscription("org_a", "hook").ok());
  clock_.Advance(1);
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  now = counts("hook");
  for (const auto& [state, n] : now) EXPECT_EQ(n, 0) << StateName(state);
  Ingest("org_a", {Event("e5")});
  EXPECT_EQ(counts("hook")[DeliveryState::kPending], 1);
  EXPECT_EQ(counts("hook")[DeliveryState::kDelivered], 0);
}

// ---------------------------------------------------------- list by time

// Regression: a count read the kept total after its snapshot had started,
// so a total kept meanwhile by a count with a newer snapshot added
// deliveries this one could not see, and they showed as delivered. Nothing
// is delivered here: two counters race an ingester for a bounded time (a
// few in a thousand counts went wrong before; this is a stress check, not
// a proof).
TEST_F(StoreOperationsTest, ConcurrentCountsShowNoDeliveredWhereNoneWere) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  std::atomic<bool> stop{false};
  std::atomic<int64_t> worst{0};
  std::thread ingester([&] {
    for (int i = 0; !stop && i < 100'000; ++i) Ingest("org_a", {Event("e" + std::to_string(i))});
  });
  auto counter = [&] {
    while (!stop) {
      int64_t delivered = store_->CountDeliveries("org_a", "hook")[DeliveryState::kDelivered];
      int64_t seen = worst.load();
      while (delivered > seen && !worst.compare_exchange_weak(seen, delivered)) {
      }
    }
  };
  std::thread first(counter), second(counter);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stop = true;
  ingester.join();
  first.join();
  second.join();
  EXPECT_EQ(worst.load(), 0);
}

TEST_F(StoreOperationsTest, ListDeliveriesBySinceAndUntilOfTheirLastChange) {
  CreateOrg("org_a");
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  Millis t0 = clock_.Now();
  Ingest("org_a", {Event("e1")});
  clock_.Advance(100);
  Ingest("org_a", {Event("e2")});
  clock_.Advance(100);
  Ingest("org_a", {Event("e3")});
  // e1 changes last: it is retried at t0 + 300.
  clock_.Advance(100);
  ASSERT_TRUE(store_->RetryDelivery("org_a", List("org_a", "hook")[0].id).ok());

  auto list = [&](std::optional<Millis> since, std::optional<Millis> until) {
    DeliveryQuery q;
    q.org_id = "org_a";
    q.subscription_id = "hook";
    q.limit = 500;
    q.since = since;
    q.until = until;
    return EventIds(store_->ListDeliveries(q));
  };
  EXPECT_EQ(list(std::nullopt, std::nullopt), (Strings{"e1", "e2", "e3"}));
  EXPECT_EQ(list(t0 + 100, std::nullopt), (Strings{"e1", "e2", "e3"}));
  EXPECT_EQ(list(t0 + 100, t0 + 200), (Strings{"e2"}));
  EXPECT_EQ(list(t0 + 101, t0 + 300), (Strings{"e3"}));
  EXPECT_EQ(list(t0 + 300, std::nullopt), (Strings{"e1"}));
  EXPECT_EQ(list(std::nullopt, t0 + 100), (Strings{}));
}

}  // namespace
}  // namespace punt::store
