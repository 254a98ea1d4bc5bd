// The one clock punt reads. Tests pass a manual clock, so retry, lease and
// backoff logic runs without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace punt {

// Milliseconds since the Unix epoch.
using Millis = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis Now() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

// Thread-safe: the time is an atomic.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start = 1'764'331'200'000) : now_(start) {}
  Millis Now() const override { return now_.load(); }
  void Advance(Millis by) { now_ += by; }
  void Set(Millis to) { now_ = to; }

 private:
  std::atomic<Millis> now_;
};

}  // namespace punt
