#include "delivery/target.h"

#include <algorithm>

#include "delivery/plain_client.h"
#include "webhook/signature.h"

namespace punt::delivery {

bool SendsAlike(const Target& a, const Target& b) {
  return a.id == b.id && a.org_id == b.org_id && a.kind == b.kind && a.url == b.url &&
         a.xapi_version == b.xapi_version && a.authorization == b.authorization &&
         a.signing_keys == b.signing_keys && a.max_in_flight == b.max_in_flight &&
         a.batch_size == b.batch_size && a.enabled == b.enabled;  // plain_http follows url
}

std::optional<Target> MakeTarget(const store::Subscription& sub, const security::Sealer& sealer,
                                 std::string* error) {
  Target t;
  t.id = sub.id;
  t.org_id = sub.org_id;
  t.kind = sub.kind;
  t.url = sub.url;
  t.plain_http = PlainClient::Carries(sub.url);
  t.xapi_version = sub.xapi_version;
  t.max_in_flight = sub.max_in_flight;
  t.batch_size = sub.kind == store::SubscriptionKind::kXapi ? std::max(sub.batch_size, 1) : 1;
  t.updated_at = sub.updated_at;
  t.enabled = sub.enabled;
  if (!sub.token_sealed.empty()) {
    auto token = sealer.Open(sub.token_sealed, sub.id);
    if (!token) {
      *error = "the subscription's token cannot be unsealed (was the master key changed?)";
      return std::nullopt;
    }
    t.authorization = sub.kind == store::SubscriptionKind::kXapi ? "Basic " + *token : *token;
  }
  if (!sub.secret_sealed.empty()) {
    auto secrets = sealer.Open(sub.secret_sealed, sub.id);
    if (!secrets) {
      *error = "the subscription's signing secret cannot be unsealed";
      return std::nullopt;
    }
    std::string_view rest = *secrets;
    while (!rest.empty()) {
      auto space = rest.find(' ');
      auto one = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      if (one.empty()) continue;
      auto key = webhook::DecodeSecret(one);
      if (!key) {
        *error = "the subscription's signing secret is malformed";
        return std::nullopt;
      }
      t.signing_keys.push_back(std::move(*key));
    }
  }
  return t;
}

}  // namespace punt::delivery
