#include <gtest/gtest.h>

#include "store/model.h"

namespace punt::store {
namespace {

Subscription Sub(SubscriptionKind kind, std::vector<std::string> events) {
  Subscription sub;
  sub.kind = kind;
  sub.events = std::move(events);
  return sub;
}

TEST(StoreModel, WebhookWithStarReceivesEveryEvent) {
  Subscription sub = Sub(SubscriptionKind::kWebhook, {"*"});
  EXPECT_TRUE(Matches(sub, "user.created", false));
  EXPECT_TRUE(Matches(sub, "lesson.completed", true));
}

TEST(StoreModel, XapiReceivesOnlyLearningEvents) {
  EXPECT_FALSE(Matches(Sub(SubscriptionKind::kXapi, {"*"}), "user.created", false));
  EXPECT_FALSE(Matches(Sub(SubscriptionKind::kXapi, {"user.created"}), "user.created", false));
  EXPECT_TRUE(Matches(Sub(SubscriptionKind::kXapi, {"*"}), "term.searched", true));
}

TEST(StoreModel, EventListReceivesOnlyItsTypes) {
  Subscription sub = Sub(SubscriptionKind::kWebhook, {"user.created", "lesson.viewed"});
  EXPECT_TRUE(Matches(sub, "user.created", false));
  EXPECT_TRUE(Matches(sub, "lesson.viewed", true));
  EXPECT_FALSE(Matches(sub, "lesson.liked", true));
  EXPECT_FALSE(Matches(Sub(SubscriptionKind::kWebhook, {}), "user.created", false));
}

TEST(StoreModel, NamesRoundTrip) {
  for (auto kind : {SubscriptionKind::kWebhook, SubscriptionKind::kXapi}) {
    EXPECT_EQ(ParseKind(KindName(kind)), kind);
  }
  EXPECT_FALSE(ParseKind("lrs"));
  for (int i = 0; i <= static_cast<int>(DeliveryState::kDead); ++i) {
    auto state = static_cast<DeliveryState>(i);
    EXPECT_EQ(ParseState(StateName(state)), state);
  }
  EXPECT_EQ(StateName(DeliveryState::kInFlight), "in_flight");
  EXPECT_FALSE(ParseState("inflight"));
}

}  // namespace
}  // namespace punt::store
