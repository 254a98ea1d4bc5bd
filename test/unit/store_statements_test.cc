// Statements ingest leaves out: an organisation without an xAPI subscription
// gets learning events stored with their webhook body only, and the store
// builds a statement when an xAPI subscription needs one (ingest racing with
// the subscription's creation, or a replay).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "store/sqlite/sqlite_store_impl.h"
#include "store_fixture.h"

namespace punt::store {
namespace {

using testing::kUnlimited;

class StatementsTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    CreateOrg("org_a");
  }

  // As the app's builder would: only learning types have a statement, built
  // from the webhook body for the organisation as it is.
  void SetBuilder() {
    store_->SetStatementBuilder([this](const Org& org, std::string_view type,
                                       std::string_view webhook_body) -> std::string {
      ++built_;
      if (type.rfind("user.", 0) == 0) return {};
      return "{\"built_for\":\"" + org.platform_url + "\",\"from\":" + std::string(webhook_body) +
             "}";
    });
  }

  // A learning event as ingest sends it when the organisation wants no
  // statements: the webhook body only.
  static NewEvent Bare(const std::string& id, const std::string& type = "lesson.completed") {
    NewEvent e = Event(id, type);
    e.statement_body.clear();
    return e;
  }

  // The body each claimed delivery of `sub` would send, by event id.
  std::map<std::string, std::string> ClaimedBodies(const std::string& sub) {
    std::map<std::string, std::string> out;
    for (const DueDelivery& d : store_->ClaimDue(clock_.Now(), 100, kUnlimited)) {
      if (d.subscription_id == sub) out[d.event_id] = d.body;
    }
    return out;
  }

  // Waits (bounded: about 10 s, longer on a slow machine, never for ever)
  // until the paused writer holds `n` jobs.
  static bool WaitQueued(sqlite::Writer& writer, size_t n) {
    for (int i = 0; i < 5000 && writer.QueuedForTest() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return writer.QueuedForTest() == n;
  }

  std::atomic<int> built_{0};
};

TEST_F(StatementsTest, WantsStatementsWhileTheOrganisationHasAnXapiSubscription) {
  CreateOrg("org_b");
  EXPECT_FALSE(store_->WantsStatements("org_a"));
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  EXPECT_FALSE(store_->WantsStatements("org_a"));
  CreateSub("org_a", "lrs", SubscriptionKind::kXapi, {"lesson.completed"}, /*enabled=*/false);
  EXPECT_TRUE(store_->WantsStatements("org_a")) << "a disabled one counts: it may be enabled";
  EXPECT_FALSE(store_->WantsStatements("org_b"));
  ASSERT_TRUE(store_->DeleteSubscription("org_a", "lrs").ok());
  EXPECT_FALSE(store_->WantsStatements("org_a"));
}

TEST_F(StatementsTest, IngestStoresNoStatementNobodyWants) {
  SetBuilder();
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  IngestResult result = IngestSync("org_a", {Bare("e1"), Bare("u1", "user.created")});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.deliveries, 2);
  EXPECT_EQ(built_, 0);
  std::map<std::string, std::string> bodies = ClaimedBodies("hook");
  EXPECT_EQ(bodies["e1"], "{\"webhook\":\"e1\"}");
}

// The HTTP thread asked WantsStatements before the xAPI subscription was
// made; by the time the writer stores the event, the subscription is there.
TEST_F(StatementsTest, IngestBuildsTheStatementAnXapiSubscriptionNeeds) {
  SetBuilder();
  CreateSub("org_a", "lrs", SubscriptionKind::kXapi, {"*"});
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  IngestResult result =
      IngestSync("org_a", {Bare("e1"), Bare("u1", "user.created"), Event("e2")});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.deliveries, 5);  // e1 and e2 to both, u1 to the webhook only
  EXPECT_EQ(built_, 1) << "e2 came with its statement; u1 has none";
  std::map<std::string, std::string> lrs = ClaimedBodies("lrs");
  ASSERT_EQ(lrs.size(), 2u);
  EXPECT_EQ(lrs["e1"],
            "{\"built_for\":\"https://org_a.example\",\"from\":{\"webhook\":\"e1\"}}");
  EXPECT_EQ(lrs["e2"], "{\"statement\":\"e2\"}");
}

TEST_F(StatementsTest, IngestWithoutABuilderFailsRatherThanStoreAnXapiDeliveryWithNoBody) {
  CreateSub("org_a", "lrs", SubscriptionKind::kXapi, {"*"});
  IngestResult result = IngestSync("org_a", {Event("e0"), Bare("e1")});
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("e1"), std::string::npos) << result.error;
  EXPECT_TRUE(List("org_a", "lrs").empty()) << "nothing of the batch is stored";
}

// A webhook-only organisation's history, replayed to an LRS connected later:
// the statements are built once, by the replay, for matching learning events.
// Regression: the job that sets the builder moved it in, and the writer runs
// a group's jobs again when one fails: the second run moved in an empty
// function, and every statement to build afterwards failed.
TEST_F(StatementsTest, TheBuilderStaysWhenItsJobRunsTwice) {
  CreateSub("org_a", "lrs", SubscriptionKind::kXapi, {"*"});
  auto& impl = static_cast<sqlite::SqliteStore&>(*store_);
  sqlite::Writer& writer = impl.writer_for_test();
  writer.PauseForTest();  // the builder's job and a failing one form one group
  std::thread setter([this] { SetBuilder(); });
  EXPECT_TRUE(WaitQueued(writer, 1)) << "the builder's job never reached the writer";
  std::promise<IngestResult> failed;
  store_->Ingest("no_such_org", {Event("x")}, [&](IngestResult r) { failed.set_value(r); });
  EXPECT_TRUE(WaitQueued(writer, 2)) << "the failing job never reached the writer";
  const int64_t again_before = impl.writer_stats().groups_run_again;
  writer.ResumeForTest();
  setter.join();
  EXPECT_FALSE(failed.get_future().get().ok);
  ASSERT_EQ(impl.writer_stats().groups_run_again, again_before + 1);

  IngestResult result = IngestSync("org_a", {Bare("e1")});
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(ClaimedBodies("lrs").count("e1"), 1u);
  EXPECT_EQ(built_, 1);
}

TEST_F(StatementsTest, ReplayToAnXapiSubscriptionBuildsTheMissingStatements) {
  SetBuilder();
  CreateSub("org_a", "hook", SubscriptionKind::kWebhook, {"*"});
  clock_.Advance(1);
  Millis since = clock_.Now();
  ASSERT_TRUE(IngestSync("org_a", {Bare("e1"), Bare("u1", "user.created"), Bare("s1", "term.searched"),
                                   Bare("e2")})
                  .ok);
  clock_.Advance(1);
  CreateSub("org_a", "lrs", SubscriptionKind::kXapi, {"lesson.completed", "user.created"});
  ASSERT_EQ(store_->ClaimDue(clock_.Now(), 100, kUnlimited).size(), 4u);  // the webhook's

  auto replayed = store_->ReplaySync("org_a", "lrs", since, clock_.Now());
  ASSERT_TRUE(std::holds_alternative<int64_t>(replayed));
  EXPECT_EQ(std::get<int64_t>(replayed), 2);
  EXPECT_EQ(built_, 3) << "e1 and e2; u1 asked and has none; s1 not picked";
  std::map<std::string, std::string> lrs = ClaimedBodies("lrs");
  ASSERT_EQ(lrs.size(), 2u);
  EXPECT_EQ(lrs["e2"],
            "{\"built_for\":\"https://org_a.example\",\"from\":{\"webhook\":\"e2\"}}");

  // A second replay sends the stored statements again without building them.
  int before = built_;
  replayed = store_->ReplaySync("org_a", "lrs", since, clock_.Now());
  ASSERT_TRUE(std::holds_alternative<int64_t>(replayed));
  EXPECT_EQ(std::get<int64_t>(replayed), 2);
  EXPECT_EQ(built_ - before, 1) << "only u1 is asked again";
}

}  // namespace
}  // namespace punt::store
