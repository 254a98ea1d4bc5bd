// The dispatcher: one thread running a libcurl multi loop that claims due
// deliveries, groups each xAPI subscription's into batches, sends them, and
// hands each attempt's outcome to a recorder thread that commits it.
// Requests to plain http:// URLs go to the PlainClient's thread instead of
// libcurl; its answers wake this loop like a commit does.
// dispatcher.cc: the loop, claims, queues and copies of the subscriptions;
// dispatcher_outcomes.cc: what answers mean, and the recorder.
// DESIGN.md section 3; docs/architecture.md.
//
// Thread-safety: Start, Stop and Wake may be called from any thread; all
// other state belongs to the dispatcher thread. Wake is what the store's
// commit listener calls, so a commit starts sending at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "delivery/batch.h"
#include "delivery/plain_client.h"
#include "delivery/retry_policy.h"
#include "delivery/target.h"
#include "delivery/transfer.h"
#include "security/sealer.h"
#include "store/store.h"

namespace punt::delivery {

struct DispatcherOptions {
  int max_in_flight = 256;  // requests in flight in total
  TransportOptions transport;
  // A subscription failing this long without a success is disabled.
  Millis disable_after = 5LL * 24 * 3600 * 1000;
  // The longest real-time sleep with nothing due. Commits, finished requests
  // and the claimer's answers wake the dispatcher at once; tests make this
  // long so that a missed wake-up shows as a hang, not as a slow test.
  Millis idle_poll = 1000;
};

class Dispatcher {
 public:
  using UnitRandom = std::function<double()>;  // uniform in [0, 1)

  Dispatcher(store::Store& store, const security::Sealer& sealer, const Clock& clock,
             RetryPolicy policy, DispatcherOptions options, UnitRandom random = {});
  ~Dispatcher();

  void Start();
  void Wake();
  // Stops claiming, gives requests in flight up to `grace` to finish and
  // records their outcomes. Requests still open after that are abandoned:
  // their deliveries stay in_flight until the next start resets them.
  void Stop(std::chrono::milliseconds grace);

 private:
  void Run();
  // A claim, prepared on the dispatcher thread, run on the claimer thread
  // (ClaimDue reads the database), answered back to the dispatcher thread.
  struct ClaimRequest {
    Millis now = 0;
    int limit = 0;  // requests
    std::unordered_map<std::string, int> used;  // in flight + waiting, per subscription
    std::unordered_set<std::string> drained;
    // The answer.
    std::unordered_map<std::string, int> offered;  // slots offered, per subscription
    std::vector<store::DueDelivery> due;
    std::optional<Millis> next_due;
    uint64_t subscription_changes = 0;  // the store's count when it was asked for
  };
  void RequestClaim(Millis now);
  void ClaimerLoop();
  void TakeClaim(Millis now);
  void Enqueue(std::vector<store::DueDelivery> due, Millis now);
  void StartWaiting(Millis now);
  void StartTransfer(const Target& target, Batch batch, Millis now);
  bool CompleteFinished();  // true when a curl request finished
  bool CompletePlain();     // true when a plain request finished
  void AfterRequest(const std::string& subscription_id);
  // What one request's answer means for each delivery it carried;
  // `destination` is the target's when the request was built.
  void Complete(const std::string& subscription_id, Batch batch, Millis started_at, bool xapi,
                uint64_t destination, TransferResult result);
  // Requests started: curl's, and those handed to the plain client (open, or
  // waiting in its lane).
  int OpenRequests() const { return static_cast<int>(transfers_.size() + plain_open_.size()); }
  int OpenAtReceivers() const;
  void RecordFailure(const Batch& batch, const std::string& error, Millis now);
  void Record(store::AttemptOutcome outcome);  // kept until HandOverRecords
  void HandOverRecords();  // gives what Record kept this turn to the recorder
  void NoteRetry(Millis at);  // wakes the loop for a retry not yet committed
  // Null with `*error` set when the deliveries cannot be sent (their
  // subscription is gone, its secret does not open), or with `*unreadable`
  // set when the store could not be read (they go back unsent).
  const Target* TargetFor(const store::DueDelivery& due, std::string* error, bool* unreadable);
  // Subscriptions changed (store::Store::SubscriptionChanges moved on from
  // `since`): reads again those of them with requests waiting here or in a
  // plain-client lane (all of those, when the store no longer knows which).
  void ReloadTargets(uint64_t since);
  // Puts `fresh` in place of a subscription's copy, taking back what the
  // copy's requests no longer match.
  void Replace(Target& current, Target fresh);
  // Marks the copy disabled: what waits for it goes back to the store (the
  // lane's calls too), unsent.
  void StopSending(const std::string& subscription_id);
  // Withdrawn plain-client calls whose subscription still takes them wait
  // again, at the front of its queue, in their order.
  void Requeue(std::unordered_map<std::string, std::vector<Batch>> withdrawn);
  int InFlight(const std::string& subscription_id) const;
  // Requests handed to the subscription's plain-client lane, open or not.
  int HandedToLane(const std::string& subscription_id) const;
  // How many of those the lane may have open.
  int LaneLimit(const Target& target) const;
  void RecorderLoop();

  store::Store& store_;
  const security::Sealer& sealer_;
  const Clock& clock_;
  const RetryPolicy policy_;
  const DispatcherOptions options_;
  UnitRandom random_;

  CURLM* multi_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> woken_{true};
  std::atomic<int64_t> grace_deadline_{0};

  PlainClient plain_;

  // Dispatcher thread only.
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  // Requests with the plain client, by tag, and those to hand it next.
  struct PlainRequest {
    Batch batch;
    std::string subscription_id;
    Millis started_at = 0;
    bool xapi = false;
    uint64_t destination = 0;  // Target::destination when it was built
  };
  std::unordered_map<uint64_t, PlainRequest> plain_open_;
  std::vector<PlainClient::Call> plain_outbox_;
  uint64_t next_tag_ = 1;
  std::vector<CURL*> idle_handles_;  // finished easy handles, reused by the next transfers
  std::unordered_map<std::string, int> in_flight_by_subscription_;
  // Of those, libcurl's (transfers_): a subscription moved from https:// to
  // http:// may have some open beside its plain-client lane.
  std::unordered_map<std::string, int> curl_by_subscription_;
  // Plain http:// subscriptions whose max_in_flight was lowered while their
  // lane had more requests open than it now allows: how many it may still
  // have open (each that ends takes one off, down to max_in_flight).
  std::unordered_map<std::string, int> lane_open_limit_;
  // Claimed batches waiting for one of their subscription's slots: the
  // halves of a split batch, and what a claim brought beyond the free slots.
  std::unordered_map<std::string, std::deque<Batch>> waiting_;
  size_t waiting_count_ = 0;  // batches in waiting_
  std::unordered_map<std::string, Target> targets_;
  // Subscriptions a 410 stopped here, with their copy's updated_at then:
  // their copies stay stopped until the store shows a change.
  std::unordered_map<std::string, Millis> stopped_here_;
  Millis next_due_at_ = 0;
  bool refill_ = false;  // a subscription's queue ran low: claim again
  // The earliest retry this dispatcher has scheduled since it last passed.
  Millis soonest_retry_ = std::numeric_limits<Millis>::max();
  // Subscriptions whose last claim found nothing more due; skipped until a
  // commit or the clock makes deliveries due.
  std::unordered_set<std::string> drained_;
  bool claim_filled_ = false;  // the last claim took all it could: more may wait
  bool claim_outstanding_ = false;  // a request is with the claimer
  bool want_claim_ = false;         // claim as soon as none is outstanding
  bool claim_stale_ = false;        // a wake came while the outstanding claim ran
  // The store's SubscriptionChanges when targets_ was last brought up to date.
  uint64_t subscription_changes_ = 0;
  // A claim may have read subscriptions before a change: those changed
  // since this count are read again.
  std::optional<uint64_t> reload_since_;

  // The claimer's request and answer; guarded by claim_mutex_.
  std::mutex claim_mutex_;
  std::condition_variable claim_cv_;
  std::unique_ptr<ClaimRequest> claim_request_;
  std::unique_ptr<ClaimRequest> claim_result_;
  bool claimer_stop_ = false;
  std::thread claimer_;

  // Outcomes of this loop turn, handed to the recorder at its end (one
  // wake-up per turn, not per delivery). The dispatcher thread's.
  std::vector<store::AttemptOutcome> records_;

  // The recorder's queue; guarded by recorder_mutex_.
  std::mutex recorder_mutex_;
  std::condition_variable recorder_cv_;
  std::vector<store::AttemptOutcome> recorder_queue_;
  std::chrono::steady_clock::time_point recorder_first_at_;  // when the queue last stopped being empty
  bool recorder_stop_ = false;
  std::thread recorder_;
};

}  // namespace punt::delivery
