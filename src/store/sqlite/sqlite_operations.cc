// Operator actions: retry one delivery, replay a time window, count a
// subscription's deliveries by state (DESIGN.md section 3).
#include <algorithm>
#include <utility>

#include "store/sqlite/bodies.h"
#include "store/sqlite/deferred_rows.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store_impl.h"
#include "util/log.h"

namespace punt::store::sqlite {

// Where a replay has got to: it has gone past every event up to (accepted_at,
// seq) in events_by_accepted order. Event seqs start at 1, so (since, 0) is
// before the window's first event.
struct ReplayCursor {
  Millis accepted_at = 0;
  int64_t seq = 0;
  bool done = false;
};

namespace {

constexpr int64_t StateValue(DeliveryState state) { return static_cast<int64_t>(state); }

constexpr DeliveryState kAllStates[] = {DeliveryState::kPending,   DeliveryState::kInFlight,
                                        DeliveryState::kRetrying,  DeliveryState::kHeld,
                                        DeliveryState::kDelivered, DeliveryState::kDead};

Status InFlightConflict(int64_t id) {
  return Status::Conflict("delivery " + std::to_string(id) +
                          " is in flight; retry it once the attempt is over");
}

// *sub_id: the delivery's subscription, once found.
Status Retry(Db& db, const std::string& org_id, int64_t id, bool claimed, Millis now,
             bool* made_due, std::string* sub_id) {
  bool enabled = false;
  {
    Query q = db.Prepare(
        "SELECT d.state, s.enabled, s.id FROM deliveries d JOIN subscriptions s "
        "ON s.id = d.subscription_id WHERE d.id = ?1 AND s.org_id = ?2 AND s.deleted_at = 0");
    if (!q.BindInt(1, id).BindText(2, org_id).Step()) {
      if (!q.ok()) return QueryStatus(q, "cannot read delivery");
      return Status::NotFound("no delivery " + std::to_string(id));
    }
    if (q.Int(0) == StateValue(DeliveryState::kInFlight)) return InFlightConflict(id);
    if (claimed && ClaimedSet::ShowsInFlight(static_cast<DeliveryState>(q.Int(0)))) {
      return InFlightConflict(id);
    }
    enabled = q.Int(1) != 0;
    *sub_id = q.Text(2);
  }
  // The attempt that delivered it, if it was, moves to attempts: its slot
  // in the row is for the attempt that delivers it next (schema step 6).
  Query keep = db.Prepare(
      "INSERT INTO attempts (delivery_id, at, status, latency_ms, error, response) "
      "SELECT id, ok_at, ok_status, ok_latency_ms, '', ok_response FROM deliveries "
      "WHERE id = ?1 AND ok_at IS NOT NULL");
  if (!keep.BindInt(1, id).Run()) return QueryStatus(keep, "cannot keep the delivering attempt");
  // Pending, due now (held while the subscription is disabled: schema step 7).
  Query update = db.Prepare(
      "UPDATE deliveries SET state = 0, next_attempt_at = ?2, updated_at = ?2, ok_at = NULL, "
      "ok_status = 0, ok_latency_ms = 0, ok_response = x'' WHERE id = ?1");
  if (!update.BindInt(1, id).BindInt(2, now).Run()) {
    return QueryStatus(update, "cannot retry delivery");
  }
  *made_due = enabled;
  return Status::Ok();
}

// Creates the deliveries of the window's next `slice` events (matching the
// subscription or not) and moves the cursor past them: one INSERT ... SELECT
// of the events that have a body in the subscription's format and whose type
// it picks. For an xAPI subscription, the statements ingest left out are
// built first. The bounds are row
// values with no OR, so both queries seek straight to the cursor in
// events_by_accepted (its rowid, seq, is its last column).
Status InsertReplaySlice(Db& db, const std::string& org_id, const std::string& sub_id,
                         Millis until, Millis now, int slice, const StatementBuilder& builder,
                         ReplayCursor* cursor, int64_t* created, bool* made_due) {
  bool enabled = false;
  bool xapi = false;
  {
    Query sub = db.Prepare(
        "SELECT enabled, kind FROM subscriptions WHERE id = ?1 AND org_id = ?2 "
        "AND deleted_at = 0");
    if (!sub.BindText(1, sub_id).BindText(2, org_id).Step()) {
      if (!sub.ok()) return QueryStatus(sub, "cannot read subscription");
      return Status::NotFound("no subscription " + sub_id);
    }
    enabled = sub.Int(0) != 0;
    xapi = ParseKind(sub.Text(1)) == SubscriptionKind::kXapi;
  }
  // This slice ends before (end_at, end_seq): after its last event, or at
  // `until` when fewer than `slice` events are left.
  ReplayCursor next{until, 0, true};
  Millis end_at = until;
  int64_t end_seq = 0;
  {
    Query last = db.Prepare(
        "SELECT accepted_at, seq FROM events WHERE org_id = ?1 "
        "AND (accepted_at, seq) > (?2, ?3) AND (accepted_at, seq) < (?4, 0) "
        "ORDER BY accepted_at, seq LIMIT 1 OFFSET ?5");
    last.BindText(1, org_id)
        .BindInt(2, cursor->accepted_at)
        .BindInt(3, cursor->seq)
        .BindInt(4, until)
        .BindInt(5, slice - 1);
    if (last.Step()) {
      next = {last.Int(0), last.Int(1), false};
      end_at = next.accepted_at;
      end_seq = next.seq + 1;
    } else if (!last.ok()) {
      return QueryStatus(last, "cannot replay events");
    }
  }
  if (xapi) {
    Status status = AddMissingStatements(db, org_id, sub_id, cursor->accepted_at, cursor->seq,
                                         end_at, end_seq, builder);
    if (!status.ok()) return status;
  }
  Query q = db.Prepare(
      "INSERT INTO deliveries (subscription_id, event_seq, state, attempt_count, "
      "next_attempt_at, created_at, updated_at) "
      "SELECT s.id, e.seq, 0, 0, ?3, ?3, ?3 "
      "FROM subscriptions s "
      "JOIN events e ON e.org_id = s.org_id "
      "AND (e.accepted_at, e.seq) > (?4, ?5) AND (e.accepted_at, e.seq) < (?6, ?7) "
      "WHERE s.id = ?1 AND s.org_id = ?2 AND s.deleted_at = 0 "
      "AND CASE s.kind WHEN 'xapi' "
      "THEN EXISTS (SELECT 1 FROM statements x WHERE x.event_seq = e.seq) "
      "ELSE e.webhook_body IS NOT NULL END "
      "AND EXISTS (SELECT 1 FROM json_each(s.events) j WHERE j.value IN ('*', e.type)) "
      "ORDER BY e.accepted_at, e.seq");  // index order: no sort
  q.BindText(1, sub_id)
      .BindText(2, org_id)
      .BindInt(3, now)
      .BindInt(4, cursor->accepted_at)
      .BindInt(5, cursor->seq)
      .BindInt(6, end_at)
      .BindInt(7, end_seq);
  if (!q.Run()) return QueryStatus(q, "cannot replay events");
  *created += db.Changes();
  *made_due = enabled && db.Changes() > 0;
  *cursor = next;
  return Status::Ok();
}

}  // namespace

Status SqliteStore::RetryDelivery(const std::string& org_id, int64_t id) {
  Millis now = 0;
  std::string sub_id;
  Status status = writer_.RunSync([&](Db& db, bool* made_due) {
    now = clock_.Now();
    return Retry(db, org_id, id, claimed_.Contains(id), now, made_due, &sub_id);
  });
  // Pending with an old id: it may be behind the subscription's claim cursor
  // (also when disabled: the cursor may outlive a short disabling).
  if (status.ok()) cursors_.NoteMoved(sub_id, now);
  return status;
}

// Where a replay is, between its slices.
struct SqliteStore::ReplayProgress {
  std::string org_id;
  std::string subscription_id;
  Millis until = 0;
  int slice = 0;
  ReplayCursor cursor;
  int64_t created = 0;
  ReplayCallback done;
};

void SqliteStore::Replay(const std::string& org_id, const std::string& subscription_id,
                         Millis since, Millis until, ReplayCallback done) {
  // The deliveries ingest left without rows get theirs first (deferred_rows.h),
  // so the replayed ones come after them, as they would have.
  Status rows = CatchUpRows(org_id, subscription_id);
  if (!rows.ok()) return done(rows);
  auto progress = std::make_shared<ReplayProgress>();
  progress->org_id = org_id;
  progress->subscription_id = subscription_id;
  progress->until = until;
  progress->slice = slice_.load();
  progress->cursor = {since, 0, false};  // one slice at least: it checks the subscription
  progress->done = std::move(done);
  ReplayNextSlice(std::move(progress));
}

// One slice of events per commit, so other writes go on between them; the
// next slice is submitted when one is committed, from its finish.
void SqliteStore::ReplayNextSlice(std::shared_ptr<ReplayProgress> progress) {
  struct Slice {
    ReplayCursor cursor;
    int64_t created = 0;
  };
  auto slice = std::make_shared<Slice>();
  WriteJob job;
  job.run = [this, progress, slice](Db& db, bool* made_due) {
    *slice = {progress->cursor, 0};  // the writer may run the job twice
    return InsertReplaySlice(db, progress->org_id, progress->subscription_id, progress->until,
                             clock_.Now(), progress->slice, statement_builder_, &slice->cursor,
                             &slice->created, made_due);
  };
  job.finish = [this, progress, slice](const Status& status) {
    if (!status.ok()) return progress->done(status);
    progress->created += slice->created;
    progress->cursor = slice->cursor;
    if (progress->cursor.done) return progress->done(progress->created);
    if (moves_stopped_) {
      return progress->done(Status::Failed("punt is stopping; the replay created " +
                                           std::to_string(progress->created) +
                                           " deliveries before it"));
    }
    ReplayNextSlice(progress);
  };
  writer_.Submit(std::move(job));
}

std::map<DeliveryState, int64_t> SqliteStore::CountDeliveries(const std::string& org_id,
                                                              const std::string& subscription_id,
                                                              Status* failed) {
  std::map<DeliveryState, int64_t> counts;
  Status rows = CatchUpRows(org_id, subscription_id);
  // If they cannot be written (the writer refuses), they are counted as
  // pending from the events.
  if (!rows.ok()) LogWarn("cannot write deferred delivery rows", {{"error", rows.message}});
  // Before the snapshot starts (delivery_totals.h).
  const DeliveryTotals::Kept kept = totals_.Get(subscription_id);
  std::string error;
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db || !db->Exec("BEGIN", &error)) {  // one snapshot for both reads
    NoteReadFailure(failed, "the delivery counts", error);
    return counts;
  }
  bool found = false;
  bool enabled = false;
  Millis created_at = 0;
  std::string read_error;
  {
    Query sub = db->Prepare(
        "SELECT enabled, created_at FROM subscriptions "
        "WHERE id = ?1 AND org_id = ?2 AND deleted_at = 0");
    found = sub.BindText(1, subscription_id).BindText(2, org_id).Step();
    enabled = found && sub.Int(0) != 0;
    created_at = found ? sub.Int(1) : 0;
    if (!sub.ok()) read_error = sub.error();
  }
  if (found) {
    for (DeliveryState state : kAllStates) counts[state] = 0;
    // Delivered deliveries are in no state index (schema step 2): they are
    // what is left of the total once the others are counted. The total goes
    // on from the last count's (delivery_totals.h): rows -1 and -2 are the
    // deliveries since and the last id. Three covering walks:
    // deliveries_waiting_by_subscription, deliveries_in_flight_held_dead and
    // deliveries_by_subscription from the mark on.
    const DeliveryTotals::Mark mark =
        kept.created_at == created_at ? kept.mark : DeliveryTotals::Mark{};
    Query q = db->Prepare(
        "SELECT state, COUNT(*) FROM deliveries WHERE subscription_id = ?1 "
        "AND (state = 0 OR state = 2) GROUP BY state "
        "UNION ALL SELECT state, COUNT(*) FROM deliveries WHERE subscription_id = ?1 "
        "AND (state = 1 OR state = 3 OR state = 5) GROUP BY state "
        "UNION ALL SELECT -1, COUNT(*) FROM deliveries WHERE subscription_id = ?1 AND id > ?2 "
        "UNION ALL SELECT -2, MAX(id) FROM deliveries WHERE subscription_id = ?1 AND id > ?2");
    q.BindText(1, subscription_id).BindInt(2, mark.up_to_id);
    DeliveryTotals::Mark now = mark;
    int64_t counted = 0;
    while (q.Step()) {
      int64_t state = q.Int(0);
      if (state == -1) {
        now.total += q.Int(1);
      } else if (state == -2) {
        now.up_to_id = std::max(now.up_to_id, q.Int(1));  // NULL (none since) reads as 0
      } else {
        counts[static_cast<DeliveryState>(state)] = q.Int(1);
        counted += q.Int(1);
      }
    }
    counts[DeliveryState::kDelivered] = now.total - counted;
    if (q.ok()) {
      totals_.Set(subscription_id, created_at, now);
    } else {
      counts.clear();
      read_error = q.error();
    }
  }
  if (!counts.empty() && !rows.ok()) {
    int64_t deferred = 0;
    Status counted = CountDeferred(*db, subscription_id, &deferred);
    counts[DeliveryState::kPending] += deferred;
    if (!counted.ok()) {
      counts.clear();
      read_error = counted.message;
    }
  }
  // Claimed deliveries whose rows still wait count as in_flight
  // (claimed_set.h).
  const std::string claimed = found ? claimed_.JsonOf(subscription_id) : "";
  if (!counts.empty() && claimed != ClaimedSet::kNone) {
    Query q = db->Prepare(
        "SELECT state, COUNT(*) FROM deliveries WHERE id IN (SELECT value FROM json_each(?2)) "
        "AND subscription_id = ?1 AND (state = 0 OR state = 2) GROUP BY state");
    q.BindText(1, subscription_id).BindText(2, claimed);
    while (q.Step()) {
      counts[static_cast<DeliveryState>(q.Int(0))] -= q.Int(1);
      counts[DeliveryState::kInFlight] += q.Int(1);
    }
    if (!q.ok()) {
      counts.clear();
      read_error = q.error();
    }
  }
  db->Exec("COMMIT", nullptr);
  if (!read_error.empty()) NoteReadFailure(failed, "the delivery counts", read_error);
  // What waits for a disabled subscription reads as held (schema step 7).
  if (!counts.empty() && !enabled) {
    for (DeliveryState waiting : {DeliveryState::kPending, DeliveryState::kRetrying}) {
      counts[DeliveryState::kHeld] += std::exchange(counts[waiting], 0);
    }
  }
  return counts;
}

}  // namespace punt::store::sqlite
