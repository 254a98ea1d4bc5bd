#include "store/model.h"

#include <algorithm>
#include <array>

namespace punt::store {
namespace {

constexpr std::array<std::string_view, 6> kStateNames = {"pending", "in_flight", "retrying",
                                                         "held",    "delivered", "dead"};

}  // namespace

std::string_view KindName(SubscriptionKind kind) {
  return kind == SubscriptionKind::kXapi ? "xapi" : "webhook";
}

std::optional<SubscriptionKind> ParseKind(std::string_view text) {
  if (text == "webhook") return SubscriptionKind::kWebhook;
  if (text == "xapi") return SubscriptionKind::kXapi;
  return std::nullopt;
}

bool Matches(const Subscription& sub, std::string_view type, bool learning_event) {
  if (sub.kind == SubscriptionKind::kXapi && !learning_event) return false;
  return std::any_of(sub.events.begin(), sub.events.end(),
                     [&](const std::string& e) { return e == "*" || e == type; });
}

std::string_view StateName(DeliveryState state) { return kStateNames[static_cast<size_t>(state)]; }

std::optional<DeliveryState> ParseState(std::string_view text) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == text) return static_cast<DeliveryState>(i);
  }
  return std::nullopt;
}

}  // namespace punt::store

namespace punt::store {

std::string_view HealthState(const Subscription& sub) {
  if (!sub.enabled) return "disabled";
  if (sub.credentials_refused) return "credentials_refused";
  if (sub.consecutive_failures > 0) return "failing";
  return "healthy";
}

}  // namespace punt::store
