// What a receiver's answer means for a delivery (DESIGN.md section 3).
// Pure. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.h"

namespace punt::delivery {

struct Answer {
  int status = 0;            // 0 when no HTTP answer came
  std::string error;         // the transport error, when status is 0
  bool xapi = false;
  int statements = 1;        // statements in the request (xAPI)
  // xAPI: the answer's body as kept, whether it was longer (cut off), and
  // the ids of the statements sent. A 2xx but 204 delivers them only when
  // the body is the JSON array of ids the LRS stored and lists each of them
  // (xAPI 1.0.3, POST /statements); of a cut body, the ids it lists in full.
  std::string_view body = {};
  bool body_cut = false;
  std::vector<std::string> ids = {};
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
