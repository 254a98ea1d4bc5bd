// What one delivery request sends, whichever client carries it: the URL,
// the headers punt adds, and the body. Thread-safe.
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

// `now_ms` is the attempt's time: it becomes the webhook-timestamp. A batch
// of one hands its body over to the request (its body is left empty): such a
// batch is never sent again from memory (a retry is claimed anew from the
// store, and only batches of two or more are split), and a 1 KiB copy per
// delivery was the dispatcher's largest allocation.
OutgoingRequest BuildRequest(const Target& target, Batch& batch, Millis now_ms);

}  // namespace punt::delivery
