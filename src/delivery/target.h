// Everything the dispatcher needs to send to one subscription, with its
// secrets unsealed. Loaded from the store and cached by the dispatcher thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "security/sealer.h"
#include "store/model.h"

namespace punt::delivery {

struct Target {
  std::string id;
  std::string org_id;
  store::SubscriptionKind kind = store::SubscriptionKind::kWebhook;
  std::string url;
  std::string xapi_version;
  std::string authorization;  // the whole header value, or empty
  std::vector<std::string> signing_keys;  // webhook: decoded secret bytes
  int max_in_flight = 4;
  int batch_size = 1;  // deliveries per request: up to the subscription's for xAPI, else 1
  bool plain_http = false;  // an http:// URL: sent by the PlainClient, not libcurl
  Millis updated_at = 0;
  bool enabled = true;  // false: what waits for it goes back to the store unsent
  // Counts the URLs this copy has had in the dispatcher (Dispatcher::Replace):
  // a 410 from a URL the subscription no longer has disables nothing.
  uint64_t destination = 0;
};

// Whether requests built from either would be the same (updated_at aside:
// it moves with any change, and two changes can share a millisecond).
bool SendsAlike(const Target& a, const Target& b);

// nullopt when a sealed secret does not open (wrong master key, tampering).
std::optional<Target> MakeTarget(const store::Subscription& sub, const security::Sealer& sealer,
                                 std::string* error);

}  // namespace punt::delivery
