#include "api/views.h"

#include "util/json.h"
#include "util/time.h"

namespace punt::api {

namespace json = boost::json;

std::string TimeText(Millis ms) {
  return FormatTimestamp(TimePoint(std::chrono::milliseconds(ms)));
}

json::object OrgView(const store::Org& org) {
  return {{"id", org.id},
          {"name", org.name},
          {"platform_url", org.platform_url},
          {"mbox_opt_in", org.mbox_opt_in},
          {"created_at", TimeText(org.created_at)},
          {"updated_at", TimeText(org.updated_at)}};
}

json::object SubscriptionView(const store::Subscription& sub) {
  json::array events;
  for (const auto& e : sub.events) events.emplace_back(e);
  json::object view{{"id", sub.id},
                    {"kind", store::KindName(sub.kind)},
                    {"url", sub.url},
                    {"events", std::move(events)},
                    {"description", sub.description},
                    {"enabled", sub.enabled}};
  if (sub.kind == store::SubscriptionKind::kXapi) view["xapi_version"] = sub.xapi_version;
  if (!sub.token_hint.empty()) view["token"] = sub.token_hint;
  view["max_in_flight"] = sub.max_in_flight;
  if (sub.kind == store::SubscriptionKind::kXapi) view["batch_size"] = sub.batch_size;
  view["created_at"] = TimeText(sub.created_at);
  view["updated_at"] = TimeText(sub.updated_at);
  json::object health{{"state", store::HealthState(sub)},
                      {"consecutive_failures", sub.consecutive_failures}};
  if (sub.last_success_at) health["last_success_at"] = TimeText(sub.last_success_at);
  if (sub.last_failure_at) health["last_failure_at"] = TimeText(sub.last_failure_at);
  if (sub.failing_since) health["failing_since"] = TimeText(sub.failing_since);
  if (!sub.enabled && !sub.disabled_reason.empty()) health["reason"] = sub.disabled_reason;
  if (sub.enabled && sub.credentials_refused) {
    health["reason"] = "the receiver refused the credentials (401/403)";
  }
  view["health"] = std::move(health);
  return view;
}

json::object DeliveryView(const store::Delivery& d, bool with_attempts) {
  json::object view{{"id", std::to_string(d.id)},
                    {"subscription_id", d.subscription_id},
                    {"event_id", d.event_id},
                    {"event_type", d.event_type},
                    {"state", store::StateName(d.state)},
                    {"attempt_count", d.attempt_count},
                    {"created_at", TimeText(d.created_at)},
                    {"updated_at", TimeText(d.updated_at)}};
  if (d.state == store::DeliveryState::kPending || d.state == store::DeliveryState::kRetrying) {
    view["next_attempt_at"] = TimeText(d.next_attempt_at);
  }
  if (!with_attempts) return view;
  json::array attempts;
  for (const auto& a : d.attempts) {
    json::object item{{"at", TimeText(a.at)}, {"status", a.status}, {"latency_ms", a.latency_ms}};
    if (!a.error.empty()) item["error"] = a.error;
    item["response"] = ValidUtf8(a.response);  // cut at 4 KiB, maybe mid-character
    attempts.push_back(std::move(item));
  }
  view["attempts"] = std::move(attempts);
  return view;
}

json::object DeliveryCountsView(const std::map<store::DeliveryState, int64_t>& counts) {
  json::object view;
  for (int i = 0; i <= static_cast<int>(store::DeliveryState::kDead); ++i) {
    auto state = static_cast<store::DeliveryState>(i);
    auto it = counts.find(state);
    view[store::StateName(state)] = it == counts.end() ? 0 : it->second;
  }
  return view;
}

}  // namespace punt::api
