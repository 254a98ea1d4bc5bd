// SqliteStore: the Store over one write connection (owned by the Writer's
// thread) and a pool of read connections. Only sqlite_store.cc and tests
// include this header; everyone else uses OpenSqliteStore.
//
// Thread-safety: as Store. Write methods build a job and hand it to the
// writer; read methods lease a read connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/sqlite/claim_cursors.h"
#include "store/sqlite/claimed_set.h"
#include "store/sqlite/delivery_totals.h"
#include "store/sqlite/read_pool.h"
#include "store/sqlite/writer.h"
#include "store/store.h"
#include "util/clock.h"

namespace punt::store::sqlite {

// Makes up to `slice` of the subscription's retrying deliveries due now:
// those that were waiting when it was last enabled (updated at or before
// its release_until), if it is still enabled; *more when the slice was full.
// A short slice clears release_until.
Status ReleaseRetryingSlice(Db& db, const std::string& sub_id, Millis now, int slice, int* released,
                            bool* more);

// What an enabling does after its commit, one slice at a time: the
// retrying deliveries first (ReleaseRetryingSlice), then the dead ones
// (RequeueDeadSlice). *woken: how many this slice made due.
Status EnablingSlice(Db& db, const std::string& sub_id, Millis now, int slice, int* woken,
                     bool* more);

// Re-queues up to `slice` of the deliveries that died within the
// subscription's requeue window, if it is enabled; *more when the slice was
// full. A short slice clears the window (unless the subscription was
// disabled meanwhile).
Status RequeueDeadSlice(Db& db, const std::string& sub_id, Millis now, int slice, int* requeued,
                        bool* more);

// Deletes up to `slice` of a deleted subscription's deliveries (their
// attempts go by ON DELETE CASCADE); when fewer were left, the subscription
// row too, and sets *gone.
Status DeleteDeliveriesSlice(Db& db, const std::string& sub_id, int slice, bool* gone);

// Sets `*failed`, when the caller asked, to a failed read of `what`.
inline void NoteReadFailure(Status* failed, std::string_view what, const std::string& error) {
  if (failed != nullptr)
    *failed = Status::Failed("cannot read " + std::string(what) + ": " + error);
}

class SqliteStore final : public Store {
 public:
  // REQUIRES: `writer_db` is configured and migrated; `wal` syncs its WAL.
  SqliteStore(const std::string& path, const Clock& clock, std::unique_ptr<Db> writer_db,
              std::unique_ptr<WalSync> wal, int migrations_applied);
  ~SqliteStore() override { moves_stopped_ = true; }

  Status CreateOrg(const Org& org, const ApiKey& key) override;
  std::shared_ptr<const Org> GetOrg(const std::string& org_id, Status* failed = nullptr) override;
  Status UpdateOrg(const Org& org) override;
  std::shared_ptr<const ApiKey> FindApiKey(const std::string& hash,
                                           Status* failed = nullptr) override;

  Status CreateSubscription(const Subscription& sub) override;
  std::optional<Subscription> GetSubscription(const std::string& org_id, const std::string& id,
                                              Status* failed = nullptr) override;
  std::vector<Subscription> ListSubscriptions(const std::string& org_id,
                                              Status* failed = nullptr) override;
  Status UpdateSubscription(const Subscription& sub, const Subscription* as_read = nullptr,
                            Subscription* as_stored = nullptr) override;
  Status DeleteSubscription(const std::string& org_id, const std::string& id) override;

  void Ingest(const std::string& org_id, std::vector<NewEvent> events,
              IngestCallback done) override;
  bool WantsStatements(const std::string& org_id) override;
  void SetStatementBuilder(StatementBuilder builder) override;

  std::vector<Delivery> ListDeliveries(const DeliveryQuery& query,
                                       Status* failed = nullptr) override;
  std::optional<Delivery> GetDelivery(const std::string& org_id, int64_t id,
                                      Status* failed = nullptr) override;
  void SetCommitListener(std::function<void()> listener) override;
  uint64_t SubscriptionChanges() const override { return subscription_changes_.load(); }
  bool SubscriptionsChangedSince(uint64_t since, std::vector<std::string>* ids) const override;

  std::vector<DueDelivery> ClaimDue(Millis now, int limit, const FreeSlots& free_slots) override;
  void RecordAttempts(std::vector<AttemptOutcome> outcomes) override;
  void ReleaseClaims(const std::vector<DueDelivery>& deliveries) override;
  int ResetInFlight() override;
  std::string WriteRefusal() const override { return writer_.refusal(); }
  std::optional<Millis> NextDueTime(Millis after) override;

  // sqlite_operations.cc
  Status RetryDelivery(const std::string& org_id, int64_t id) override;
  void Replay(const std::string& org_id, const std::string& subscription_id, Millis since,
              Millis until, ReplayCallback done) override;
  std::map<DeliveryState, int64_t> CountDeliveries(const std::string& org_id,
                                                   const std::string& subscription_id,
                                                   Status* failed = nullptr) override;

  // For tests and metrics.
  WriterStats writer_stats() const { return writer_.stats(); }
  int migrations_applied() const { return migrations_applied_; }
  Writer& writer_for_test() { return writer_; }
  ReadPool& readers_for_test() { return readers_; }
  // How many deliveries enabling or deleting a subscription changes or
  // deletes, and how many events a replay goes through, per commit.
  void set_slice_for_test(int slice) { slice_ = slice; }
  void set_changes_kept_for_test(size_t kept) { changes_kept_ = kept; }

 private:
  void NotifyCommitListener();
  // After a commit that changed the subscriptions `ids`: SubscriptionChanges
  // moves (once each) and the dispatcher is woken to read them again.
  void NoteSubscriptionsChanged(const std::vector<std::string>& ids);
  // A claimed delivery reads as in_flight (claimed_set.h).
  void ShowClaimed(Delivery& delivery) const;
  // One commit's worth of a long job: sets *more while there is more to do.
  // What it makes due is due no earlier than the job started (RunSlices
  // notes that for the claim cursors: old ids may be behind one).
  using SliceJob = std::function<Status(Db& db, bool* made_due, bool* more)>;
  // Runs `slice` as writer jobs, one after the other, until it has no more;
  // logs `stopped` (a string literal) if one fails.
  void RunSlices(const std::string& sub_id, std::string_view stopped, SliceJob slice);
  // Deferred delivery rows (deferred_rows.h). MarkBehind notes webhook
  // subscriptions that may have events past their rows_through; a claim
  // first writes rows for each that is enabled (CatchUpBehind), at least
  // `wanted` if there are as many (or a few slices).
  // CatchUpRows writes all of one subscription's, slice by slice, before an
  // API read or change of its deliveries (none: no writer job).
  void MarkBehind(const std::vector<std::string>& sub_ids);
  void CatchUpBehind(int wanted);
  Status CatchUpRows(const std::string& org_id, const std::string& sub_id);
  // The slices of an enabling after its first (EnablingSlice).
  void EnableRest(const std::string& sub_id, int slice);
  struct ReplayProgress;
  void ReplayNextSlice(std::shared_ptr<ReplayProgress> progress);
  // Deletes a deleted subscription's deliveries, one slice per job, then
  // the subscription.
  void DeleteRestOfDeliveries(const std::string& sub_id, int slice);

  const Clock& clock_;
  const int migrations_applied_;
  ReadPool readers_;

  // Read caches for the two lookups every API request makes. An entry read
  // before an UpdateOrg commits is not kept (the generation moved on). API
  // keys never change once created, so their entries never go stale.
  std::mutex cache_mu_;
  uint64_t org_generation_ = 0;                             // protected by cache_mu_
  std::unordered_map<std::string, std::shared_ptr<const Org>> orgs_;  // protected by cache_mu_
  std::unordered_map<std::string, std::shared_ptr<const ApiKey>>
      keys_by_hash_;  // protected by cache_mu_
  // WantsStatements by organisation. An entry read before a subscription
  // change commits is not kept (the generation moved on).
  uint64_t subscription_generation_ = 0;                    // protected by cache_mu_
  std::unordered_map<std::string, bool> wants_statements_;  // protected by cache_mu_
  void ForgetWantsStatements(const std::string& org_id);

  std::mutex listener_mu_;
  std::function<void()> listener_;  // protected by listener_mu_
  std::atomic<uint64_t> subscription_changes_{0};  // moved only under changes_mu_
  // The ids of the last changes_kept_ changes; changed_[i] made the count
  // first_change_ + i + 1.
  std::atomic<size_t> changes_kept_{4096};
  mutable std::mutex changes_mu_;
  std::deque<std::string> changed_;  // protected by changes_mu_
  uint64_t first_change_ = 0;        // protected by changes_mu_
  std::atomic<size_t> claim_turn_{0};
  std::atomic<int> slice_{2000};
  std::atomic<bool> moves_stopped_{false};  // set when the store closes

  // Writer thread only: each organisation's subscriptions as ingest fans out
  // to them (id, kind, events, enabled), loaded on first use. Every job that
  // changes those columns clears its organisation's entry (or all).
  std::unordered_map<std::string, std::vector<Subscription>> ingest_subscriptions_;
  // Writer thread only (SetStatementBuilder sets it through a writer job).
  StatementBuilder statement_builder_;
  // Writer thread only: the accepted_at of the last ingest (-1: not read
  // yet); the next is no earlier (deferred_rows.h).
  Millis last_accepted_at_ = -1;
  std::mutex behind_mu_;
  std::unordered_set<std::string> behind_;  // protected by behind_mu_ (MarkBehind)

  // The deliveries the dispatcher holds (ClaimDue to RecordAttempts); their
  // rows still say pending or retrying.
  ClaimedSet claimed_;
  std::mutex claim_mu_;  // one claim at a time (ClaimDue)
  ClaimCursors cursors_;  // where claims of pending deliveries got to
  DeliveryTotals totals_;  // CountDeliveries' counts so far, by subscription

  Writer writer_;  // last: its thread runs jobs that use the members above
};

}  // namespace punt::store::sqlite
