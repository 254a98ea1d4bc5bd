// What a receiver's answer means for a delivery (DESIGN.md section 3).
// Pure. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/clock.h"

namespace punt::delivery {

struct Answer {
  int status = 0;            // 0 when no HTTP answer came
  std::string error;         // the transport error, when status is 0
  bool xapi = false;
  int statements = 1;        // statements in the request (xAPI)
};

enum class Verdict {
  kDelivered,
  kRetry,
  kDead,   // a single statement the LRS refuses: 400, 413, 422
  kSplit,  // an xAPI batch refused as a whole: retry its halves
};

enum class SubscriptionEffect { kNone, kCredentialsRefused, kDisable };

struct Outcome {
  Verdict verdict = Verdict::kRetry;
  SubscriptionEffect effect = SubscriptionEffect::kNone;
  std::string note;  // for the attempt log, e.g. "conflict: the LRS has this id"
};

Outcome Classify(const Answer& answer);

// A Retry-After value in seconds or as an HTTP date, as a delay in ms from
// `now`; nullopt when absent or unreadable.
std::optional<Millis> ParseRetryAfter(std::string_view value, Millis now);

}  // namespace punt::delivery
