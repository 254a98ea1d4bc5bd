#include "store/sqlite/deferred_rows.h"

#include <algorithm>

#include "store/sqlite/rows.h"

namespace punt::store::sqlite {

namespace {

// Where a webhook subscription's deliveries without rows start.
struct Deferred {
  std::string org_id;
  std::string events;   // its filter, as stored (JSON)
  int64_t through = 0;  // rows_through
  Millis from_at = 0;   // rows_through's accepted_at: the events after are after (it, through)
  bool enabled = false;
};

// False (with OK) for a subscription that is not a webhook one, is deleted
// or is not `org_id`'s (unless that is empty).
Status ReadDeferred(Db& db, const std::string& sub_id, const std::string& org_id, Deferred* out,
                    bool* found) {
  *found = false;
  {
    Query sub = db.Prepare(
        "SELECT org_id, events, rows_through, enabled FROM subscriptions WHERE id = ?1 "
        "AND kind = 'webhook' AND deleted_at = 0 AND (?2 = '' OR org_id = ?2)");
    if (!sub.BindText(1, sub_id).BindText(2, org_id).Step()) {
      return sub.ok() ? Status::Ok() : QueryStatus(sub, "cannot read subscription");
    }
    *found = true;
    out->org_id = sub.Text(0);
    out->events = sub.Text(1);
    out->through = sub.Int(2);
    out->enabled = sub.Int(3) != 0;
  }
  // events_by_accepted's rowid, seq, is its last column.
  Query at = db.Prepare("SELECT accepted_at FROM events WHERE seq = ?1");
  out->from_at = at.BindInt(1, out->through).Step() ? at.Int(0) : 0;
  return at.ok() ? Status::Ok() : QueryStatus(at, "cannot read events");
}

// The events after (?2, ?3) of organisation ?1 that the filter ?4 takes.
constexpr std::string_view kAfterThrough =
    "e.org_id = ?1 AND (e.accepted_at, e.seq) > (?2, ?3) "
    "AND EXISTS (SELECT 1 FROM json_each(?4) j WHERE j.value IN ('*', e.type))";

}  // namespace

Status CountDeferred(Db& db, const std::string& sub_id, int64_t* count) {
  *count = 0;
  Deferred from;
  bool found = false;
  Status status = ReadDeferred(db, sub_id, "", &from, &found);
  if (!status.ok() || !found) return status;
  Query q = db.Prepare("SELECT count(*) FROM events e WHERE " + std::string(kAfterThrough));
  q.BindText(1, from.org_id)
      .BindInt(2, from.from_at)
      .BindInt(3, from.through)
      .BindText(4, from.events);
  if (q.Step()) *count = q.Int(0);
  return q.ok() ? Status::Ok() : QueryStatus(q, "cannot count events");
}

Status HasDeferred(Db& db, const std::string& sub_id, const std::string& org_id, bool* any) {
  *any = false;
  Deferred from;
  bool found = false;
  Status status = ReadDeferred(db, sub_id, org_id, &from, &found);
  if (!status.ok() || !found) return status;
  Query q = db.Prepare(
      "SELECT 1 FROM events WHERE org_id = ?1 AND (accepted_at, seq) > (?2, ?3) LIMIT 1");
  *any = q.BindText(1, from.org_id).BindInt(2, from.from_at).BindInt(3, from.through).Step();
  return q.ok() ? Status::Ok() : QueryStatus(q, "cannot read events");
}

Status WriteDeferredRows(Db& db, const std::string& sub_id, const std::string& org_id, int slice,
                         bool enabled_only, Millis now, DeferredSlice* out) {
  *out = DeferredSlice{};
  Deferred from;
  Status status = ReadDeferred(db, sub_id, org_id, &from, &out->found);
  if (!status.ok() || !out->found) return status;
  out->enabled = from.enabled;
  if (enabled_only && !out->enabled) return Status::Ok();
  const std::string& org = from.org_id;
  const int64_t through = from.through;
  const Millis from_at = from.from_at;
  // The slice ends at its last event: the slice-th, or the newest.
  Millis end_at = 0;
  int64_t end_seq = 0;
  {
    Query last = db.Prepare(
        "SELECT accepted_at, seq FROM events WHERE org_id = ?1 "
        "AND (accepted_at, seq) > (?2, ?3) ORDER BY accepted_at, seq LIMIT 1 OFFSET ?4");
    last.BindText(1, org).BindInt(2, from_at).BindInt(3, through).BindInt(4, slice - 1);
    if (last.Step()) {
      end_at = last.Int(0);
      end_seq = last.Int(1);
      out->more = true;
    } else if (!last.ok()) {
      return QueryStatus(last, "cannot read events");
    } else {
      Query newest = db.Prepare(
          "SELECT accepted_at, seq FROM events WHERE org_id = ?1 "
          "AND (accepted_at, seq) > (?2, ?3) ORDER BY accepted_at DESC, seq DESC LIMIT 1");
      newest.BindText(1, org).BindInt(2, from_at).BindInt(3, through);
      if (!newest.Step())
        return newest.ok() ? Status::Ok() : QueryStatus(newest, "cannot read events");
      end_at = newest.Int(0);
      end_seq = newest.Int(1);
    }
  }
  static const std::string kInsert =
      "INSERT INTO deliveries (subscription_id, event_seq, state, attempt_count, "
      "next_attempt_at, created_at, updated_at) "
      "SELECT ?5, e.seq, 0, 0, min(e.accepted_at, ?8), e.accepted_at, e.accepted_at "
      "FROM events e WHERE " +
      std::string(kAfterThrough) +
      " AND (e.accepted_at, e.seq) <= (?6, ?7) "
      "ORDER BY e.accepted_at, e.seq";  // index order: no sort, ids in event order
  Query insert = db.Prepare(kInsert);
  insert.BindText(1, org)
      .BindInt(2, from_at)
      .BindInt(3, through)
      .BindText(4, from.events)
      .BindText(5, sub_id)
      .BindInt(6, end_at)
      .BindInt(7, end_seq)
      .BindInt(8, now);
  if (!insert.Run()) return QueryStatus(insert, "cannot write deliveries");
  out->written = db.Changes();
  out->due_from = std::min(from_at, now);
  Query moved = db.Prepare("UPDATE subscriptions SET rows_through = ?2 WHERE id = ?1");
  if (!moved.BindText(1, sub_id).BindInt(2, end_seq).Run()) {
    return QueryStatus(moved, "cannot keep where the deliveries' rows are");
  }
  return Status::Ok();
}

Status NewestAcceptedAt(Db& db, Millis* at) {
  Query q = db.Prepare("SELECT accepted_at FROM events ORDER BY seq DESC LIMIT 1");
  *at = q.Step() ? q.Int(0) : 0;
  return q.ok() ? Status::Ok() : QueryStatus(q, "cannot read events");
}

}  // namespace punt::store::sqlite
