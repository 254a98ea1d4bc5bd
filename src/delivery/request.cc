#include "delivery/request.h"

#include "util/text.h"
#include "webhook/envelope.h"
#include "webhook/signature.h"

namespace punt::delivery {
namespace {

constexpr size_t kHeaderLinesBytes = 256;  // a webhook's five headers, one secret

}  // namespace

void OutgoingRequest::AddHeader(std::string_view name, std::string_view value) {
  if (HasLineBreak(name) || HasLineBreak(value)) {
    refused = "a request header holds a line break";
    return;
  }
  header_lines.append(name).append(": ").append(value).append("\r\n");
}

OutgoingRequest BuildRequest(const Target& target, Batch& batch, Millis now_ms) {
  OutgoingRequest r;
  r.url = target.url;
  r.body = batch.size() > 1 ? BatchBody(batch) : std::move(batch.front().body);
  std::string& lines = r.header_lines;
  lines.reserve(kHeaderLinesBytes);
  lines.append("Content-Type: application/json\r\n");
  if (target.kind == store::SubscriptionKind::kXapi) {
    r.AddHeader("X-Experience-API-Version", target.xapi_version);
  } else {
    // Every value here is made by punt: ids, digits and base64.
    const store::DueDelivery& first = batch.front();
    const int64_t seconds = now_ms / 1000;
    const std::string id = webhook::MessageId(first.org_id, first.event_id);
    lines.append("webhook-id: ").append(id);
    lines.append("\r\nwebhook-timestamp: ").append(std::to_string(seconds));
    lines.append("\r\nwebhook-signature: ");
    webhook::AppendSignatureHeader(lines, target.signing_keys, id, seconds, r.body);
    lines.append("\r\n");
  }
  if (!target.authorization.empty()) r.AddHeader("Authorization", target.authorization);
  return r;
}

}  // namespace punt::delivery
