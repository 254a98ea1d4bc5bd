// What one delivery request sends, whichever client carries it: the URL,
// the headers punt adds, and the body. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "delivery/batch.h"
#include "delivery/target.h"
#include "store/model.h"

namespace punt::delivery {

struct OutgoingRequest {
  std::string url;
  // The headers punt adds, written out as "Name: value\r\n" each, in one
  // string (a request carries five; one string is one allocation):
  // Content-Type, the webhook signature headers or the xAPI version, and
  // Authorization. Each client adds Host, Content-Length and User-Agent.
  std::string header_lines;
  std::string body;
  // Set when the request must not go out, and why; the client fails it
  // with this error without sending anything.
  std::string refused;

  // A value holding a line break would add headers of its own (or end the
  // head early): the request is refused instead.
  void AddHeader(std::string_view name, std::string_view value);
};

// `now_ms` is the attempt's time: it becomes the webhook-timestamp. A batch
// of one hands its body over to the request (its body is left empty): a 1 KiB
// copy per delivery was the dispatcher's largest allocation. A retry is
// claimed anew from the store and only batches of two or more are split; a
// request the plain client hands back unsent (PlainClient::Withdraw) brings
// its body back with it, and the dispatcher puts it back in the batch.
OutgoingRequest BuildRequest(const Target& target, Batch& batch, Millis now_ms);

}  // namespace punt::delivery
