// Groups one subscription's claimed deliveries into requests (DESIGN.md
// section 3, "Batching"). Pure. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "store/model.h"

namespace punt::delivery {

// The deliveries one request sends: one webhook event, or one or more xAPI
// statements of one subscription.
using Batch = std::vector<store::DueDelivery>;

struct BatchLimits {
  size_t max_count = 100;        // statements per request
  size_t max_bytes = 1u << 20;   // a request's body stays under this
};

// Splits `due` (one xAPI subscription's deliveries) into batches of at most
// limits.max_count statements whose body (BatchBody) stays under
// limits.max_bytes, never holding one event id twice. A statement too large
// for any batch goes alone. Keeps the order of `due` where the limits allow.
std::vector<Batch> FormBatches(std::vector<store::DueDelivery> due, const BatchLimits& limits);

// The bytes to POST: a single delivery's body as it is, several statements
// as a JSON array of their bodies.
std::string BatchBody(const Batch& batch);

// The two halves of a batch the LRS refused whole (size >= 2), first half
// first.
std::pair<Batch, Batch> SplitBatch(Batch batch);

}  // namespace punt::delivery
