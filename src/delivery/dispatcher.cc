#include "delivery/dispatcher.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <unordered_set>
#include <utility>

#include "delivery/outcome.h"
#include "delivery/request.h"
#include "util/log.h"
#include "util/thread_name.h"

namespace punt::delivery {
namespace {

constexpr Millis kNever = std::numeric_limits<Millis>::max();
constexpr size_t kMaxBatchBytes = 1u << 20;  // an xAPI batch's body stays under 1 MiB
// Claims fetch up to kClaimAhead times a subscription's request slots, so
// the next requests wait in memory instead of behind a claim's transaction,
// and a claim's fixed cost (a fresh read snapshot re-reads its index pages)
// is shared by more deliveries. In all, what is claimed stays under
// kClaimAhead times --max-in-flight requests, which bounds the memory the
// bodies take (an xAPI request carries up to 1 MiB).
constexpr int kClaimAhead = 4;
// A subscription on plain http:// has up to kPlainHandedAhead times its
// max_in_flight requests handed to the plain client, which keeps
// max_in_flight of them open and starts the next the moment one ends (its
// lanes): the receiver is not kept waiting for this thread's turn.
constexpr int kPlainHandedAhead = 2;
// A request carrying one delivery (a webhook) is short, so at twice its
// slots a lane ran dry for 37% of the requests ended, and the connection
// waited for this thread's next turn; such subscriptions get twice the
// depth, claimed and handed. (For batches of 100 statements twice the depth
// measured no faster, and holds twice the bodies in memory.)
constexpr int kSingleDeliveryDepth = 2;

int DepthFactor(int batch_size) { return batch_size <= 1 ? kSingleDeliveryDepth : 1; }

// The requests' worth of deliveries a subscription may have claimed.
int ClaimLimit(int max_in_flight, int batch_size) {
  return kClaimAhead * DepthFactor(batch_size) * max_in_flight;
}

// The requests of a subscription this dispatcher may have started: those
// open at the receiver are never more than its max_in_flight.
int StartLimit(const Target& target) {
  if (!target.plain_http) return target.max_in_flight;
  return kPlainHandedAhead * DepthFactor(target.batch_size) * target.max_in_flight;
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
      random_(random ? std::move(random) : DefaultRandom()),
      plain_(
          options_.transport, [this] { curl_multi_wakeup(multi_); },
          [](int status) {  // gone: nothing more is sent to it (StopSending)
            return Classify({status, "", false, 1}).effect == SubscriptionEffect::kDisable;
          }) {
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
}

Dispatcher::~Dispatcher() {
  Stop(std::chrono::milliseconds(0));
  for (CURL* handle : idle_handles_) curl_easy_cleanup(handle);
  curl_multi_cleanup(multi_);
}

void Dispatcher::Start() {
  recorder_ = std::thread([this] {
    NameThisThread("punt-recorder");
    RecorderLoop();
  });
  claimer_ = std::thread([this] {
    NameThisThread("punt-claimer");
    ClaimerLoop();
  });
  plain_.Start();
  thread_ = std::thread([this] {
    NameThisThread("punt-dispatch");
    Run();
  });
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
  plain_.Stop();  // what it still has open is abandoned, like curl's
  if (claimer_.joinable()) {  // a claim still running finishes; its deliveries stay in_flight
    {
      std::lock_guard lock(claim_mutex_);
      claimer_stop_ = true;
    }
    claim_cv_.notify_one();
    claimer_.join();
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
    // The wake-up is taken before the clock is read: a claim it causes then
    // asks with a time no earlier than the commit that woke us, so it finds
    // what that commit made due (read the other way round, a commit landing
    // between the two would be missed until the idle poll).
    bool woken = woken_.exchange(false);
    Millis now = clock_.Now();
    if (stopping_ && (OpenRequests() == 0 || now >= grace_deadline_)) break;
    if (!stopping_) {
      TakeClaim(now);
      // A commit made deliveries due, one is due by the clock, or a
      // subscription's queue ran low: claim (one claim at a time; a wish
      // made while one runs is kept for when it answers).
      bool due = !claim_outstanding_ && now >= next_due_at_;
      if (woken || due) {  // anything may be due again
        drained_.clear();
        claim_stale_ = claim_outstanding_;  // its "nothing more due" may be out of date
      }
      if (woken || due || refill_) want_claim_ = true;
      refill_ = false;
      if (want_claim_ && !claim_outstanding_) {
        want_claim_ = false;
        RequestClaim(now);
      }
      const uint64_t changes = store_.SubscriptionChanges();
      if (changes != subscription_changes_ || reload_since_) {
        const uint64_t since = std::min(subscription_changes_, reload_since_.value_or(changes));
        reload_since_.reset();
        subscription_changes_ = changes;
        ReloadTargets(since);
      }
      StartWaiting(now);
      if (!plain_outbox_.empty()) plain_.Submit(std::exchange(plain_outbox_, {}));
    }

    int running = 0;
    curl_multi_perform(multi_, &running);
    bool slot_freed = CompleteFinished();
    slot_freed = CompletePlain() || slot_freed;
    HandOverRecords();

    Millis wait = std::clamp<Millis>(next_due_at_ - clock_.Now(), 0, options_.idle_poll);
    if (claim_outstanding_) wait = options_.idle_poll;  // the claimer's answer wakes us
    if (!stopping_ && (woken_ || refill_ || (slot_freed && waiting_count_ > 0) ||
                       (want_claim_ && !claim_outstanding_))) {
      wait = 0;
    }
    if (stopping_) wait = std::min<Millis>(wait, 50);
    curl_multi_poll(multi_, nullptr, 0, static_cast<int>(wait), nullptr);
  }
  HandOverRecords();
  for (auto& [handle, transfer] : transfers_) curl_multi_remove_handle(multi_, handle);
  if (OpenRequests() > 0 || waiting_count_ > 0) {
    LogWarn("dispatcher stopped with requests still open or waiting; they are retried after "
            "restart",
            {{"open", static_cast<int64_t>(OpenRequests())},
             {"waiting", static_cast<int64_t>(waiting_count_)}});
  }
  transfers_.clear();
  curl_by_subscription_.clear();
  lane_open_limit_.clear();
  plain_open_.clear();
  waiting_.clear();
  waiting_count_ = 0;
}

int Dispatcher::InFlight(const std::string& subscription_id) const {
  auto it = in_flight_by_subscription_.find(subscription_id);
  return it == in_flight_by_subscription_.end() ? 0 : it->second;
}

int Dispatcher::HandedToLane(const std::string& subscription_id) const {
  auto curl = curl_by_subscription_.find(subscription_id);
  return InFlight(subscription_id) - (curl == curl_by_subscription_.end() ? 0 : curl->second);
}

int Dispatcher::LaneLimit(const Target& target) const {
  auto lowered = lane_open_limit_.find(target.id);
  return lowered == lane_open_limit_.end() ? target.max_in_flight : lowered->second;
}

// Asks the claimer thread for due deliveries, with a snapshot of what each
// subscription has in flight or waiting (the claim runs on the writer
// thread; the dispatcher's own maps are not shared).
void Dispatcher::RequestClaim(Millis now) {
  auto request = std::make_unique<ClaimRequest>();
  request->now = now;
  request->limit =
      kClaimAhead * options_.max_in_flight - OpenRequests() - static_cast<int>(waiting_count_);
  for (const auto& [sub, n] : in_flight_by_subscription_) request->used[sub] += n;
  for (const auto& [sub, queue] : waiting_) request->used[sub] += static_cast<int>(queue.size());
  request->drained = drained_;
  request->subscription_changes = store_.SubscriptionChanges();
  next_due_at_ = now + options_.idle_poll;  // the answer sets it
  {
    std::lock_guard lock(claim_mutex_);
    claim_request_ = std::move(request);
  }
  claim_outstanding_ = true;
  claim_cv_.notify_one();
}

void Dispatcher::ClaimerLoop() {
  std::unique_lock lock(claim_mutex_);
  while (true) {
    claim_cv_.wait(lock, [this] { return claimer_stop_ || claim_request_ != nullptr; });
    if (claimer_stop_) return;
    std::unique_ptr<ClaimRequest> request = std::move(claim_request_);
    lock.unlock();
    ClaimRequest& r = *request;
    if (r.limit > 0) {
      // Drained subscriptions are skipped: the store need not look at them.
      auto free_slots = [&r](const std::string& sub, int max_in_flight, int batch_size) {
        if (r.drained.count(sub)) return 0;
        auto used = r.used.find(sub);
        int slots =
            ClaimLimit(max_in_flight, batch_size) - (used == r.used.end() ? 0 : used->second);
        if (slots > 0) r.offered[sub] = slots;
        return slots;
      };
      r.due = store_.ClaimDue(r.now, r.limit, free_slots);
    }
    // Only what falls due later matters (TakeClaim): deliveries due now
    // wait for a slot or are claimed, and a finished request claims again.
    r.next_due = store_.NextDueTime(r.now);
    lock.lock();
    claim_result_ = std::move(request);
    curl_multi_wakeup(multi_);
  }
}

// Takes the claimer's answer, if one came: queues the deliveries, notes the
// subscriptions with nothing more due, and when to look again.
void Dispatcher::TakeClaim(Millis now) {
  std::unique_ptr<ClaimRequest> result;
  {
    std::lock_guard lock(claim_mutex_);
    result = std::move(claim_result_);
  }
  if (!result) return;
  claim_outstanding_ = false;
  bool stale = std::exchange(claim_stale_, false);
  // A subscription changed while the claim read: its deliveries may have
  // been read with the subscription as it was.
  if (result->subscription_changes != store_.SubscriptionChanges()) {
    reload_since_ = std::min(reload_since_.value_or(result->subscription_changes),
                             result->subscription_changes);
  }
  std::unordered_map<std::string, int> taken;
  for (const auto& d : result->due) ++taken[d.subscription_id];
  Enqueue(std::move(result->due), now);
  // A subscription that got less than it was offered has nothing more due,
  // unless the claim filled the total: the store then asked the last one it
  // visited for less than its slots (and left the rest unvisited), so a
  // shortfall says nothing. Marked drained then, a subscription was skipped
  // by every claim until a commit woke us or the clock came to the next
  // retry, with its backlog pending.
  int requests = 0;
  std::vector<const std::string*> short_of_slots;
  for (const auto& [sub, slots] : result->offered) {
    auto target = targets_.find(sub);
    int batch = target == targets_.end() ? 1 : target->second.batch_size;
    const int got = taken[sub];
    requests += (got + batch - 1) / batch;
    if (got < slots * batch) short_of_slots.push_back(&sub);
  }
  claim_filled_ = result->limit > 0 && requests >= result->limit;
  if (!stale && !claim_filled_) {
    for (const std::string* sub : short_of_slots) drained_.insert(*sub);
  }
  // Deliveries due later, or due now but waiting for a busy subscription's
  // slot (a finished request claims again), wake us by the clock.
  const auto& next = result->next_due;
  next_due_at_ = next && *next > now ? *next : now + options_.idle_poll;
  // A retry this dispatcher scheduled may not be committed yet, so the store
  // cannot know it: wake for it too.
  if (soonest_retry_ > now) {
    next_due_at_ = std::min(next_due_at_, soonest_retry_);
  } else {
    soonest_retry_ = kNever;
  }
}

// Groups what a claim brought by subscription (in claim order) and forms
// each subscription's batches.
void Dispatcher::Enqueue(std::vector<store::DueDelivery> due, Millis now) {
  std::vector<std::pair<std::string, std::vector<store::DueDelivery>>> groups;
  std::unordered_map<std::string, size_t> group_of;
  for (auto& d : due) {
    auto [it, added] = group_of.try_emplace(d.subscription_id, groups.size());
    if (added) groups.push_back({d.subscription_id, {}});
    groups[it->second].second.push_back(std::move(d));
  }
  for (auto& [sub_id, deliveries] : groups) {
    std::string error;
    bool unreadable = false;
    const Target* target = TargetFor(deliveries.front(), &error, &unreadable);
    if (unreadable) {
      // Given back unsent, and not offered to claims again until a commit
      // wakes us: a claim now would only fail to read again.
      store_.ReleaseClaims(deliveries);
      drained_.insert(sub_id);
      continue;
    }
    if (!target) {
      RecordFailure(deliveries, error, now);
      continue;
    }
    auto& queue = waiting_[sub_id];
    const size_t before = queue.size();
    if (target->batch_size > 1) {
      for (Batch& batch : FormBatches(std::move(deliveries),
                                      {static_cast<size_t>(target->batch_size), kMaxBatchBytes})) {
        queue.push_back(std::move(batch));
      }
    } else {
      // Not Batch{std::move(d)}: an initializer list is copied from, body
      // and all.
      for (auto& d : deliveries) queue.emplace_back().push_back(std::move(d));
    }
    waiting_count_ += queue.size() - before;
  }
}

// Requests open at the receivers: what a subscription has handed to the
// plain client beyond its max_in_flight waits in its lane instead.
int Dispatcher::OpenAtReceivers() const {
  int waiting_in_lanes = 0;
  for (const auto& [sub_id, n] : in_flight_by_subscription_) {
    auto target = targets_.find(sub_id);
    if (target == targets_.end() || !target->second.plain_http) continue;
    waiting_in_lanes += std::max(0, HandedToLane(sub_id) - LaneLimit(target->second));
  }
  return OpenRequests() - waiting_in_lanes;
}

// Starts waiting batches while their subscriptions have slots, and the total
// (--max-in-flight, requests open at the receivers) too for those that open
// at once. One handed to a lane beyond its max_in_flight takes an open slot
// only when one of its own ends, so it needs none of the total.
void Dispatcher::StartWaiting(Millis now) {
  int open = OpenAtReceivers();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto& [sub_id, queue] = *it;
    auto target = targets_.find(sub_id);
    if (target != targets_.end() && !target->second.enabled) {  // disabled or deleted
      for (const Batch& batch : queue) store_.ReleaseClaims(batch);
      waiting_count_ -= queue.size();
      queue.clear();
      // Not offered to claims again until a commit wakes us (the disable's,
      // which the store then shows), so a claim does not bring them back.
      drained_.insert(sub_id);
    }
    // What libcurl still has open for it (sent before its URL moved to
    // http://) is not in its lane, which would open max_in_flight more beside
    // it: the lane gets nothing until that has ended.
    const bool curl_still_open = target != targets_.end() && target->second.plain_http &&
                                 curl_by_subscription_.count(sub_id) > 0;
    while (!queue.empty() && target != targets_.end() && !curl_still_open) {
      const int in_flight = InFlight(sub_id);
      if (in_flight >= StartLimit(target->second)) break;
      const bool opens = in_flight < target->second.max_in_flight;
      if (opens && open >= options_.max_in_flight) break;
      Batch batch = std::move(queue.front());
      queue.pop_front();
      --waiting_count_;
      StartTransfer(target->second, std::move(batch), now);
      if (opens) ++open;
    }
    if (target == targets_.end()) {  // cannot happen: a batch is formed with its target
      waiting_count_ -= queue.size();
      queue.clear();
    }
    it = queue.empty() ? waiting_.erase(it) : std::next(it);
  }
}

const Target* Dispatcher::TargetFor(const store::DueDelivery& due, std::string* error,
                                    bool* unreadable) {
  // A copy as new as the claim's read of the subscription is kept, even one
  // this thread disabled since (a 410 not yet committed): every change
  // committed since reloads the copies (ReloadTargets).
  auto it = targets_.find(due.subscription_id);
  if (it != targets_.end() && it->second.updated_at == due.subscription_updated_at) {
    return &it->second;
  }
  store::Status failed;
  auto sub = store_.GetSubscription(due.org_id, due.subscription_id, &failed);
  if (!sub) {
    *unreadable = !failed.ok();
    *error = failed.ok() ? "the subscription no longer exists" : failed.message;
    return nullptr;
  }
  auto target = MakeTarget(*sub, sealer_, error);
  if (!target) return nullptr;
  stopped_here_.erase(due.subscription_id);  // the store has moved on since
  if (it == targets_.end()) return &(targets_[due.subscription_id] = std::move(*target));
  Replace(it->second, std::move(*target));
  return &it->second;
}

// What the old copy handed to a plain-client lane comes back withdrawn
// (CompletePlain), to be built anew from the new one, or released with the
// rest when it no longer takes them.
void Dispatcher::Replace(Target& current, Target fresh) {
  if (current.plain_http && !SendsAlike(current, fresh)) plain_.Withdraw(current.id);
  // The lane's requests already open go on under a lower max_in_flight: they
  // stay counted as open (OpenAtReceivers) until they end.
  const int open = current.plain_http ? std::min(HandedToLane(current.id), LaneLimit(current)) : 0;
  if (fresh.plain_http && open > fresh.max_in_flight) {
    lane_open_limit_[current.id] = open;
  } else {
    lane_open_limit_.erase(current.id);
  }
  fresh.destination = current.destination + (current.url == fresh.url ? 0 : 1);
  current = std::move(fresh);
}

// Requests are built from the copy when they start (and handed to a plain-
// client lane ahead of that), so a copy kept after a change would send to
// an old URL with an old secret, or to a subscription an admin (or a 410)
// has just disabled. Those with nothing waiting are dropped (one a 410
// stopped stays until the store shows it): the next claim that brings them
// reads them again.
void Dispatcher::ReloadTargets(uint64_t since) {
  std::vector<std::string> ids;
  const bool known = store_.SubscriptionsChangedSince(since, &ids);
  const std::unordered_set<std::string> changed(ids.begin(), ids.end());
  for (auto it = targets_.begin(); it != targets_.end();) {
    const std::string& sub_id = it->first;
    Target& target = it->second;
    const bool idle = !waiting_.count(sub_id) && !in_flight_by_subscription_.count(sub_id);
    auto stopped = stopped_here_.find(sub_id);
    if (idle && stopped == stopped_here_.end()) {
      it = targets_.erase(it);
      continue;
    }
    if (known && !changed.count(sub_id)) {  // unchanged: the copy is current
      ++it;
      continue;
    }
    std::optional<store::Subscription> sub = store_.GetSubscription(target.org_id, sub_id);
    if (stopped != stopped_here_.end()) {
      // Stopped by a 410 here: the store shows it once the disable commits
      // (or anything else changes it); until then the copy stays stopped.
      if (sub && sub->enabled && sub->updated_at == stopped->second) {
        ++it;
        continue;
      }
      stopped_here_.erase(stopped);
      if (idle) {
        it = targets_.erase(it);
        continue;
      }
    }
    std::string error;
    std::optional<Target> fresh = sub ? MakeTarget(*sub, sealer_, &error) : std::nullopt;
    if (!fresh) {
      // Deleted, its secrets no longer open, or it could not be read (a
      // change may be in it): what waits goes back unsent, and a claim that
      // brings some again reads it again (and records why it cannot be
      // sent).
      fresh = target;
      fresh->enabled = false;
      fresh->updated_at = 0;
    }
    Replace(target, std::move(*fresh));
    ++it;
  }
}

void Dispatcher::StopSending(const std::string& subscription_id) {
  auto target = targets_.find(subscription_id);
  if (target == targets_.end() || !target->second.enabled) return;
  target->second.enabled = false;
  stopped_here_[subscription_id] = target->second.updated_at;
  // Its plain-client lane was stopped by the answer itself (and told so,
  // Complete): what comes back from it withdrawn is given back unsent.
}

void Dispatcher::Requeue(std::unordered_map<std::string, std::vector<Batch>> withdrawn) {
  for (auto& [sub_id, batches] : withdrawn) {
    auto& queue = waiting_[sub_id];
    queue.insert(queue.begin(), std::make_move_iterator(batches.begin()),
                 std::make_move_iterator(batches.end()));
    waiting_count_ += batches.size();
  }
}

void Dispatcher::StartTransfer(const Target& target, Batch batch, Millis now) {
  ++in_flight_by_subscription_[target.id];
  if (target.plain_http) {
    uint64_t tag = next_tag_++;
    plain_outbox_.push_back(
        {tag, BuildRequest(target, batch, now), target.id, target.max_in_flight});
    plain_open_.emplace(
        tag, PlainRequest{std::move(batch), target.id, now,
                          target.kind == store::SubscriptionKind::kXapi, target.destination});
    return;
  }
  CURL* reuse = nullptr;
  if (!idle_handles_.empty()) {
    reuse = idle_handles_.back();
    idle_handles_.pop_back();
  }
  ++curl_by_subscription_[target.id];
  auto transfer =
      std::make_unique<Transfer>(target, std::move(batch), options_.transport, now, reuse);
  CURL* handle = transfer->handle();
  transfers_.emplace(handle, std::move(transfer));
  curl_multi_add_handle(multi_, handle);
}

bool Dispatcher::CompleteFinished() {
  bool finished = false;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    auto it = transfers_.find(msg->easy_handle);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, msg->easy_handle);
    finished = true;
    TransferResult result = transfer->Finish(msg->data.result);
    std::string sub_id = transfer->subscription_id();
    if (--curl_by_subscription_[sub_id] <= 0) curl_by_subscription_.erase(sub_id);
    Complete(sub_id, transfer->TakeBatch(), transfer->started_at(), transfer->is_xapi(),
             transfer->destination(), std::move(result));
    if (idle_handles_.size() < static_cast<size_t>(options_.max_in_flight)) {
      idle_handles_.push_back(transfer->ReleaseHandle());
    }
    AfterRequest(sub_id);
  }
  return finished;
}

bool Dispatcher::CompletePlain() {
  bool finished = false;
  std::unordered_map<std::string, std::vector<Batch>> withdrawn;
  for (PlainClient::Finished& done : plain_.TakeFinished()) {
    auto it = plain_open_.find(done.tag);
    if (it == plain_open_.end()) continue;
    PlainRequest request = std::move(it->second);
    plain_open_.erase(it);
    finished = true;
    if (done.withdrawn) {
      auto target = targets_.find(request.subscription_id);
      if (target != targets_.end() && target->second.enabled) {
        // A batch of one gave its body to the request (BuildRequest): it is
        // built anew from the body handed back.
        if (request.batch.size() == 1) request.batch.front().body = std::move(done.body);
        withdrawn[request.subscription_id].push_back(std::move(request.batch));
      } else {
        store_.ReleaseClaims(request.batch);
      }
    } else {
      auto lowered = lane_open_limit_.find(request.subscription_id);
      if (lowered != lane_open_limit_.end()) {
        auto target = targets_.find(request.subscription_id);
        const int limit = target == targets_.end() ? 0 : target->second.max_in_flight;
        if (--lowered->second <= limit) lane_open_limit_.erase(lowered);
      }
      Complete(request.subscription_id, std::move(request.batch), request.started_at, request.xapi,
               request.destination, std::move(done.result));
    }
    AfterRequest(request.subscription_id);
  }
  Requeue(std::move(withdrawn));
  return finished;
}

// A request of the subscription finished: its slot is free, and its queue
// may need a claim.
void Dispatcher::AfterRequest(const std::string& subscription_id) {
  if (--in_flight_by_subscription_[subscription_id] <= 0) {
    in_flight_by_subscription_.erase(subscription_id);
  }
  // Claim again once the subscription has less than half its slots' worth
  // waiting: claims come in bigger, fewer transactions, and the queue never
  // runs dry while one commits.
  auto queue = waiting_.find(subscription_id);
  size_t waiting = queue == waiting_.end() ? 0 : queue->second.size();
  auto target = targets_.find(subscription_id);
  int max_in_flight = target == targets_.end() ? 1 : target->second.max_in_flight;
  if (static_cast<int>(waiting) * 2 < max_in_flight && !drained_.count(subscription_id)) {
    refill_ = true;
  }
  if (claim_filled_ && (OpenRequests() + static_cast<int>(waiting_count_)) * 2 <
                           kClaimAhead * options_.max_in_flight) {
    refill_ = true;
  }
}

}  // namespace punt::delivery
