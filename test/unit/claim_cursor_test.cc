// Claims seek past what earlier claims took (store/sqlite/claim_cursors.h),
// and a pending delivery that lands behind a cursor is still claimed.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store_impl.h"
#include "store_fixture.h"

namespace punt::store {
namespace {

using testing::kUnlimited;
using Strings = std::vector<std::string>;

class ClaimCursorTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    CreateOrg("org_a");
    CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  }

  // The clock stands still: every delivery is due in the same millisecond,
  // so only ids order them, as after an enable moves a backlog at once.
  void IngestEvents(int from, int to) {
    std::vector<NewEvent> events;
    for (int i = from; i <= to; ++i) events.push_back(Event("e" + std::to_string(i)));
    ASSERT_TRUE(IngestSync("org_a", events).ok);
  }

  Strings Claim(int limit) {
    Strings ids;
    for (const DueDelivery& d : store_->ClaimDue(clock_.Now(), limit, kUnlimited)) {
      ids.push_back(d.event_id);
    }
    return ids;
  }

  int64_t IdOf(const std::string& event_id) {
    for (const Delivery& d : List("org_a", "hook")) {
      if (d.event_id == event_id) return d.id;
    }
    ADD_FAILURE() << "no delivery of " << event_id;
    return 0;
  }

  void Record(const std::string& event_id, DeliveryState state,
              AttemptOutcome::Signal signal = AttemptOutcome::Signal::kNone) {
    AttemptOutcome outcome;
    outcome.signal = signal;
    outcome.delivery_id = IdOf(event_id);
    outcome.attempt.at = clock_.Now();
    outcome.new_state = state;
    outcome.next_attempt_at = clock_.Now();
    store_->RecordAttempts({outcome});
  }

  void SetEnabled(bool enabled) {
    Subscription sub = *store_->GetSubscription("org_a", "hook");
    sub.enabled = enabled;
    ASSERT_TRUE(store_->UpdateSubscription(sub).ok());
  }
};

TEST_F(ClaimCursorTest, ClaimsGoOnWhereTheLastOneStopped) {
  IngestEvents(1, 7);
  EXPECT_EQ(Claim(2), (Strings{"e1", "e2"}));
  EXPECT_EQ(Claim(2), (Strings{"e3", "e4"}));
  IngestEvents(8, 8);  // comes after the cursor
  EXPECT_EQ(Claim(10), (Strings{"e5", "e6", "e7", "e8"}));
  EXPECT_TRUE(Claim(10).empty());
}

// A retry by an admin makes an old id pending in the cursor's millisecond.
TEST_F(ClaimCursorTest, ADeliveryRetriedByAnAdminIsClaimedNext) {
  IngestEvents(1, 6);
  EXPECT_EQ(Claim(2), (Strings{"e1", "e2"}));
  Record("e1", DeliveryState::kDead);
  ASSERT_TRUE(store_->RetryDelivery("org_a", IdOf("e1")).ok());
  EXPECT_EQ(Claim(2), (Strings{"e1", "e3"}));
}

// Claimed deliveries whose outcome came while the subscription was
// disabled are held; enabling makes them pending again, behind the cursor.
TEST_F(ClaimCursorTest, DeliveriesAnEnableMovesBackAreClaimedNext) {
  IngestEvents(1, 6);
  EXPECT_EQ(Claim(3), (Strings{"e1", "e2", "e3"}));
  SetEnabled(false);
  Record("e1", DeliveryState::kRetrying);
  Record("e2", DeliveryState::kRetrying);
  EXPECT_EQ(List("org_a", "hook", DeliveryState::kHeld).size(), 5u);  // e3 is still claimed
  // One delivery per slice: all but the first move in follow-up jobs, each
  // noted once committed.
  static_cast<sqlite::SqliteStore&>(*store_).set_slice_for_test(1);
  SetEnabled(true);
  for (int i = 0; i < 5000 && !List("org_a", "hook", DeliveryState::kHeld).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(List("org_a", "hook", DeliveryState::kHeld).empty());
  EXPECT_EQ(Claim(10), (Strings{"e1", "e2", "e4", "e5", "e6"}));
}

// Enabling a subscription re-queues what died while it was failing: old
// ids again.
TEST_F(ClaimCursorTest, DeadDeliveriesAnEnableRequeuesAreClaimedNext) {
  IngestEvents(1, 4);
  EXPECT_EQ(Claim(2), (Strings{"e1", "e2"}));
  Record("e1", DeliveryState::kDead, AttemptOutcome::Signal::kFailure);  // failing from now
  SetEnabled(false);
  SetEnabled(true);
  EXPECT_EQ(Claim(10), (Strings{"e1", "e3", "e4"}));
}

// A delivery written while the clock stands earlier than at the last claim
// sorts before the cursor: the next claim, at that earlier time, reads
// from the start.
TEST_F(ClaimCursorTest, AClockThatStepsBackStillClaimsEverything) {
  IngestEvents(1, 3);
  EXPECT_EQ(Claim(2), (Strings{"e1", "e2"}));
  clock_.Advance(-60'000);
  IngestEvents(4, 4);
  EXPECT_EQ(Claim(10), (Strings{"e4"}));  // e3 is due a minute later
  clock_.Advance(60'000);
  EXPECT_EQ(Claim(10), (Strings{"e3"}));
}

// A pending row written behind a cursor in a way no move notes (here by
// hand, as no code path does) waits at most kFullScanEvery: then a claim
// reads from the start.
TEST_F(ClaimCursorTest, ARowBehindTheCursorWaitsAtMostAFullScanPeriod) {
  IngestEvents(1, 4);
  EXPECT_EQ(Claim(2), (Strings{"e1", "e2"}));
  Record("e1", DeliveryState::kDelivered);
  Status status =
      ExecOnWriter("UPDATE deliveries SET state = 0 WHERE id = " + std::to_string(IdOf("e1")));
  ASSERT_TRUE(status.ok()) << status.message;
  EXPECT_EQ(Claim(1), (Strings{"e3"}));  // sought from the cursor: e1 is behind it
  clock_.Advance(sqlite::ClaimCursors::kFullScanEvery);
  EXPECT_EQ(Claim(10), (Strings{"e1", "e4"}));
}

}  // namespace
}  // namespace punt::store
