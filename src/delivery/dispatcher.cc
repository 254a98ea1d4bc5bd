#include "delivery/dispatcher.h"

#include <random>

#include "delivery/outcome.h"
#include "util/log.h"

namespace punt::delivery {
namespace {

constexpr Millis kIdlePoll = 1000;  // longest sleep with nothing due

// What an attempt tells the store about its subscription's health.
store::AttemptOutcome::Signal HealthSignal(const Outcome& verdict) {
  using Signal = store::AttemptOutcome::Signal;
  if (verdict.verdict == Verdict::kDelivered) return Signal::kSuccess;
  switch (verdict.effect) {
    case SubscriptionEffect::kCredentialsRefused:
      return Signal::kCredentialsRefused;
    case SubscriptionEffect::kDisable:
      return Signal::kGone;
    case SubscriptionEffect::kNone:
      break;
  }
  return Signal::kFailure;
}

Dispatcher::UnitRandom DefaultRandom() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

Dispatcher::Dispatcher(store::Store& store, const security::Sealer& sealer, const Clock& clock,
                       RetryPolicy policy, DispatcherOptions options, UnitRandom random)
    : store_(store),
      sealer_(sealer),
      clock_(clock),
      policy_(std::move(policy)),
      options_(std::move(options)),
      random_(random ? std::move(random) : DefaultRandom()) {
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
}

Dispatcher::~Dispatcher() {
  Stop(std::chrono::milliseconds(0));
  curl_multi_cleanup(multi_);
}

void Dispatcher::Start() {
  recorder_ = std::thread([this] { RecorderLoop(); });
  thread_ = std::thread([this] { Run(); });
}

void Dispatcher::Wake() {
  woken_ = true;
  curl_multi_wakeup(multi_);
}

void Dispatcher::Stop(std::chrono::milliseconds grace) {
  if (thread_.joinable()) {
    grace_deadline_ = clock_.Now() + grace.count();
    stopping_ = true;
    Wake();
    thread_.join();
  }
  if (recorder_.joinable()) {
    {
      std::lock_guard lock(recorder_mutex_);
      recorder_stop_ = true;
    }
    recorder_cv_.notify_one();
    recorder_.join();
  }
}

void Dispatcher::Run() {
  while (true) {
    Millis now = clock_.Now();
    if (stopping_ && (transfers_.empty() || now >= grace_deadline_)) break;
    if (!stopping_ && (woken_.exchange(false) || now >= next_due_at_)) Claim(now);

    int running = 0;
    curl_multi_perform(multi_, &running);
    CompleteFinished();

    Millis wait = std::clamp<Millis>(next_due_at_ - clock_.Now(), 0, kIdlePoll);
    if (!stopping_ && woken_) wait = 0;  // a finished request freed a slot: claim first
    if (stopping_) wait = std::min<Millis>(wait, 50);
    curl_multi_poll(multi_, nullptr, 0, static_cast<int>(wait), nullptr);
  }
  for (auto& [handle, transfer] : transfers_) curl_multi_remove_handle(multi_, handle);
  if (!transfers_.empty()) {
    LogWarn("dispatcher stopped with requests still open; they are retried after restart",
            {{"open", static_cast<int64_t>(transfers_.size())}});
  }
  transfers_.clear();
}

void Dispatcher::Claim(Millis now) {
  int free_total = options_.max_in_flight - static_cast<int>(transfers_.size());
  if (free_total <= 0) return;
  auto due = store_.ClaimDue(now, free_total, [this](const std::string& sub, int max_in_flight) {
    auto it = in_flight_by_subscription_.find(sub);
    return max_in_flight - (it == in_flight_by_subscription_.end() ? 0 : it->second);
  });
  for (auto& d : due) StartTransfer(std::move(d), now);
  // Deliveries due later, or due now but waiting for a busy subscription's
  // slot (a finished request claims again), wake us by the clock.
  auto next = store_.NextDueTime();
  next_due_at_ = next && *next > now ? *next : now + kIdlePoll;
}

const Target* Dispatcher::TargetFor(const store::DueDelivery& due, std::string* error) {
  auto it = targets_.find(due.subscription_id);
  if (it != targets_.end() && it->second.updated_at == due.subscription_updated_at) {
    return &it->second;
  }
  auto sub = store_.GetSubscription(due.org_id, due.subscription_id);
  if (!sub) {
    *error = "the subscription no longer exists";
    return nullptr;
  }
  auto target = MakeTarget(*sub, sealer_, error);
  if (!target) return nullptr;
  return &(targets_[due.subscription_id] = std::move(*target));
}

void Dispatcher::StartTransfer(store::DueDelivery due, Millis now) {
  std::string error;
  const Target* target = TargetFor(due, &error);
  if (!target) {
    store::AttemptOutcome outcome;
    outcome.delivery_id = due.delivery_id;
    outcome.attempt.at = now;
    outcome.attempt.error = error;
    auto next = policy_.NextAttemptAt(now, due.attempt_count + 1, random_());
    outcome.new_state = next ? store::DeliveryState::kRetrying : store::DeliveryState::kDead;
    outcome.next_attempt_at = next.value_or(now);
    outcome.signal = store::AttemptOutcome::Signal::kFailure;
    outcome.disable_if_failing_since_before = now - options_.disable_after;
    return Record(std::move(outcome));
  }
  auto transfer = std::make_unique<Transfer>(*target, std::move(due), options_.transport, now);
  CURL* handle = transfer->handle();
  ++in_flight_by_subscription_[transfer->due().subscription_id];
  transfers_.emplace(handle, std::move(transfer));
  curl_multi_add_handle(multi_, handle);
}

void Dispatcher::CompleteFinished() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    auto it = transfers_.find(msg->easy_handle);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, msg->easy_handle);
    if (--in_flight_by_subscription_[transfer->due().subscription_id] <= 0) {
      in_flight_by_subscription_.erase(transfer->due().subscription_id);
    }
    woken_ = true;  // a slot is free: claim again

    Millis now = clock_.Now();
    TransferResult result = transfer->Finish(msg->data.result);
    Outcome verdict = Classify({result.status, result.error, transfer->is_xapi(), 1});
    store::AttemptOutcome outcome;
    outcome.delivery_id = transfer->due().delivery_id;
    outcome.attempt = {0, transfer->started_at(), result.status, result.latency_ms,
                       verdict.note.empty() ? result.error : verdict.note, result.response};
    outcome.next_attempt_at = now;
    outcome.signal = HealthSignal(verdict);
    outcome.disable_if_failing_since_before = now - options_.disable_after;
    if (verdict.verdict == Verdict::kDelivered) {
      outcome.new_state = store::DeliveryState::kDelivered;
    } else if (verdict.verdict == Verdict::kDead) {
      outcome.new_state = store::DeliveryState::kDead;
    } else {
      std::optional<Millis> retry_after;
      if (result.retry_after) retry_after = ParseRetryAfter(*result.retry_after, now);
      auto next = policy_.NextAttemptAt(now, transfer->due().attempt_count + 1, random_(),
                                        retry_after);
      outcome.new_state = next ? store::DeliveryState::kRetrying : store::DeliveryState::kDead;
      outcome.next_attempt_at = next.value_or(now);
      if (!next) outcome.attempt.error += outcome.attempt.error.empty() ? "" : "; ";
      if (!next) outcome.attempt.error += "retries used up";
    }
    Record(std::move(outcome));
  }
}

void Dispatcher::Record(store::AttemptOutcome outcome) {
  {
    std::lock_guard lock(recorder_mutex_);
    recorder_queue_.push_back(std::move(outcome));
  }
  recorder_cv_.notify_one();
}

void Dispatcher::RecorderLoop() {
  std::unique_lock lock(recorder_mutex_);
  while (true) {
    recorder_cv_.wait(lock, [this] { return recorder_stop_ || !recorder_queue_.empty(); });
    if (recorder_queue_.empty() && recorder_stop_) return;
    std::vector<store::AttemptOutcome> batch;
    batch.swap(recorder_queue_);
    lock.unlock();
    store_.RecordAttempts(std::move(batch));
    lock.lock();
  }
}

}  // namespace punt::delivery
