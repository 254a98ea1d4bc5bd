#include "delivery/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace punt::delivery {
namespace {

constexpr Millis kSecond = 1000;
constexpr Millis kMinute = 60 * kSecond;
constexpr Millis kHour = 60 * kMinute;

}  // namespace

RetryPolicy::RetryPolicy()
    : RetryPolicy({5 * kSecond, 30 * kSecond, 2 * kMinute, 10 * kMinute, 30 * kMinute, kHour,
                   3 * kHour, 6 * kHour, 12 * kHour, 24 * kHour, 24 * kHour},
                  0.2) {}

RetryPolicy::RetryPolicy(std::vector<Millis> delays, double jitter)
    : delays_(std::move(delays)), jitter_(jitter) {}

std::optional<Millis> RetryPolicy::NextAttemptAt(Millis now, int failed_attempts,
                                                 double unit_random,
                                                 std::optional<Millis> retry_after) const {
  if (failed_attempts < 1 || static_cast<size_t>(failed_attempts) > delays_.size()) {
    return std::nullopt;
  }
  if (retry_after) return now + std::clamp<Millis>(*retry_after, kSecond, 24 * kHour);
  double base = static_cast<double>(delays_[failed_attempts - 1]);
  double factor = 1.0 + jitter_ * (2.0 * unit_random - 1.0);
  return now + static_cast<Millis>(std::llround(base * factor));
}

}  // namespace punt::delivery
