// The storage interface. SQLite (embedded) and PostgreSQL (many nodes)
// implement it; nothing here may assume either.
//
// Thread-safety: every method may be called from any thread. Writes are
// serialised through one writer and committed in groups (concurrent callers
// share a commit); each call returns, or calls back, after its own commit.
// After a failed commit the store refuses every later write (it never carries
// on as if the data were safe). Callbacks and the commit listener run on the
// writer thread: they must not block, nor call the store's writing methods.
//
// Timestamps: Create* keeps the created_at/updated_at it is given, or sets
// those left 0 to the store clock's now; Update* sets updated_at to now.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/model.h"

namespace punt::store {

struct Status {
  enum class Code { kOk, kNotFound, kConflict, kFailed };
  Code code = Code::kOk;
  std::string message;

  bool ok() const { return code == Code::kOk; }
  static Status Ok() { return {}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Failed(std::string m) { return {Code::kFailed, std::move(m)}; }
};

using IngestCallback = std::function<void(IngestResult)>;
// How many deliveries a replay created, or why it failed.
using ReplayResult = std::variant<int64_t, Status>;
using ReplayCallback = std::function<void(ReplayResult)>;
// The xAPI statement of a stored event of type `type`, built from its webhook
// body (the envelope whose "data" is the event) for `org` as it is now; empty
// when events of that type have no statement or the body cannot be read.
using StatementBuilder = std::function<std::string(const Org& org, std::string_view type,
                                                   std::string_view webhook_body)>;

class Store {
 public:
  virtual ~Store() = default;

  // Reads. One that fails (the database cannot be read: a connection that
  // cannot open, an I/O error) returns what "not found" returns, and is
  // logged; a caller that answers differently for the two passes `failed`,
  // which is then set to the failure (and left alone otherwise).

  // Organisations and their keys. CreateOrg stores both or neither; an id or
  // key hash in use is a Conflict.
  virtual Status CreateOrg(const Org& org, const ApiKey& key) = 0;
  // GetOrg and FindApiKey answer from a cache, shared: a hit copies nothing
  // (every authenticated request reads both). Null: not found.
  virtual std::shared_ptr<const Org> GetOrg(const std::string& org_id,
                                            Status* failed = nullptr) = 0;
  virtual Status UpdateOrg(const Org& org) = 0;
  virtual std::shared_ptr<const ApiKey> FindApiKey(const std::string& hash,
                                                   Status* failed = nullptr) = 0;

  // Subscriptions, always within one organisation: another organisation's
  // subscription is NotFound / nullopt. CreateSubscription: NotFound for an
  // unknown organisation, Conflict for an id in use.
  virtual Status CreateSubscription(const Subscription& sub) = 0;
  virtual std::optional<Subscription> GetSubscription(const std::string& org_id,
                                                      const std::string& id,
                                                      Status* failed = nullptr) = 0;
  virtual std::vector<Subscription> ListSubscriptions(const std::string& org_id,
                                                      Status* failed = nullptr) = 0;
  // Replaces the fields of the subscription (sub.org_id, sub.id); its kind
  // and created_at do not change. While it is disabled, its pending and
  // retrying deliveries read as held and are not claimed. Enabling makes its
  // retrying deliveries due now and re-queues the dead ones of its failing
  // spell (pending, due now); that may go in slices, each its own commit,
  // finishing after this returns (a stop between slices is finished by
  // ResetInFlight).
  // NotFound when the organisation has no such subscription. With `as_read`
  // (the copy `sub` was made from), Conflict when the stored subscription
  // changed since that read (its updated_at or enabled differ), so a change
  // committed in between (another admin's, a disable on a 410) is not
  // overwritten: read again and apply the change to that. With `as_stored`,
  // set to the subscription as this change left it (updated_at and health as
  // stored), read before any later change is committed.
  virtual Status UpdateSubscription(const Subscription& sub, const Subscription* as_read = nullptr,
                                    Subscription* as_stored = nullptr) = 0;
  // Removes the subscription and its deliveries: it is gone from every read
  // and from fan-out when this returns; its deliveries and their attempts
  // may go in slices after it (a stop between slices is finished by
  // ResetInFlight). NotFound when the organisation has no such subscription.
  virtual Status DeleteSubscription(const std::string& org_id, const std::string& id) = 0;

  // Stores the events of one request, their bodies, and one delivery for each
  // matching subscription, all in one transaction: either all of the batch or
  // nothing. An event id the organisation already used is not stored again.
  // A learning event's statement is stored when it came with one, or when an
  // xAPI subscription gets a delivery of it (built by the StatementBuilder).
  // `done` runs on one of the store's threads once the commit is durable
  // (the sync thread), or when it failed; it must not block.
  virtual void Ingest(const std::string& org_id, std::vector<NewEvent> events,
                      IngestCallback done) = 0;
  // Whether ingest should build the statements of the organisation's learning
  // events up front: true while it has an xAPI subscription (enabled or not).
  // A cached hint: a statement found missing is built by the store instead.
  virtual bool WantsStatements(const std::string& org_id) = 0;
  // Builds the statements ingest left out when an xAPI subscription needs
  // them (a subscription created while the events were on their way, or a
  // replay). Set before the first Ingest or Replay. Without one, an ingest
  // that needs a statement fails, and a replay skips events without one.
  virtual void SetStatementBuilder(StatementBuilder builder) = 0;

  // The deliveries of one subscription (query.subscription_id is required)
  // with an id above query.after_id, ordered by id ascending, optionally of
  // one state; at most query.limit, clamped to 1..500.
  virtual std::vector<Delivery> ListDeliveries(const DeliveryQuery& query,
                                               Status* failed = nullptr) = 0;
  // With its attempts, oldest first.
  virtual std::optional<Delivery> GetDelivery(const std::string& org_id, int64_t id,
                                              Status* failed = nullptr) = 0;

  // Runs after every commit that made deliveries due, and after every change
  // to a subscription (for the dispatcher).
  virtual void SetCommitListener(std::function<void()> listener) = 0;
  // Goes up after every commit that changed a subscription: its settings, its
  // enabling or disabling (by an admin or by an outcome), its deletion. A
  // reader that keeps copies of subscriptions reads them again when it moves.
  virtual uint64_t SubscriptionChanges() const = 0;
  // The subscriptions changed since SubscriptionChanges() returned `since`
  // (each once or more, in no set order), into `ids`. False, with `ids` left
  // alone, when the store no longer remembers them all: the reader then
  // reads all of its copies again.
  virtual bool SubscriptionsChangedSince(uint64_t since, std::vector<std::string>* ids) const = 0;

  // The dispatcher's side. Nothing here is scoped by organisation.

  // How many more requests' worth of deliveries the caller wants for a
  // subscription, given its configured max_in_flight and batch_size (the
  // deliveries a request carries: 1 for a webhook); 0 or less skips it
  // without reading its deliveries. Called on the writer thread during
  // ClaimDue.
  using FreeSlots =
      std::function<int(const std::string& subscription_id, int max_in_flight, int batch_size)>;

  // Atomically claims due deliveries, enough for up to `limit` requests, and
  // returns them, earliest due first within each subscription. A claimed
  // delivery reads as in_flight and no other claim returns it until its
  // outcome is recorded or the store restarts (how it is kept is the
  // store's: the SQLite store keeps claims in memory, a shared database
  // needs leases).
  // Due: pending or retrying, with next_attempt_at <= now, of an enabled
  // subscription. A request carries one webhook delivery or up to the xAPI
  // subscription's batch_size deliveries. No subscription gets more than
  // free_slots(...) requests' worth, and subscriptions take turns, so a
  // large backlog on one never starves another. Empty on failure.
  virtual std::vector<DueDelivery> ClaimDue(Millis now, int limit,
                                            const FreeSlots& free_slots) = 0;
  // In one commit, for each outcome: logs the attempt (response cut to its
  // first 4096 bytes), adds one to attempt_count and sets the new state and
  // next_attempt_at. An outcome whose new_state is in_flight (an xAPI batch
  // the LRS refused whole, to be split and sent again) only logs its
  // attempt: state and attempt_count stay. A delivery whose subscription was
  // disabled meanwhile reads as held; one deleted meanwhile is skipped.
  // Returns after the commit (or its failure: the deliveries then stay
  // in_flight until ResetInFlight).
  virtual void RecordAttempts(std::vector<AttemptOutcome> outcomes) = 0;
  // Gives claimed deliveries back without an attempt (their subscription was
  // disabled, deleted or changed before their request started): they wait
  // again as they were, and a later claim may return them.
  virtual void ReleaseClaims(const std::vector<DueDelivery>& deliveries) = 0;
  // Crash recovery, at startup before claiming: releases every claim and
  // moves every delivery still written as in_flight back to pending; returns
  // how many it released or moved; -1 on failure. Also finishes the slices
  // of subscriptions enabled or deleted before a stop.
  virtual int ResetInFlight() = 0;
  // Why the store refuses every write from now on (a commit or a WAL sync
  // failed: what it should have made durable may be lost); empty while it
  // takes writes. Only a restart clears it.
  virtual std::string WriteRefusal() const = 0;
  // The earliest next_attempt_at later than `after` among pending and
  // retrying deliveries of enabled subscriptions; nullopt when there is
  // none. Claimed deliveries were due when claimed, so a caller that passes
  // its last claim's `now` never sees them.
  virtual std::optional<Millis> NextDueTime(Millis after) = 0;

  // Operator actions (DESIGN.md section 3), within one organisation.

  // Sends one delivery again: moves it from any state but in_flight (dead and
  // delivered included) to pending, due now (held while its subscription is
  // disabled). Its attempt log and attempt_count are kept, so a delivery
  // that used up its schedule gets one more attempt. NotFound for an unknown
  // id or another organisation's; Conflict while it is in_flight.
  virtual Status RetryDelivery(const std::string& org_id, int64_t id) = 0;
  // Creates a new delivery (pending, due now; held while the subscription is
  // disabled) for every event of the organisation accepted in [since, until)
  // that the subscription matches now, including events accepted before it
  // existed. The stored bodies are reused, so statement ids and bodies are
  // unchanged. `done` gets how many were created, or NotFound for an
  // unknown subscription or another organisation's; it runs once, on a store
  // thread, and must not block. The caller's thread is not held while the
  // window is gone through. It may commit in slices: one that fails
  // part-way keeps the deliveries of the window's earlier events.
  virtual void Replay(const std::string& org_id, const std::string& subscription_id,
                      Millis since, Millis until, ReplayCallback done) = 0;
  // Replay, waiting for its result (tools and tests).
  ReplayResult ReplaySync(const std::string& org_id, const std::string& subscription_id,
                          Millis since, Millis until) {
    auto promise = std::make_shared<std::promise<ReplayResult>>();
    std::future<ReplayResult> result = promise->get_future();
    Replay(org_id, subscription_id, since, until,
           [promise](ReplayResult r) { promise->set_value(std::move(r)); });
    return result.get();
  }
  // How many deliveries the subscription has in each state; every state is
  // present (0 when it has none). Empty for an unknown subscription or
  // another organisation's, or on a read failure.
  virtual std::map<DeliveryState, int64_t> CountDeliveries(const std::string& org_id,
                                                           const std::string& subscription_id,
                                                           Status* failed = nullptr) = 0;
};

}  // namespace punt::store
