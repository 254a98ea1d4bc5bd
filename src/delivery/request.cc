#include "delivery/request.h"

#include "webhook/envelope.h"
#include "webhook/signature.h"

namespace punt::delivery {

OutgoingRequest BuildRequest(const Target& target, Batch& batch, Millis now_ms) {
  OutgoingRequest r;
  r.url = target.url;
  r.body = batch.size() > 1 ? BatchBody(batch) : std::move(batch.front().body);
  r.headers.reserve(5);  // the most a request gets: no regrowth
  r.headers.emplace_back("Content-Type", "application/json");
  if (target.kind == store::SubscriptionKind::kXapi) {
    r.headers.emplace_back("X-Experience-API-Version", target.xapi_version);
  } else {
    const store::DueDelivery& first = batch.front();
    std::string id = webhook::MessageId(first.org_id, first.event_id);
    auto signed_headers = webhook::MakeHeaders(target.signing_keys, id, now_ms / 1000, r.body);
    r.headers.emplace_back("webhook-id", std::move(signed_headers.id));
    r.headers.emplace_back("webhook-timestamp", std::move(signed_headers.timestamp));
    r.headers.emplace_back("webhook-signature", std::move(signed_headers.signature));
  }
  if (!target.authorization.empty()) r.headers.emplace_back("Authorization", target.authorization);
  return r;
}

}  // namespace punt::delivery
