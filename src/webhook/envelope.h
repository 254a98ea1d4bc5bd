// The Standard Webhooks body and message id for an event.
// Thread-safe: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace punt::webhook {

// `{"type", "timestamp", "data"}` as deterministic JSON: `timestamp` is the
// event's occurred_at in UTC with milliseconds, `data` the event as ingested
// (unknown fields included, key order kept).
// REQUIRES: `event` passed catalog validation (an object whose `type` is a
// string and whose `occurred_at` is RFC 3339). `size_hint`: about how long
// the event's JSON is (its bytes in the request), so the body is allocated
// once instead of growing through every size up to it.
std::string WebhookBody(const boost::json::value& event, size_t size_hint = 0);

// "msg_" + StatementId(org_id, event_id): the same on every retry, replay and
// subscription.
std::string MessageId(std::string_view org_id, std::string_view event_id);

}  // namespace punt::webhook
