// Mapping between model.h records and rows of the SQLite schema.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/model.h"
#include "store/sqlite/db.h"
#include "store/store.h"

namespace punt::store::sqlite {

// Columns of subscriptions, in the order BindSubscription numbers them
// (?1 id ... ?15 updated_at) and ReadSubscription reads them.
inline constexpr std::string_view kSubscriptionColumns =
    "id, org_id, kind, url, description, events, enabled, xapi_version, token_sealed, "
    "secret_sealed, token_hint, max_in_flight, batch_size, created_at, updated_at";

// What ReadSubscription reads: kSubscriptionColumns, then the health columns
// the store keeps itself.
inline constexpr std::string_view kSubscriptionReadColumns =
    "id, org_id, kind, url, description, events, enabled, xapi_version, token_sealed, "
    "secret_sealed, token_hint, max_in_flight, batch_size, created_at, updated_at, "
    "last_success_at, last_failure_at, failing_since, consecutive_failures, "
    "credentials_refused, disabled_reason";

void BindSubscription(Query& q, const Subscription& sub);
Subscription ReadSubscription(const Query& q);

inline constexpr std::string_view kOrgColumns =
    "id, name, platform_url, mbox_opt_in, created_at, updated_at";
Org ReadOrg(const Query& q);

inline constexpr std::string_view kApiKeyColumns = "id, org_id, hash, scopes, created_at";
ApiKey ReadApiKey(const Query& q);

// A delivery's state as the API reads it: a waiting one (pending 0,
// retrying 2) of a disabled subscription (s) is held (3), which is never
// written (schema step 7).
#define PUNT_DELIVERY_STATE \
  "(CASE WHEN s.enabled = 0 AND (d.state = 0 OR d.state = 2) THEN 3 ELSE d.state END)"
inline constexpr std::string_view kDeliveryStateColumn = PUNT_DELIVERY_STATE;

// A delivery joined with its subscription (s) and event (e); attempts empty.
inline constexpr std::string_view kDeliveryColumns =
    "d.id, s.org_id, d.subscription_id, e.event_id, e.type, " PUNT_DELIVERY_STATE
    ", d.attempt_count, d.created_at, d.updated_at, d.next_attempt_at";
#undef PUNT_DELIVERY_STATE
Delivery ReadDelivery(const Query& q);

inline constexpr std::string_view kAttemptColumns = "id, at, status, latency_ms, error, response";
Attempt ReadAttempt(const Query& q);

// The event type list as stored: a JSON array of strings.
std::string EncodeEventTypes(const std::vector<std::string>& types);
std::vector<std::string> DecodeEventTypes(std::string_view json);

// The Status for a failed query: Conflict for a UNIQUE/PRIMARY KEY
// violation, else Failed; `what` says what was being done.
Status QueryStatus(const Query& q, std::string_view what);

}  // namespace punt::store::sqlite
