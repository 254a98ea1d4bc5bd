// When a failed delivery is tried next, and when it is given up (DESIGN.md
// section 3). Pure: the caller passes the time and a random number.
// Thread-safe: immutable after construction.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "util/clock.h"

namespace punt::delivery {

class RetryPolicy {
 public:
  // 5 s, 30 s, 2 m, 10 m, 30 m, 1 h, 3 h, 6 h, 12 h, 24 h, 24 h with ±20% jitter.
  RetryPolicy();
  RetryPolicy(std::vector<Millis> delays, double jitter);

  // When to try again after `failed_attempts` failed attempts (1 after the
  // first), or nullopt when the schedule is used up and the delivery is dead.
  // `unit_random` is uniform in [0, 1). A Retry-After (ms) replaces the
  // scheduled delay, clamped to [1 s, 24 h].
  std::optional<Millis> NextAttemptAt(Millis now, int failed_attempts, double unit_random,
                                      std::optional<Millis> retry_after = std::nullopt) const;

  size_t max_retries() const { return delays_.size(); }

 private:
  std::vector<Millis> delays_;
  double jitter_;
};

}  // namespace punt::delivery
