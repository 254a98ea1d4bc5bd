#include "store/sqlite/rows.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace punt::store::sqlite {

void BindSubscription(Query& q, const Subscription& sub) {
  q.BindText(1, sub.id)
      .BindText(2, sub.org_id)
      .BindText(3, KindName(sub.kind))
      .BindText(4, sub.url)
      .BindText(5, sub.description)
      .BindText(6, EncodeEventTypes(sub.events))
      .BindInt(7, sub.enabled ? 1 : 0)
      .BindText(8, sub.xapi_version)
      .BindBlob(9, sub.token_sealed)
      .BindBlob(10, sub.secret_sealed)
      .BindText(11, sub.token_hint)
      .BindInt(12, sub.max_in_flight)
      .BindInt(13, sub.batch_size)
      .BindInt(14, sub.created_at)
      .BindInt(15, sub.updated_at);
}

Subscription ReadSubscription(const Query& q) {
  Subscription sub;
  sub.id = q.Text(0);
  sub.org_id = q.Text(1);
  sub.kind = ParseKind(q.Text(2)).value_or(SubscriptionKind::kWebhook);
  sub.url = q.Text(3);
  sub.description = q.Text(4);
  sub.events = DecodeEventTypes(q.Text(5));
  sub.enabled = q.Int(6) != 0;
  sub.xapi_version = q.Text(7);
  sub.token_sealed = q.Blob(8);
  sub.secret_sealed = q.Blob(9);
  sub.token_hint = q.Text(10);
  sub.max_in_flight = static_cast<int>(q.Int(11));
  sub.batch_size = static_cast<int>(q.Int(12));
  sub.created_at = q.Int(13);
  sub.updated_at = q.Int(14);
  sub.last_success_at = q.Int(15);
  sub.last_failure_at = q.Int(16);
  sub.failing_since = q.Int(17);
  sub.consecutive_failures = static_cast<int>(q.Int(18));
  sub.credentials_refused = q.Int(19) != 0;
  sub.disabled_reason = q.Text(20);
  return sub;
}

Org ReadOrg(const Query& q) {
  Org org;
  org.id = q.Text(0);
  org.name = q.Text(1);
  org.platform_url = q.Text(2);
  org.mbox_opt_in = q.Int(3) != 0;
  org.created_at = q.Int(4);
  org.updated_at = q.Int(5);
  return org;
}

ApiKey ReadApiKey(const Query& q) {
  ApiKey key;
  key.id = q.Text(0);
  key.org_id = q.Text(1);
  key.hash = q.Text(2);
  key.scopes = static_cast<unsigned>(q.Int(3));
  key.created_at = q.Int(4);
  return key;
}

Delivery ReadDelivery(const Query& q) {
  Delivery d;
  d.id = q.Int(0);
  d.org_id = q.Text(1);
  d.subscription_id = q.Text(2);
  d.event_id = q.Text(3);
  d.event_type = q.Text(4);
  d.state = static_cast<DeliveryState>(q.Int(5));
  d.attempt_count = static_cast<int>(q.Int(6));
  d.created_at = q.Int(7);
  d.updated_at = q.Int(8);
  d.next_attempt_at = q.Int(9);
  return d;
}

Attempt ReadAttempt(const Query& q) {
  Attempt a;
  a.id = q.Int(0);
  a.at = q.Int(1);
  a.status = static_cast<int>(q.Int(2));
  a.latency_ms = static_cast<int>(q.Int(3));
  a.error = q.Text(4);
  a.response = q.Blob(5);
  return a;
}

std::string EncodeEventTypes(const std::vector<std::string>& types) {
  boost::json::array array;
  for (const std::string& type : types) array.emplace_back(type);
  return boost::json::serialize(array);
}

std::vector<std::string> DecodeEventTypes(std::string_view json) {
  std::vector<std::string> types;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(json, ec);
  if (ec || !value.is_array()) return types;
  for (const boost::json::value& item : value.get_array()) {
    if (item.is_string()) types.emplace_back(item.get_string());
  }
  return types;
}

Status QueryStatus(const Query& q, std::string_view what) {
  std::string message = std::string(what) + ": " + q.error();
  return IsUniqueViolation(q.rc()) ? Status::Conflict(std::move(message))
                                   : Status::Failed(std::move(message));
}

}  // namespace punt::store::sqlite
