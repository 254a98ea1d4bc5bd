// A webhook subscription's deliveries get their rows when first needed
// (store/sqlite/deferred_rows.h): ingest writes the events alone, and a
// claim or a read of the deliveries writes the rows, as ingest wrote them.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store_impl.h"
#include "store_fixture.h"

namespace punt::store {
namespace {

using testing::kUnlimited;
using Strings = std::vector<std::string>;

class DeferredRowsTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    CreateOrg("org_a");
  }
  sqlite::SqliteStore& impl() { return static_cast<sqlite::SqliteStore&>(*store_); }

  void Ingest(const std::vector<std::string>& ids, const std::string& type = "lesson.completed") {
    std::vector<NewEvent> events;
    for (const std::string& id : ids) events.push_back(Event(id, type));
    IngestResult result = IngestSync("org_a", events);
    ASSERT_TRUE(result.ok) << result.error;
  }

  Strings Claim(int limit = 100) {
    Strings ids;
    for (const DueDelivery& d : store_->ClaimDue(clock_.Now(), limit, kUnlimited)) {
      ids.push_back(d.subscription_id + ":" + d.event_id);
    }
    return ids;
  }

  // "prefix0" ... "prefix<n-1>".
  static std::vector<std::string> Ids(const std::string& prefix, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(prefix + std::to_string(i));
    return ids;
  }

  int64_t Rows(const std::string& sub) {
    return Count("SELECT count(*) FROM deliveries WHERE subscription_id = '" + sub + "'");
  }
};

TEST_F(DeferredRowsTest, IngestWritesNoWebhookRowAndAClaimWritesThemInEventOrder) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  CreateSub("org_a", "lrs", SubscriptionKind::kXapi, {"*"});
  const Millis accepted_at = clock_.Now();
  Ingest({"e1", "e2", "e3"});
  EXPECT_EQ(Rows("hook"), 0);
  EXPECT_EQ(Rows("lrs"), 3);  // xAPI deliveries still get theirs at ingest

  clock_.Advance(5000);
  EXPECT_EQ(Claim(), (Strings{"hook:e1", "hook:e2", "hook:e3", "lrs:e1", "lrs:e2", "lrs:e3"}));
  EXPECT_EQ(Rows("hook"), 3);
  // As ingest wrote them: created, updated and due at the event's acceptance.
  std::vector<Delivery> rows = List("org_a", "hook");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(EventIds(rows), (Strings{"e1", "e2", "e3"}));
  for (const Delivery& d : rows) {
    EXPECT_EQ(d.created_at, accepted_at);
    EXPECT_EQ(d.next_attempt_at, accepted_at);
    EXPECT_EQ(d.state, DeliveryState::kInFlight);
  }
  EXPECT_LT(rows[0].id, rows[1].id);
  EXPECT_LT(rows[1].id, rows[2].id);
}

TEST_F(DeferredRowsTest, AReadOfTheDeliveriesWritesTheirRowsAndCountsThem) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"lesson.completed"});
  CreateSub("org_a", "off", SubscriptionKind::kWebhook, {"*"}, /*enabled=*/false);
  Ingest({"e1", "e2"});
  Ingest({"t1"}, "term.searched");
  EXPECT_EQ(Rows("hook") + Rows("off"), 0);

  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kPending], 2);
  EXPECT_EQ(Rows("hook"), 2);  // its filter left t1 out
  EXPECT_EQ(EventIds(List("org_a", "off")), (Strings{"e1", "e2", "t1"}));
  EXPECT_EQ(store_->CountDeliveries("org_a", "off")[DeliveryState::kHeld], 3);
  // Read again: nothing is written twice.
  EXPECT_EQ(store_->CountDeliveries("org_a", "hook")[DeliveryState::kPending], 2);
  EXPECT_EQ(Rows("hook"), 2);
  // A read for another organisation writes nothing.
  CreateOrg("org_b");
  CreateSub("org_b", "other", SubscriptionKind::kWebhook, {"*"});
  IngestResult other = IngestSync("org_b", {Event("b1")});
  ASSERT_TRUE(other.ok);
  EXPECT_TRUE(store_->CountDeliveries("org_a", "other").empty());
  EXPECT_EQ(Rows("other"), 0);
  EXPECT_EQ(Claim(), (Strings{"hook:e1", "hook:e2", "other:b1"}));
}

// A subscription's deliveries are of the events stored after it was made.
TEST_F(DeferredRowsTest, ANewSubscriptionStartsAtTheNewestEvent) {
  Ingest({"before"});
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  Ingest({"after"});
  EXPECT_EQ(Claim(), (Strings{"hook:after"}));
  EXPECT_EQ(EventIds(List("org_a", "hook")), (Strings{"after"}));
}

// The filter an event came under decides, as when ingest wrote the rows:
// a change of it writes the rows of the events before it first, in slices
// of their own when there are many.
TEST_F(DeferredRowsTest, AFilterChangeAppliesToTheEventsAfterIt) {
  impl().set_slice_for_test(2);
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"lesson.completed"});
  const std::vector<std::string> before = Ids("c", 25);
  Ingest(before);
  Ingest({"t1"}, "term.searched");
  Subscription sub = *store_->GetSubscription("org_a", "hook");
  sub.events = {"term.searched"};
  ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  EXPECT_EQ(Rows("hook"), 25);
  Ingest({"c-late"});
  Ingest({"t2"}, "term.searched");
  std::vector<Delivery> all = List("org_a", "hook");
  Strings expected = before;
  expected.push_back("t2");
  EXPECT_EQ(EventIds(all), expected);
}

// A replay's deliveries come after those ingest left without rows, as they
// did when ingest wrote them.
TEST_F(DeferredRowsTest, AReplayComesAfterTheDeliveriesWaitingForRows) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  const Millis ingested_at = clock_.Now();
  Ingest({"e1", "e2"});
  clock_.Advance(1000);
  ReplayResult replayed = store_->ReplaySync("org_a", "hook", 0, clock_.Now());
  ASSERT_EQ(std::get<int64_t>(replayed), 2);
  std::vector<Delivery> all = List("org_a", "hook");
  EXPECT_EQ(EventIds(all), (Strings{"e1", "e2", "e1", "e2"}));
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].created_at, ingested_at);
  EXPECT_EQ(all[3].created_at, clock_.Now());
}

// After a restart, the claims go on writing rows from where the last one
// stopped: none twice.
TEST_F(DeferredRowsTest, ARestartGoesOnFromTheLastRowWritten) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  Ingest({"e1", "e2"});
  EXPECT_EQ(Claim(1), (Strings{"hook:e1"}));
  EXPECT_EQ(Rows("hook"), 2);
  Ingest({"e3"});
  store_.reset();
  Open();
  EXPECT_EQ(store_->ResetInFlight(), 0);  // e1's claim was in memory: its row waits
  EXPECT_EQ(Claim(), (Strings{"hook:e1", "hook:e2", "hook:e3"}));
  EXPECT_EQ(Rows("hook"), 3);
}

// An event accepted while the clock stands earlier than at the last one
// takes the last one's accepted_at: the events of an organisation are in
// the order of their seq (deferred_rows.h). Its delivery is due at once.
TEST_F(DeferredRowsTest, AcceptedAtNeverGoesBackwards) {
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  Ingest({"e1"});
  EXPECT_EQ(Claim(), (Strings{"hook:e1"}));
  const Millis first = clock_.Now();
  clock_.Advance(-60'000);
  Ingest({"e2"});
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE accepted_at = " + std::to_string(first)), 2);
  EXPECT_EQ(Claim(), (Strings{"hook:e2"}));
  EXPECT_EQ(List("org_a", "hook").at(1).next_attempt_at, clock_.Now());
}

// Claims write at most a few slices a subscription, enough for what they
// want; the commit that leaves more wakes the dispatcher to claim again.
TEST_F(DeferredRowsTest, AClaimWritesWhatItWantsAndWakesForTheRest) {
  impl().set_slice_for_test(3);
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  Ingest(Ids("e", 40));
  std::atomic<int> wakeups{0};  // the listener runs on the writer thread
  store_->SetCommitListener([&] { ++wakeups; });
  EXPECT_EQ(Claim(4).size(), 4u);
  EXPECT_EQ(Rows("hook"), 6);  // two slices of 3
  EXPECT_EQ(wakeups, 1);
  wakeups = 0;
  EXPECT_EQ(Claim(100).size(), 26u);  // the 2 left and 8 slices more
  EXPECT_EQ(Rows("hook"), 30);
  EXPECT_EQ(Claim(100).size(), 10u);
  EXPECT_EQ(Rows("hook"), 40);
}

}  // namespace
}  // namespace punt::store
