// What one delivery request sends, whichever client carries it: the URL,
// the headers punt adds, and the body. Pure. Thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "delivery/batch.h"
#include "delivery/target.h"
#include "store/model.h"

namespace punt::delivery {

struct OutgoingRequest {
  std::string url;
  // Content-Type, the webhook signature headers or the xAPI version, and
  // Authorization; each client adds Host, Content-Length and User-Agent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// `now_ms` is the attempt's time: it becomes the webhook-timestamp.
OutgoingRequest BuildRequest(const Target& target, const Batch& batch, Millis now_ms);

}  // namespace punt::delivery
