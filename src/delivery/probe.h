// The test button (DESIGN.md section 3): one request to a subscription's
// receiver that proves the URL and the credentials, under the same rules as
// deliveries (destination guard at connect time, timeouts, no redirects,
// http/https only).
//   xAPI:    GET {url}?limit=1 with the subscription's headers; writes
//            nothing into the LRS.
//   webhook: a signed POST of a `punt.test` event (webhook-id "msg_test_...").
//
// Thread-safety: Probe blocks for up to options.total_timeout_ms; call it
// from a thread that may block (never an HTTP or dispatcher thread). It
// shares no state, so any number may run at once.
#pragma once

#include <string>
#include <string_view>

#include "delivery/target.h"
#include "delivery/transfer.h"
#include "util/clock.h"

namespace punt::delivery {

struct ProbeResult {
  int status = 0;  // the receiver's HTTP status; 0 when no answer came
  int latency_ms = 0;
  std::string body;   // the first options.response_keep bytes of the answer
  std::string error;  // the transport error, when status is 0
};

// The body of the webhook test: {"type":"punt.test","timestamp":<now>,
// "data":{"subscription_id":<id>}}, timestamp as YYYY-MM-DDTHH:MM:SS.mmmZ.
std::string TestEventBody(std::string_view subscription_id, Millis now_ms);

// The URL the xAPI test reads: `url` with limit=1 added to its query.
std::string XapiProbeUrl(std::string_view url);

// Sends the test request for `target` and waits for the answer. A null
// options.guard refuses every non-public address (it never means "no check").
ProbeResult Probe(const Target& target, const TransportOptions& options, Millis now_ms);

}  // namespace punt::delivery
