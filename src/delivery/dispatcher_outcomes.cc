// The dispatcher's outcomes: what an answer (or a failure to send) means
// for each delivery it carried, and the recorder thread that commits them.
#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

#include "delivery/dispatcher.h"
#include "delivery/outcome.h"
#include "util/event_id.h"

namespace punt::delivery {
namespace {

// The recorder gathers outcomes for up to this long after the first one
// arrives (or until it holds kGatherCount), so one commit carries more of
// them: a commit writes its pages whole, and some (the database header, the
// index interior pages) whatever it carries. The receiver has its request
// already; only the delivery's state in the store waits.
constexpr std::chrono::milliseconds kGatherFor{2};
constexpr size_t kGatherCount = 1024;

// What an attempt tells the store about its subscription's health.
store::AttemptOutcome::Signal HealthSignal(const Outcome& verdict) {
  using Signal = store::AttemptOutcome::Signal;
  if (verdict.verdict == Verdict::kDelivered) return Signal::kSuccess;
  // The LRS answered and refused one statement's content: the statement is
  // dead, the subscription's health is unchanged (docs/delivery.md).
  if (verdict.verdict == Verdict::kDead) return Signal::kNone;
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

}  // namespace

void Dispatcher::NoteRetry(Millis at) {
  soonest_retry_ = std::min(soonest_retry_, at);
  next_due_at_ = std::min(next_due_at_, at);
}

void Dispatcher::RecordFailure(const Batch& batch, const std::string& error, Millis now) {
  double random = random_();
  for (size_t i = 0; i < batch.size(); ++i) {
    store::AttemptOutcome outcome;
    outcome.delivery_id = batch[i].delivery_id;
    outcome.subscription_id = batch[i].subscription_id;
    outcome.attempt.at = now;
    outcome.attempt.error = error;
    auto next = policy_.NextAttemptAt(now, batch[i].attempt_count + 1, random);
    outcome.new_state = next ? store::DeliveryState::kRetrying : store::DeliveryState::kDead;
    outcome.next_attempt_at = next.value_or(now);
    if (next) NoteRetry(*next);
    if (i == 0) outcome.signal = store::AttemptOutcome::Signal::kFailure;
    outcome.disable_if_failing_since_before = now - options_.disable_after;
    Record(std::move(outcome));
  }
}

// Turns one request's answer into an outcome for each delivery it carried.
// A batch the LRS refused whole goes back to the front of its subscription's
// queue as two halves.
void Dispatcher::Complete(const std::string& subscription_id, Batch batch, Millis started_at,
                          bool xapi, uint64_t destination, TransferResult result) {
  Millis now = clock_.Now();
  const size_t count = batch.size();
  Answer answer{result.status, result.error, xapi, static_cast<int>(count)};
  // The ids (a hash each) matter only to an answer with a body that could
  // list them: not to a 204 or an answer without a body.
  if (xapi && !result.response.empty()) {
    answer.body = result.response;
    answer.body_cut = result.response.size() >= options_.transport.response_keep;
    for (const auto& d : batch) answer.ids.push_back(StatementId(d.org_id, d.event_id));
  }
  Outcome verdict = Classify(answer);
  // The plain client stopped the subscription's lane on this answer
  // (stops_lane) and keeps it stopped until told the answer was seen; what
  // it sends back withdrawn meanwhile is given back or built anew below.
  if (verdict.effect == SubscriptionEffect::kDisable) plain_.Withdraw(subscription_id);
  // Gone is said of a URL: one the subscription no longer has (an admin
  // moved it while the request was open, often away from that very
  // receiver) disables nothing; its deliveries are retried at the new one.
  auto target = targets_.find(subscription_id);
  if (verdict.effect == SubscriptionEffect::kDisable && target != targets_.end() &&
      target->second.destination != destination) {
    verdict.effect = SubscriptionEffect::kNone;
    verdict.note = "the subscription's former URL answered " + std::to_string(result.status) +
                   "; the new one is not disabled for it";
  }
  store::Attempt attempt{0,
                         started_at,
                         result.status,
                         result.latency_ms,
                         verdict.note.empty() ? result.error : verdict.note,
                         std::move(result.response)};

  if (verdict.verdict == Verdict::kSplit) {
    attempt.error = "the LRS refused a batch of " + std::to_string(count) +
                    " statements whole: sending it again in halves";
    for (const auto& d : batch) {
      store::AttemptOutcome outcome;
      outcome.delivery_id = d.delivery_id;
      outcome.attempt = attempt;
      outcome.new_state = store::DeliveryState::kInFlight;
      Record(std::move(outcome));
    }
    auto [first, second] = SplitBatch(std::move(batch));
    auto& queue = waiting_[subscription_id];
    queue.push_front(std::move(second));
    queue.push_front(std::move(first));
    waiting_count_ += 2;
    return;
  }
  // Gone: nothing more is sent to it from now, before the store has the
  // disable committed.
  if (verdict.effect == SubscriptionEffect::kDisable) StopSending(subscription_id);

  std::optional<Millis> retry_after;
  if (result.retry_after) retry_after = ParseRetryAfter(*result.retry_after, now);
  double random = random_();  // one draw per request keeps a batch together
  for (size_t i = 0; i < count; ++i) {
    const store::DueDelivery& d = batch[i];
    store::AttemptOutcome outcome;
    outcome.delivery_id = d.delivery_id;
    outcome.subscription_id = d.subscription_id;
    outcome.attempt = attempt;
    outcome.next_attempt_at = now;
    // One request is one signal about the subscription's health.
    if (i == 0) outcome.signal = HealthSignal(verdict);
    outcome.disable_if_failing_since_before = now - options_.disable_after;
    // A 410 disables the subscription as this dispatcher sent to it; the
    // store leaves one an admin changed since (not seen here yet) enabled.
    if (target != targets_.end()) outcome.subscription_updated_at = target->second.updated_at;
    if (verdict.verdict == Verdict::kDelivered) {
      outcome.new_state = store::DeliveryState::kDelivered;
    } else if (verdict.verdict == Verdict::kDead) {
      outcome.new_state = store::DeliveryState::kDead;
    } else {
      auto next = policy_.NextAttemptAt(now, d.attempt_count + 1, random, retry_after);
      outcome.new_state = next ? store::DeliveryState::kRetrying : store::DeliveryState::kDead;
      outcome.next_attempt_at = next.value_or(now);
      if (next) NoteRetry(*next);
      if (!next) outcome.attempt.error += outcome.attempt.error.empty() ? "" : "; ";
      if (!next) outcome.attempt.error += "retries used up";
    }
    Record(std::move(outcome));
  }
}

void Dispatcher::Record(store::AttemptOutcome outcome) { records_.push_back(std::move(outcome)); }

void Dispatcher::HandOverRecords() {
  if (records_.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(recorder_mutex_);
    if (recorder_queue_.empty()) {
      recorder_queue_.swap(records_);
      recorder_first_at_ = std::chrono::steady_clock::now();
      wake = true;
    } else {
      std::move(records_.begin(), records_.end(), std::back_inserter(recorder_queue_));
    }
    wake = wake || recorder_queue_.size() >= kGatherCount;
  }
  records_.clear();
  // The recorder waits for the first outcome, then for the gathering to end:
  // waking it for each one in between would only cost a switch.
  if (wake) recorder_cv_.notify_one();
}

void Dispatcher::RecorderLoop() {
  std::unique_lock lock(recorder_mutex_);
  while (true) {
    recorder_cv_.wait(lock, [this] { return recorder_stop_ || !recorder_queue_.empty(); });
    if (recorder_queue_.empty() && recorder_stop_) return;
    recorder_cv_.wait_until(lock, recorder_first_at_ + kGatherFor, [this] {
      return recorder_stop_ || recorder_queue_.size() >= kGatherCount;
    });
    std::vector<store::AttemptOutcome> batch;
    batch.swap(recorder_queue_);
    lock.unlock();
    store_.RecordAttempts(std::move(batch));
    lock.lock();
  }
}

}  // namespace punt::delivery
