// The records punt keeps. Plain values: no behaviour, no storage details.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.h"

namespace punt::store {

struct Org {
  std::string id;  // "org_..."
  std::string name;
  std::string platform_url;
  bool mbox_opt_in = false;
  Millis created_at = 0;
  Millis updated_at = 0;
};

enum Scope : unsigned { kScopeIngest = 1, kScopeManage = 2, kScopeAll = 3 };

struct ApiKey {
  std::string id;       // "key_...": public, shown in lists
  std::string org_id;
  std::string hash;     // SHA-256 of the secret key, hex; the key itself is never stored
  unsigned scopes = kScopeAll;
  Millis created_at = 0;
};

enum class SubscriptionKind { kWebhook, kXapi };
std::string_view KindName(SubscriptionKind kind);  // "webhook" or "xapi"
std::optional<SubscriptionKind> ParseKind(std::string_view text);

struct Subscription {
  std::string id;  // "sub_..."
  std::string org_id;
  SubscriptionKind kind = SubscriptionKind::kWebhook;
  std::string url;  // normalised: an xAPI url ends in /statements
  std::string description;
  std::vector<std::string> events;  // event type names, or {"*"}
  bool enabled = true;
  std::string xapi_version = "1.0.3";  // xAPI only
  // Sealed (AES-256-GCM) secrets: opaque bytes to the store.
  std::string token_sealed;   // xAPI: the Basic token; webhook: the Authorization value
  std::string secret_sealed;  // webhook signing secrets ("whsec_..."), space-separated
  std::string token_hint;     // the token, masked, for display
  int max_in_flight = 4;
  int batch_size = 100;
  Millis created_at = 0;
  Millis updated_at = 0;

  // Health, kept by the store from attempt outcomes (read-only to the API).
  Millis last_success_at = 0;
  Millis last_failure_at = 0;
  Millis failing_since = 0;  // the first failure since the last success; 0 if none
  int consecutive_failures = 0;
  bool credentials_refused = false;  // the receiver answered 401/403 last
  std::string disabled_reason;       // why it is disabled, when !enabled

  bool operator==(const Subscription&) const = default;
};

// "healthy", "failing", "credentials_refused" or "disabled".
std::string_view HealthState(const Subscription& sub);

// True when `sub` receives events of `type`.
bool Matches(const Subscription& sub, std::string_view type, bool learning_event);

// DESIGN.md section 3.
enum class DeliveryState { kPending, kInFlight, kRetrying, kHeld, kDelivered, kDead };
std::string_view StateName(DeliveryState state);
std::optional<DeliveryState> ParseState(std::string_view text);

// One event as the ingest path hands it to the store, bodies already built.
struct NewEvent {
  std::string event_id;  // the platform's id: unique within the organisation
  std::string type;
  Millis occurred_at = 0;
  bool learning = false;
  std::string webhook_body;  // always
  // Learning events only, and may be left empty when no xAPI subscription of
  // the organisation wants it (Store::WantsStatements): the store then builds
  // it if one does by the time the event is stored (Store::SetStatementBuilder).
  std::string statement_body;
};

struct IngestResult {
  bool ok = false;
  std::string error;  // when !ok: nothing of the batch was stored
  int stored = 0;      // new events
  int duplicates = 0;  // ids seen before (or twice in the batch): not stored again
  int deliveries = 0;  // delivery rows created
};

struct Attempt {
  int64_t id = 0;
  Millis at = 0;
  int status = 0;  // HTTP status; 0 when no answer came
  int latency_ms = 0;
  std::string error;     // transport error or the outcome's reason
  std::string response;  // the first 4 KiB of the answer
};

struct Delivery {
  int64_t id = 0;
  std::string org_id;
  std::string subscription_id;
  std::string event_id;
  std::string event_type;
  DeliveryState state = DeliveryState::kPending;
  int attempt_count = 0;
  Millis created_at = 0;
  Millis updated_at = 0;
  Millis next_attempt_at = 0;
  std::vector<Attempt> attempts;  // filled by GetDelivery only
};

// A delivery the dispatcher claimed (it is now in_flight), with the bytes to
// send: the body of its event in its subscription's format.
struct DueDelivery {
  int64_t delivery_id = 0;
  std::string subscription_id;
  std::string org_id;
  std::string event_id;
  int attempt_count = 0;  // attempts made before this one
  std::string body;
  Millis subscription_updated_at = 0;  // tells the dispatcher when its copy is stale
};

// What one attempt did to its delivery.
struct AttemptOutcome {
  int64_t delivery_id = 0;
  std::string subscription_id;  // optional: saves the store looking it up
  Attempt attempt;  // its id is assigned by the store
  DeliveryState new_state = DeliveryState::kRetrying;
  Millis next_attempt_at = 0;  // when new_state is retrying (or pending)

  // What the attempt says about its subscription's health.
  enum class Signal { kNone, kSuccess, kFailure, kCredentialsRefused, kGone };
  Signal signal = Signal::kNone;
  // A failing subscription whose failing_since is before this is disabled
  // (0: never). kGone disables it at once, with `attempt.error` as reason,
  // if it is still as the request was sent (its updated_at then, 0: as it
  // is): one an admin changed meanwhile, most often its URL, is not
  // disabled for the old receiver's answer.
  Millis disable_if_failing_since_before = 0;
  Millis subscription_updated_at = 0;
};

struct DeliveryQuery {
  std::string org_id;
  std::string subscription_id;
  std::optional<DeliveryState> state;
  int limit = 50;
  int64_t after_id = 0;  // cursor: deliveries with a larger id
  // Only deliveries whose updated_at is in [since, until).
  std::optional<Millis> since = std::nullopt;
  std::optional<Millis> until = std::nullopt;
};

}  // namespace punt::store
