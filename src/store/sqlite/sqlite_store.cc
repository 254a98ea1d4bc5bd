// Opening the store; organisations, keys and subscriptions.
#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "store/sqlite/deferred_rows.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store_impl.h"
#include "util/log.h"

namespace punt::store {

std::unique_ptr<Store> OpenSqliteStore(const std::string& path, const Clock& clock,
                                       std::string* error) {
  std::unique_ptr<sqlite::Db> db = sqlite::Db::Open(path, error);
  int applied = 0;
  if (db == nullptr || !sqlite::ConfigureConnection(*db, /*reader=*/false, error) ||
      !sqlite::Migrate(*db, &applied, error)) {
    return nullptr;
  }
  // An upgrade can leave a WAL as large as the database (schema step 9
  // rewrites every event's row), and punt never shrinks it while it runs:
  // give that disk back now, while this is the only connection.
  if (applied > 0) {
    sqlite::Query truncate = db->Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!truncate.Step() || truncate.Int(0) != 0) {
      LogWarn(
          "the WAL could not be emptied after the schema upgrade; it stays as large as it "
          "grew until a later checkpoint",
          {{"error", truncate.ok() ? std::string("busy") : truncate.error()}});
    }
  }
  // After the migration: the WAL exists, and this syncs what it wrote.
  std::unique_ptr<sqlite::WalSync> wal = sqlite::WalSync::Open(path, error);
  if (wal == nullptr) return nullptr;
  return std::make_unique<sqlite::SqliteStore>(path, clock, std::move(db), std::move(wal),
                                               applied);
}

namespace sqlite {
namespace {

constexpr size_t kIdleReaders = 4;

Millis OrNow(Millis value, Millis now) { return value != 0 ? value : now; }

bool OrgExists(Db& db, const std::string& org_id) {
  Query q = db.Prepare("SELECT 1 FROM orgs WHERE id = ?1");
  return q.BindText(1, org_id).Step();
}

// Enabling a subscription sends again what died while it was failing (from
// failing_since until now; a window an earlier enabling left unfinished is
// widened to cover both), makes its retrying deliveries due now, and starts
// its health afresh. The first slice of that work is in the same commit.
Status StartEnabling(Db& db, const std::string& sub_id, Millis now, int slice, bool* more) {
  Query window = db.Prepare(
      "UPDATE subscriptions SET "
      "requeue_since = CASE WHEN requeue_until = 0 THEN failing_since "
      "WHEN failing_since = 0 THEN requeue_since ELSE min(requeue_since, failing_since) END, "
      "requeue_until = CASE WHEN requeue_until > 0 OR failing_since > 0 THEN ?2 ELSE 0 END, "
      "release_until = ?2, failing_since = 0, consecutive_failures = 0, "
      "credentials_refused = 0, disabled_reason = '' WHERE id = ?1");
  if (!window.BindText(1, sub_id).BindInt(2, now).Run()) {
    return QueryStatus(window, "cannot reset health");
  }
  int woken = 0;
  return EnablingSlice(db, sub_id, now, slice, &woken, more);
}

Status SetDisabledReason(Db& db, const std::string& sub_id, std::string_view reason) {
  Query q = db.Prepare("UPDATE subscriptions SET disabled_reason = ?2 WHERE id = ?1");
  if (!q.BindText(1, sub_id).BindText(2, reason).Run()) {
    return QueryStatus(q, "cannot set disabled reason");
  }
  return Status::Ok();
}

// One slice of a job whose progress is marked in the subscription's row:
// `update` (?1 the subscription, ?2 now, ?3 the slice) changes up to `slice`
// deliveries, and a short slice is the last: `finish` (?1) clears the mark.
Status MarkedSlice(Db& db, const std::string& sub_id, Millis now, int slice, const char* update,
                   const char* finish, const std::string& what, int* changed, bool* more) {
  Query q = db.Prepare(update);
  if (!q.BindText(1, sub_id).BindInt(2, now).BindInt(3, slice).Run()) {
    return QueryStatus(q, "cannot " + what);
  }
  *changed = db.Changes();
  *more = *changed == slice;
  if (*more) return Status::Ok();
  Query done = db.Prepare(finish);
  if (!done.BindText(1, sub_id).Run()) return QueryStatus(done, "cannot finish: " + what);
  return Status::Ok();
}

}  // namespace

Status ReleaseRetryingSlice(Db& db, const std::string& sub_id, Millis now, int slice, int* released,
                            bool* more) {
  // The subselect reads deliveries_waiting_by_subscription (retrying, due
  // after now) and each row for updated_at: a row it makes due leaves that
  // range, so the next slice does not see it again.
  return MarkedSlice(
      db, sub_id, now, slice,
      "UPDATE deliveries SET next_attempt_at = ?2, updated_at = ?2 WHERE id IN "
      "(SELECT d.id FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
      "WHERE d.subscription_id = ?1 AND d.state = 2 AND d.next_attempt_at > ?2 "
      "AND s.enabled = 1 AND d.updated_at <= s.release_until LIMIT ?3)",
      "UPDATE subscriptions SET release_until = 0 WHERE id = ?1 AND enabled = 1 "
      "AND release_until > 0",
      "make retrying deliveries due", released, more);
}

Status EnablingSlice(Db& db, const std::string& sub_id, Millis now, int slice, int* woken,
                     bool* more) {
  int released = 0;
  Status status = ReleaseRetryingSlice(db, sub_id, now, slice, &released, more);
  *woken = released;
  if (!status.ok() || *more) return status;
  int requeued = 0;
  status = RequeueDeadSlice(db, sub_id, now, slice, &requeued, more);
  *woken += requeued;
  return status;
}

Status RequeueDeadSlice(Db& db, const std::string& sub_id, Millis now, int slice, int* requeued,
                        bool* more) {
  // Dead (5) written out: deliveries_in_flight_held_dead (schema step 2).
  // When done the window goes, unless the subscription was disabled
  // meanwhile: then it stays for the next enabling. A re-queued delivery
  // starts the schedule afresh (attempt_count 0; its attempts stay in its
  // log): most died of retries used up, and with their old count one failed
  // attempt in the recovery (a 429 under the backlog) would end them again.
  return MarkedSlice(
      db, sub_id, now, slice,
      "UPDATE deliveries SET state = 0, attempt_count = 0, next_attempt_at = ?2, "
      "updated_at = ?2 WHERE id IN "
      "(SELECT d.id FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
      "WHERE d.subscription_id = ?1 AND d.state = 5 AND s.enabled = 1 "
      "AND d.updated_at >= s.requeue_since AND d.updated_at <= s.requeue_until LIMIT ?3)",
      "UPDATE subscriptions SET requeue_since = 0, requeue_until = 0 "
      "WHERE id = ?1 AND enabled = 1 AND requeue_until > 0",
      "re-queue dead deliveries", requeued, more);
}

Status DeleteDeliveriesSlice(Db& db, const std::string& sub_id, int slice, bool* gone) {
  *gone = false;
  Query q = db.Prepare(
      "DELETE FROM deliveries WHERE id IN "
      "(SELECT id FROM deliveries WHERE subscription_id = ?1 LIMIT ?2)");
  if (!q.BindText(1, sub_id).BindInt(2, slice).Run()) {
    return QueryStatus(q, "cannot delete deliveries");
  }
  if (db.Changes() == slice) return Status::Ok();
  // None left, and none can come: ingest and replay skip a deleted
  // subscription. Whatever came anyway goes by ON DELETE CASCADE.
  Query sub = db.Prepare("DELETE FROM subscriptions WHERE id = ?1 AND deleted_at > 0");
  if (!sub.BindText(1, sub_id).Run()) return QueryStatus(sub, "cannot delete subscription");
  *gone = true;
  return Status::Ok();
}

SqliteStore::SqliteStore(const std::string& path, const Clock& clock, std::unique_ptr<Db> writer_db,
                         std::unique_ptr<WalSync> wal, int migrations_applied)
    : clock_(clock),
      migrations_applied_(migrations_applied),
      readers_(path, kIdleReaders),
      writer_(std::move(writer_db), std::move(wal), [this] { NotifyCommitListener(); }) {
  // Ingest's subscriptions are loaded inside a group's transaction; rolled
  // back (to run the group again job by job, or for good), what a later job
  // of the group loaded would show an earlier one changes it has not made
  // yet: subscriptions created after it (its deliveries then break the
  // foreign key, failing a valid ingest) or filters changed after it (its
  // event then misses a delivery). Writer thread only, as the cache.
  writer_.SetRollbackListener([this] { ingest_subscriptions_.clear(); });
}

void SqliteStore::SetCommitListener(std::function<void()> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

void SqliteStore::NotifyCommitListener() {
  std::function<void()> listener;
  {
    std::lock_guard lock(listener_mu_);
    listener = listener_;
  }
  if (listener) listener();
}

void SqliteStore::NoteSubscriptionsChanged(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  {
    std::lock_guard lock(changes_mu_);
    for (const std::string& id : ids) {
      changed_.push_back(id);
      while (changed_.size() > changes_kept_.load()) {
        changed_.pop_front();
        ++first_change_;
      }
      subscription_changes_.fetch_add(1);
    }
  }
  NotifyCommitListener();
}

bool SqliteStore::SubscriptionsChangedSince(uint64_t since, std::vector<std::string>* ids) const {
  std::lock_guard lock(changes_mu_);
  if (since < first_change_) return false;
  const uint64_t now = subscription_changes_.load();
  for (uint64_t n = since; n < now; ++n) ids->push_back(changed_[n - first_change_]);
  return true;
}

Status SqliteStore::CreateOrg(const Org& org, const ApiKey& key) {
  return writer_.RunSync([&](Db& db, bool*) {
    Millis now = clock_.Now();
    Query insert_org = db.Prepare(
        "INSERT INTO orgs (id, name, platform_url, mbox_opt_in, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    insert_org.BindText(1, org.id)
        .BindText(2, org.name)
        .BindText(3, org.platform_url)
        .BindInt(4, org.mbox_opt_in ? 1 : 0)
        .BindInt(5, OrNow(org.created_at, now))
        .BindInt(6, OrNow(org.updated_at, now));
    if (!insert_org.Run()) return QueryStatus(insert_org, "cannot create organisation");
    Query insert_key = db.Prepare(
        "INSERT INTO api_keys (id, org_id, hash, scopes, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    insert_key.BindText(1, key.id)
        .BindText(2, org.id)
        .BindText(3, key.hash)
        .BindInt(4, key.scopes)
        .BindInt(5, OrNow(key.created_at, now));
    if (!insert_key.Run()) return QueryStatus(insert_key, "cannot create API key");
    return Status::Ok();
  });
}

std::shared_ptr<const Org> SqliteStore::GetOrg(const std::string& org_id, Status* failed) {
  static const std::string kSql = "SELECT " + std::string(kOrgColumns) + " FROM orgs WHERE id = ?1";
  uint64_t generation = 0;
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = orgs_.find(org_id); it != orgs_.end()) return it->second;
    generation = org_generation_;
  }
  std::string error;
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db) {
    NoteReadFailure(failed, "the organisation", error);
    return nullptr;
  }
  Query q = db->Prepare(kSql);
  if (!q.BindText(1, org_id).Step()) {
    if (!q.ok()) NoteReadFailure(failed, "the organisation", q.error());
    return nullptr;
  }
  auto org = std::make_shared<const Org>(ReadOrg(q));
  std::lock_guard lock(cache_mu_);
  if (generation == org_generation_) orgs_.emplace(org_id, org);
  return org;
}

Status SqliteStore::UpdateOrg(const Org& org) {
  Status status = writer_.RunSync([&](Db& db, bool*) {
    Query q = db.Prepare(
        "UPDATE orgs SET name = ?2, platform_url = ?3, mbox_opt_in = ?4, updated_at = ?5 "
        "WHERE id = ?1");
    q.BindText(1, org.id)
        .BindText(2, org.name)
        .BindText(3, org.platform_url)
        .BindInt(4, org.mbox_opt_in ? 1 : 0)
        .BindInt(5, clock_.Now());
    if (!q.Run()) return QueryStatus(q, "cannot update organisation");
    if (db.Changes() == 0) return Status::NotFound("no organisation " + org.id);
    return Status::Ok();
  });
  std::lock_guard lock(cache_mu_);  // after the commit: no reader keeps the old row
  ++org_generation_;
  orgs_.erase(org.id);
  return status;
}

std::shared_ptr<const ApiKey> SqliteStore::FindApiKey(const std::string& hash, Status* failed) {
  static const std::string kSql =
      "SELECT " + std::string(kApiKeyColumns) + " FROM api_keys WHERE hash = ?1";
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = keys_by_hash_.find(hash); it != keys_by_hash_.end()) return it->second;
  }
  std::string error;
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db) {
    NoteReadFailure(failed, "the API key", error);
    return nullptr;
  }
  Query q = db->Prepare(kSql);
  if (!q.BindText(1, hash).Step()) {  // unknown keys are not cached
    if (!q.ok()) NoteReadFailure(failed, "the API key", q.error());
    return nullptr;
  }
  auto key = std::make_shared<const ApiKey>(ReadApiKey(q));
  std::lock_guard lock(cache_mu_);
  keys_by_hash_.emplace(hash, key);
  return key;
}

bool SqliteStore::WantsStatements(const std::string& org_id) {
  uint64_t generation = 0;
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = wants_statements_.find(org_id); it != wants_statements_.end()) {
      return it->second;
    }
    generation = subscription_generation_;
  }
  std::string error;
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db) return true;  // cannot tell: build them, which is never wrong
  Query q = db->Prepare(
      "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE org_id = ?1 AND kind = 'xapi' "
      "AND deleted_at = 0)");
  if (!q.BindText(1, org_id).Step()) return true;
  bool wants = q.Int(0) != 0;
  std::lock_guard lock(cache_mu_);
  if (generation == subscription_generation_) wants_statements_.emplace(org_id, wants);
  return wants;
}

void SqliteStore::ForgetWantsStatements(const std::string& org_id) {
  std::lock_guard lock(cache_mu_);
  ++subscription_generation_;
  wants_statements_.erase(org_id);
}

void SqliteStore::SetStatementBuilder(StatementBuilder builder) {
  writer_.RunSync(
      [&](Db&, bool*) {
        statement_builder_ = builder;  // a copy: the writer may run a job twice
        return Status::Ok();
      },
      /*durable=*/false);
}

Status SqliteStore::CreateSubscription(const Subscription& sub) {
  static const std::string kSql = "INSERT INTO subscriptions (" +
                                  std::string(kSubscriptionColumns) +
                                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                  "?12, ?13, ?14, ?15)";
  Status status = writer_.RunSync([&](Db& db, bool*) {
    ingest_subscriptions_.erase(sub.org_id);
    if (!OrgExists(db, sub.org_id)) return Status::NotFound("no organisation " + sub.org_id);
    Subscription row = sub;
    Millis now = clock_.Now();
    row.created_at = OrNow(sub.created_at, now);
    row.updated_at = OrNow(sub.updated_at, now);
    Query q = db.Prepare(kSql);
    BindSubscription(q, row);
    if (!q.Run()) return QueryStatus(q, "cannot create subscription");
    // Its deliveries are of the events stored from now on (deferred_rows.h).
    Query from = db.Prepare(
        "UPDATE subscriptions SET rows_through = (SELECT ifnull(max(seq), 0) FROM events) "
        "WHERE id = ?1");
    if (!from.BindText(1, row.id).Run()) return QueryStatus(from, "cannot create subscription");
    return Status::Ok();
  });
  ForgetWantsStatements(sub.org_id);  // after the commit: a read before it is not kept
  return status;
}

namespace {

// How many slices of deferred rows a change of a subscription's filter
// writes in its own commit; a longer backlog's are written before it.
constexpr int kDeferredSlicesInAChange = 4;

// One subscription (?1 id, ?2 org_id) as the API reads it.
const std::string& SelectSubscriptionSql() {
  static const std::string kSql = "SELECT " + std::string(kSubscriptionReadColumns) +
                                  " FROM subscriptions WHERE id = ?1 AND org_id = ?2 "
                                  "AND deleted_at = 0";
  return kSql;
}

// What an update changes from: the subscription as stored.
struct Stored {
  bool enabled = false;
  Millis updated_at = 0;
  std::vector<std::string> events;
};

// NotFound when the organisation has none such; Conflict when `as_read` is
// set and the stored one changed since (its updated_at or enabled differ).
Status ReadStored(Db& db, const Subscription& sub, const Subscription* as_read, Stored* out) {
  Query current = db.Prepare(
      "SELECT enabled, updated_at, events FROM subscriptions "
      "WHERE id = ?1 AND org_id = ?2 AND deleted_at = 0");
  if (!current.BindText(1, sub.id).BindText(2, sub.org_id).Step()) {
    if (!current.ok()) return QueryStatus(current, "cannot read subscription");
    return Status::NotFound("no subscription " + sub.id);
  }
  out->enabled = current.Int(0) != 0;
  out->updated_at = current.Int(1);
  out->events = DecodeEventTypes(current.Text(2));
  if (as_read && (as_read->enabled != out->enabled || as_read->updated_at != out->updated_at)) {
    return Status::Conflict("subscription " + sub.id + " changed since it was read");
  }
  return Status::Ok();
}

// A new filter takes the events stored from its commit on: the deliveries
// of those before get their rows first, with the filter they came under
// (deferred_rows.h), up to kDeferredSlicesInAChange slices here. *behind:
// more are left, to be written in slices of their own before the change.
Status WriteRowsBeforeNewFilter(Db& db, const Subscription& sub, const Stored& stored, int slice,
                                Millis now, int64_t* written, bool* behind) {
  DeferredSlice rows{.more = stored.events != sub.events};
  for (int i = 0; rows.more && i < kDeferredSlicesInAChange; ++i) {
    Status status = WriteDeferredRows(db, sub.id, sub.org_id, slice, false, now, &rows);
    if (!status.ok()) return status;
    *written += rows.written;
  }
  *behind = rows.more;
  return Status::Ok();
}

}  // namespace

std::optional<Subscription> SqliteStore::GetSubscription(const std::string& org_id,
                                                         const std::string& id, Status* failed) {
  const std::string& kSql = SelectSubscriptionSql();
  std::string error;
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db) {
    NoteReadFailure(failed, "the subscription", error);
    return std::nullopt;
  }
  Query q = db->Prepare(kSql);
  if (!q.BindText(1, id).BindText(2, org_id).Step()) {
    if (!q.ok()) NoteReadFailure(failed, "the subscription", q.error());
    return std::nullopt;
  }
  return ReadSubscription(q);
}

std::vector<Subscription> SqliteStore::ListSubscriptions(const std::string& org_id,
                                                         Status* failed) {
  static const std::string kSql = "SELECT " + std::string(kSubscriptionReadColumns) +
                                  " FROM subscriptions WHERE org_id = ?1 AND deleted_at = 0 "
                                  "ORDER BY created_at, id";
  std::vector<Subscription> subs;
  std::string error;
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db) {
    NoteReadFailure(failed, "the subscriptions", error);
    return subs;
  }
  Query q = db->Prepare(kSql);
  q.BindText(1, org_id);
  while (q.Step()) subs.push_back(ReadSubscription(q));
  if (!q.ok()) {
    NoteReadFailure(failed, "the subscriptions", q.error());
    subs.clear();
  }
  return subs;
}

Status SqliteStore::UpdateSubscription(const Subscription& sub, const Subscription* as_read,
                                       Subscription* as_stored) {
  const int slice = slice_.load();
  bool enabling = false;
  bool more = false;  // the enabling's first slice was full: more may wait
  Millis now = 0;
  int64_t written = 0;  // deferred rows written (deferred_rows.h) by the last run
  int64_t total_written = 0;
  bool behind = false;  // a new filter waits for the rows of a long backlog
  Status status = Status::Ok();
  for (;;) {
    status = writer_.RunSync([&](Db& db, bool* made_due) {
      enabling = more = behind = false;  // the writer may run this twice
      written = 0;
      ingest_subscriptions_.erase(sub.org_id);
      Stored stored;
      Status step = ReadStored(db, sub, as_read, &stored);
      if (!step.ok()) return step;
      // A long backlog's rows are written in slices of their own (CatchUpRows
      // below), and then this runs again.
      step = WriteRowsBeforeNewFilter(db, sub, stored, slice, clock_.Now(), &written, &behind);
      if (!step.ok() || behind) return step;
      const bool was_enabled = stored.enabled;
      now = clock_.Now();
      Subscription row = sub;
      // Always later than the last change, even in the same millisecond: a
      // stale read (and a 410 to a request built before this change) is told
      // by updated_at.
      row.updated_at = std::max(now, stored.updated_at + 1);
      Query update = db.Prepare(
          "UPDATE subscriptions SET url = ?4, description = ?5, events = ?6, enabled = ?7, "
          "xapi_version = ?8, token_sealed = ?9, secret_sealed = ?10, token_hint = ?11, "
          "max_in_flight = ?12, batch_size = ?13, updated_at = ?15 WHERE id = ?1 AND org_id = ?2");
      BindSubscription(update, row);
      if (!update.Run()) return QueryStatus(update, "cannot update subscription");
      Status changed = Status::Ok();
      if (was_enabled != sub.enabled) {
        if (!sub.enabled) {
          // Disabling moves nothing: its waiting deliveries read as held from now.
          changed = SetDisabledReason(db, sub.id, "disabled by an admin");
        } else {
          enabling = true;
          *made_due = true;  // its waiting deliveries can be claimed again
          changed = StartEnabling(db, sub.id, now, slice, &more);
        }
      }
      if (!changed.ok() || !as_stored) return changed;
      // Read in this transaction: an attempt's outcome committed after it
      // (enabling makes deliveries due at once) is not part of this change.
      Query read = db.Prepare(SelectSubscriptionSql());
      if (!read.BindText(1, sub.id).BindText(2, sub.org_id).Step()) {
        return QueryStatus(read, "cannot read subscription");
      }
      *as_stored = ReadSubscription(read);
      return Status::Ok();
    });
    if (status.ok()) total_written += written;
    if (!status.ok() || !behind) break;
    status = CatchUpRows(sub.org_id, sub.id);
    if (!status.ok()) break;
  }
  // Dead deliveries re-queued with old ids may be behind a claim cursor, as
  // may rows just written for deliveries due since their events came.
  if (status.ok() && enabling) cursors_.NoteMoved(sub.id, now);
  if (total_written > 0) cursors_.NoteMoved(sub.id, 0);
  // Its events may wait for their deliveries' rows (deferred_rows.h).
  if (status.ok() && enabling) MarkBehind({sub.id});
  if (status.ok()) NoteSubscriptionsChanged({sub.id});
  if (status.ok() && more) EnableRest(sub.id, slice);
  return status;
}

// One slice per job, each its own commit, until a slice says there is no
// more: ingest and claims run between the slices instead of waiting for one
// transaction over a whole backlog. Not durable and stopped when the store
// closes: the next start finishes what a stop or a power cut interrupted.
void SqliteStore::RunSlices(const std::string& sub_id, std::string_view stopped, SliceJob slice) {
  struct Progress {
    bool more = false;
    bool made_due = false;
    Millis started_at = 0;  // no later than the due time of what it made due
  };
  auto progress = std::make_shared<Progress>();
  WriteJob job;
  job.run = [this, slice, progress](Db& db, bool* made_due) {
    *progress = Progress{};
    progress->started_at = clock_.Now();
    Status status = slice(db, made_due, &progress->more);
    progress->made_due = *made_due;
    return status;
  };
  job.finish = [this, sub_id, stopped, slice, progress](const Status& status) {
    // Committed: deliveries it made due with old ids may be behind a cursor.
    if (status.ok() && progress->made_due) cursors_.NoteMoved(sub_id, progress->started_at);
    if (moves_stopped_) return;
    if (!status.ok()) {
      LogWarn(stopped, {{"subscription_id", sub_id}, {"error", status.message}});
    } else if (progress->more) {
      RunSlices(sub_id, stopped, slice);
    }
  };
  job.durable = false;
  writer_.Submit(std::move(job));
}

void SqliteStore::EnableRest(const std::string& sub_id, int slice) {
  RunSlices(sub_id, "enabling a subscription stopped part-way; a restart finishes it",
            [this, sub_id, slice](Db& db, bool* made_due, bool* more) {
              int woken = 0;
              Status status = EnablingSlice(db, sub_id, clock_.Now(), slice, &woken, more);
              *made_due = woken > 0;
              return status;
            });
}

// The subscription is marked deleted (and disabled) in one commit with the
// first slice of its deliveries; a subscription with more goes on in
// follow-up jobs, so no single commit holds the writer for its whole history.
Status SqliteStore::DeleteSubscription(const std::string& org_id, const std::string& id) {
  const int slice = slice_.load();
  bool gone = false;
  Status status = writer_.RunSync([&](Db& db, bool*) {
    ingest_subscriptions_.erase(org_id);
    Millis now = clock_.Now();
    Query mark = db.Prepare(
        "UPDATE subscriptions SET deleted_at = ?3, enabled = 0, updated_at = ?3 "
        "WHERE id = ?1 AND org_id = ?2 AND deleted_at = 0");
    if (!mark.BindText(1, id).BindText(2, org_id).BindInt(3, now).Run()) {
      return QueryStatus(mark, "cannot delete subscription");
    }
    if (db.Changes() == 0) return Status::NotFound("no subscription " + id);
    return DeleteDeliveriesSlice(db, id, slice, &gone);
  });
  ForgetWantsStatements(org_id);
  if (status.ok()) claimed_.Forget(id);
  if (status.ok()) totals_.Forget(id);
  if (status.ok()) NoteSubscriptionsChanged({id});
  if (status.ok() && !gone) DeleteRestOfDeliveries(id, slice);
  return status;
}

void SqliteStore::DeleteRestOfDeliveries(const std::string& sub_id, int slice) {
  RunSlices(sub_id, "deleting a subscription's deliveries stopped; a restart finishes it",
            [sub_id, slice](Db& db, bool*, bool* more) {
              bool gone = false;
              Status status = DeleteDeliveriesSlice(db, sub_id, slice, &gone);
              *more = status.ok() && !gone;
              return status;
            });
}

}  // namespace sqlite
}  // namespace punt::store
