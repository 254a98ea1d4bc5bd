// Deliveries: what the API lists and what the dispatcher claims and records.
#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>

#include "store/sqlite/deferred_rows.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store_impl.h"
#include "util/log.h"
#include "util/time.h"

namespace punt::store::sqlite {
namespace {

constexpr int kMaxListLimit = 500;
constexpr size_t kMaxResponseBytes = 4096;
constexpr Millis kNoDueTime = std::numeric_limits<Millis>::max();
// How many slices of deferred rows (deferred_rows.h) a claim writes at most
// for one subscription before it reads what is due.
constexpr int kDeferredSlicesInAClaim = 8;

constexpr int64_t StateValue(DeliveryState state) { return static_cast<int64_t>(state); }

Query& BindOptional(Query& q, int index, std::optional<Millis> value) {
  return value ? q.BindInt(index, *value) : q.BindNull(index);
}

bool IsWaiting(DeliveryState state) {
  return state == DeliveryState::kPending || state == DeliveryState::kRetrying;
}

struct ClaimCandidate {
  std::string id;
  std::string org_id;
  int format = 0;  // the body it sends: 0 the webhook envelope, 1 the xAPI statement
  int max_in_flight = 0;
  int batch_size = 1;  // deliveries one request may carry: 1 for webhooks
  Millis updated_at = 0;
};

std::vector<ClaimCandidate> EnabledSubscriptions(Db& db) {
  Query q = db.Prepare(
      "SELECT id, org_id, CASE kind WHEN 'xapi' THEN 1 ELSE 0 END, max_in_flight, "
      "CASE kind WHEN 'xapi' THEN max(batch_size, 1) ELSE 1 END, updated_at "
      "FROM subscriptions WHERE enabled = 1 ORDER BY id");
  std::vector<ClaimCandidate> subs;
  while (q.Step()) {
    subs.push_back({q.Text(0), q.Text(1), static_cast<int>(q.Int(2)),
                    static_cast<int>(q.Int(3)), static_cast<int>(q.Int(4)), q.Int(5)});
  }
  return subs;
}

// The claim's first query, for one waiting state: the ids of due deliveries,
// earliest first, read from the partial index deliveries_waiting_by_subscription
// alone (it holds next_attempt_at and the rowid). The state is written into
// the SQL, not bound: only then does SQLite use that partial index (schema
// step 2). After a cursor (?4, ?5) it takes two seeks, the rest of the
// cursor's millisecond by id and then later ones: a row-value comparison of
// (next_attempt_at, id) would seek on the time alone. The index is named,
// as for the first of them SQLite would otherwise walk all of the
// subscription's deliveries by id; the cursor's time is never after the
// claim's (?2), so that seek leaves ?2 out.
enum class From { kStart, kCursorTime, kAfterCursorTime };
std::string FindDueSql(DeliveryState state, From from) {
  const std::string head = "SELECT id, next_attempt_at FROM deliveries ";
  const std::string where =
      "WHERE subscription_id = ?1 AND state = " + std::to_string(StateValue(state));
  const std::string indexed = "INDEXED BY deliveries_waiting_by_subscription ";
  switch (from) {
    case From::kStart:
      return head + where + " AND next_attempt_at <= ?2 ORDER BY next_attempt_at, id LIMIT ?3";
    case From::kCursorTime:
      return head + indexed + where + " AND next_attempt_at = ?4 AND id > ?5 ORDER BY id LIMIT ?3";
    case From::kAfterCursorTime:
      return head + indexed + where +
             " AND next_attempt_at > ?4 AND next_attempt_at <= ?2 "
             "ORDER BY next_attempt_at, id LIMIT ?3";
  }
  return {};
}

struct DueId {
  Millis next_attempt_at = 0;
  int64_t id = 0;
  bool operator<(const DueId& other) const {
    return std::pair(next_attempt_at, id) < std::pair(other.next_attempt_at, other.id);
  }
};

// Appends up to `limit` due deliveries of one query, leaving out those
// already claimed; returns how many.
int ReadDue(Query& q, int limit, const ClaimedIds& claimed, std::vector<DueId>* due) {
  int found = 0;
  while (found < limit && q.Step()) {
    int64_t id = q.Int(0);
    if (claimed.Contains(id)) continue;
    due->push_back({q.Int(1), id});
    ++found;
  }
  return found;
}

// Up to `limit` of one subscription's due deliveries in one waiting state,
// earliest first, leaving out those already claimed; after `from` if set.
Status FindDue(Db& db, const ClaimCandidate& sub, DeliveryState state, Millis now, int limit,
               std::optional<ClaimCursors::Position> from, const ClaimedIds& claimed,
               std::vector<DueId>* due) {
  static const std::string kPendingSql = FindDueSql(DeliveryState::kPending, From::kStart);
  static const std::string kRetryingSql = FindDueSql(DeliveryState::kRetrying, From::kStart);
  static const std::string kPendingAtSql = FindDueSql(DeliveryState::kPending, From::kCursorTime);
  static const std::string kPendingAfterSql =
      FindDueSql(DeliveryState::kPending, From::kAfterCursorTime);
  const std::string* const from_start[] = {state == DeliveryState::kRetrying ? &kRetryingSql
                                                                             : &kPendingSql};
  const std::string* const from_cursor[] = {&kPendingAtSql, &kPendingAfterSql};  // pending only
  std::span<const std::string* const> queries(from_start);
  if (from) queries = from_cursor;
  int found = 0;
  for (const std::string* sql : queries) {
    Query q = db.Prepare(*sql);
    // Claimed deliveries are still waiting in their rows: read past them.
    const int64_t read = (limit - found) + static_cast<int64_t>(claimed.size());
    q.BindText(1, sub.id).BindInt(3, read);
    if (sql == &kPendingAtSql) {
      q.BindInt(4, from->next_attempt_at).BindInt(5, from->id);
    } else {
      q.BindInt(2, now);
      if (from) q.BindInt(4, from->next_attempt_at);
    }
    found += ReadDue(q, limit - found, claimed, due);
    if (!q.ok()) return QueryStatus(q, "cannot find due deliveries");
    if (found >= limit) break;
  }
  return Status::Ok();
}

// What the claimed deliveries send: their event ids and bodies, and their
// attempts so far, in the order of `due`, in one statement. One without a
// body in the subscription's format is left out.
Status LoadDue(Db& db, const ClaimCandidate& sub, const std::vector<DueId>& due,
               std::vector<DueDelivery>* out) {
  if (due.empty()) return Status::Ok();
  std::string ids = "[";
  for (const DueId& next : due) {
    if (ids.size() > 1) ids += ',';
    ids += std::to_string(next.id);
  }
  ids += ']';
  // CROSS JOIN keeps json_each the outer loop, so the rows come in the order
  // of `due` without an ORDER BY, which would sort the bodies in a temporary
  // b-tree. Each row's place in `due` (json_each's key) checks that.
  Query q = db.Prepare(
      "SELECT j.key, d.id, e.event_id, d.attempt_count, "
      "CASE ?2 WHEN 1 THEN st.body ELSE e.webhook_body END "
      "FROM json_each(?1) j "
      "CROSS JOIN deliveries d ON d.id = j.value JOIN events e ON e.seq = d.event_seq "
      "LEFT JOIN statements st ON ?2 = 1 AND st.event_seq = d.event_seq "
      "WHERE CASE ?2 WHEN 1 THEN st.body ELSE e.webhook_body END IS NOT NULL");
  q.BindText(1, ids).BindInt(2, sub.format);
  const size_t first = out->size();
  std::vector<int64_t> places;
  places.reserve(due.size());
  while (q.Step()) {
    places.push_back(q.Int(0));
    DueDelivery& d = out->emplace_back();
    d.delivery_id = q.Int(1);
    d.subscription_id = sub.id;
    d.org_id = sub.org_id;
    d.event_id = q.Text(2);
    d.attempt_count = static_cast<int>(q.Int(3));
    d.body = q.Blob(4);
    d.subscription_updated_at = sub.updated_at;
  }
  if (!q.ok()) return QueryStatus(q, "cannot read due deliveries");
  if (!std::is_sorted(places.begin(), places.end())) {
    std::vector<size_t> order(places.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return places[a] < places[b]; });
    std::vector<DueDelivery> loaded;
    loaded.reserve(order.size());
    for (size_t i : order) loaded.push_back(std::move((*out)[first + i]));
    std::move(loaded.begin(), loaded.end(), out->begin() + static_cast<std::ptrdiff_t>(first));
  }
  return Status::Ok();
}

// Claims up to `limit` for one subscription, retries and first attempts
// merged by due time, leaving out those `claimed` already. Pending
// deliveries are read from the subscription's cursor when it has one, and
// the cursor is moved to the last one claimed.
Status ClaimFor(Db& db, const ClaimCandidate& sub, Millis now, int limit, const ClaimedIds& claimed,
                ClaimCursors& cursors, std::vector<DueDelivery>* out) {
  std::optional<ClaimCursors::Position> from = cursors.Get(sub.id, now);
  std::vector<DueId> pending;
  Status status = FindDue(db, sub, DeliveryState::kPending, now, limit, from, claimed, &pending);
  std::vector<DueId> due = pending;
  if (status.ok()) {
    status = FindDue(db, sub, DeliveryState::kRetrying, now, limit, std::nullopt, claimed, &due);
  }
  if (!status.ok()) return status;
  std::sort(due.begin(), due.end());
  if (due.size() > static_cast<size_t>(limit)) due.resize(limit);
  // The pending ones claimed are the first of `pending`: the cursor moves to
  // the last of them. Fewer found than asked for: none is left beyond.
  if (pending.size() < static_cast<size_t>(limit)) {
    cursors.Drop(sub.id);
  } else if (!due.empty()) {
    size_t taken = std::upper_bound(pending.begin(), pending.end(), due.back()) - pending.begin();
    if (taken > 0) {
      const DueId& last = pending[taken - 1];
      cursors.Set(sub.id, {last.next_attempt_at, last.id}, now, from.has_value());
    }
  }
  return LoadDue(db, sub, due, out);
}

// Subscriptions take turns: each claim starts one subscription further on.
// `limit` and the free slots count requests; a request to an xAPI
// subscription carries up to its batch_size deliveries.
Status Claim(Db& db, Millis now, int limit, const Store::FreeSlots& free_slots, size_t turn,
             const ClaimedIds& taken, ClaimCursors& cursors, std::vector<DueDelivery>* claimed) {
  std::vector<ClaimCandidate> subs = EnabledSubscriptions(db);
  int requests = 0;
  for (size_t i = 0; i < subs.size() && requests < limit; ++i) {
    const ClaimCandidate& sub = subs[(turn + i) % subs.size()];
    int slots = std::min(free_slots(sub.id, sub.max_in_flight, sub.batch_size), limit - requests);
    if (slots <= 0) continue;
    size_t before = claimed->size();
    Status status = ClaimFor(db, sub, now, slots * sub.batch_size, taken, cursors, claimed);
    if (!status.ok()) return status;
    int taken = static_cast<int>(claimed->size() - before);
    requests += (taken + sub.batch_size - 1) / sub.batch_size;
  }
  return Status::Ok();
}

// What one RecordAttempts commit has done so far.
struct RecordContext {
  // Subscriptions already marked healthy at `now`: marking them again would
  // change nothing.
  std::unordered_set<std::string> healthy;
  // The subscriptions this commit disabled (one already disabled is not
  // here), and why: noted as changed and logged once it commits.
  std::vector<std::pair<std::string, std::string>> disabled;
};

// Disables the subscription: its waiting deliveries read as held from now.
Status Disable(Db& db, const std::string& sub_id, std::string_view reason, Millis now,
               RecordContext& ctx) {
  Query off = db.Prepare(
      "UPDATE subscriptions SET enabled = 0, disabled_reason = ?2, "
      "updated_at = max(?3, updated_at + 1) "
      "WHERE id = ?1 AND enabled = 1");
  if (!off.BindText(1, sub_id).BindText(2, reason).BindInt(3, now).Run()) {
    return QueryStatus(off, "cannot disable subscription");
  }
  if (db.Changes() > 0) ctx.disabled.emplace_back(sub_id, reason);
  return Status::Ok();
}

// The subscription of a delivery, and when it started failing; false when
// the delivery no longer exists.
bool SubscriptionOf(Db& db, const AttemptOutcome& outcome, std::string* sub_id,
                    Millis* failing_since, Millis* updated_at) {
  Query q =
      outcome.subscription_id.empty()
          ? db.Prepare(
                "SELECT s.id, s.failing_since, s.updated_at FROM deliveries d "
                "JOIN subscriptions s ON s.id = d.subscription_id WHERE d.id = ?1")
          : db.Prepare("SELECT id, failing_since, updated_at FROM subscriptions WHERE id = ?2");
  if (outcome.subscription_id.empty()) {
    q.BindInt(1, outcome.delivery_id);
  } else {
    q.BindText(2, outcome.subscription_id);
  }
  if (!q.Step()) return false;
  *sub_id = q.Text(0);
  *failing_since = q.Int(1);
  *updated_at = q.Int(2);
  return true;
}

// Keeps the subscription's health from what one attempt said, and disables
// it on a 410 or when it has failed for too long.
Status UpdateHealth(Db& db, const AttemptOutcome& outcome, Millis now, RecordContext& ctx) {
  std::unordered_set<std::string>& healthy = ctx.healthy;
  using Signal = AttemptOutcome::Signal;
  if (outcome.signal == Signal::kNone) return Status::Ok();
  if (outcome.signal == Signal::kSuccess && healthy.count(outcome.subscription_id)) {
    return Status::Ok();
  }
  std::string sub_id;
  Millis failing_since = 0;
  Millis updated_at = 0;
  if (!SubscriptionOf(db, outcome, &sub_id, &failing_since, &updated_at)) return Status::Ok();
  if (outcome.signal == Signal::kSuccess) {
    if (!healthy.insert(sub_id).second) return Status::Ok();
    Query q = db.Prepare(
        "UPDATE subscriptions SET last_success_at = ?2, failing_since = 0, "
        "consecutive_failures = 0, credentials_refused = 0 WHERE id = ?1");
    return q.BindText(1, sub_id).BindInt(2, now).Run() ? Status::Ok()
                                                        : QueryStatus(q, "cannot keep health");
  }
  healthy.erase(sub_id);
  if (failing_since == 0) failing_since = now;
  Query q = db.Prepare(
      "UPDATE subscriptions SET last_failure_at = ?2, failing_since = ?3, "
      "consecutive_failures = consecutive_failures + 1, credentials_refused = ?4 WHERE id = ?1");
  q.BindText(1, sub_id)
      .BindInt(2, now)
      .BindInt(3, failing_since)
      .BindInt(4, outcome.signal == Signal::kCredentialsRefused ? 1 : 0);
  if (!q.Run()) return QueryStatus(q, "cannot keep health");
  if (outcome.signal == Signal::kGone) {
    const bool changed_since =
        outcome.subscription_updated_at != 0 && outcome.subscription_updated_at != updated_at;
    if (changed_since) return Status::Ok();  // a failed attempt; the next goes as it is now
    return Disable(db, sub_id, outcome.attempt.error, now, ctx);
  }
  if (outcome.disable_if_failing_since_before > 0 &&
      failing_since < outcome.disable_if_failing_since_before) {
    std::string since = FormatTimestamp(TimePoint(std::chrono::milliseconds(failing_since)));
    return Disable(db, sub_id, "failing since " + since + " without a success: disabled", now,
                   ctx);
  }
  return Status::Ok();
}

// Logs the attempt; when `check_exists`, only if the delivery still exists.
Status LogAttempt(Db& db, const AttemptOutcome& outcome, bool check_exists) {
  const Attempt& a = outcome.attempt;
  Query insert = db.Prepare(
      check_exists
          ? "INSERT INTO attempts (delivery_id, at, status, latency_ms, error, response) "
            "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = ?1 "
            "AND (?7 = '' OR subscription_id = ?7))"
          : "INSERT INTO attempts (delivery_id, at, status, latency_ms, error, response) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  insert.BindInt(1, outcome.delivery_id)
      .BindInt(2, a.at)
      .BindInt(3, a.status)
      .BindInt(4, a.latency_ms)
      .BindText(5, a.error)
      .BindBlob(6, std::string_view(a.response).substr(0, kMaxResponseBytes));
  if (check_exists) insert.BindText(7, outcome.subscription_id);
  return insert.Run() ? Status::Ok() : QueryStatus(insert, "cannot log attempt");
}

// The attempt that delivers a delivery goes into the delivery's row (schema
// step 6), with the state: no row of attempts, no index entry. The slot is
// free, as nothing delivers a delivery twice without an admin's retry,
// which empties it first.
Status RecordDelivered(Db& db, const AttemptOutcome& outcome, Millis now) {
  const Attempt& a = outcome.attempt;
  Query update = db.Prepare(
      "UPDATE deliveries SET state = ?2, attempt_count = attempt_count + 1, "
      "next_attempt_at = ?3, updated_at = ?4, ok_at = ?5, ok_status = ?6, ok_latency_ms = ?7, "
      "ok_response = ?8 WHERE id = ?1 AND (?9 = '' OR subscription_id = ?9)");
  update.BindInt(1, outcome.delivery_id)
      .BindInt(2, StateValue(DeliveryState::kDelivered))
      .BindInt(3, outcome.next_attempt_at)
      .BindInt(4, now)
      .BindInt(5, a.at)
      .BindInt(6, a.status)
      .BindInt(7, a.latency_ms)
      .BindBlob(8, std::string_view(a.response).substr(0, kMaxResponseBytes))
      .BindText(9, outcome.subscription_id);
  return update.Run() ? Status::Ok() : QueryStatus(update, "cannot update delivery");
}

// Returns OK with nothing written when the delivery no longer exists. An
// outcome names its delivery by id and, when it can, by subscription (?9):
// a delivery id comes again once the rows of the highest ids are gone (a
// deleted subscription's: rowids, not AUTOINCREMENT), and the answer to a
// request still open for the deleted subscription must not land on another
// subscription's new delivery. The same holds for the claims (ClaimedSet).
Status Record(Db& db, const AttemptOutcome& outcome, Millis now, RecordContext& ctx) {
  // A batch split: the delivery stays in flight and its attempt count is
  // kept; only the attempt is logged.
  if (outcome.new_state == DeliveryState::kInFlight) return LogAttempt(db, outcome, true);
  const bool inline_attempt =
      outcome.new_state == DeliveryState::kDelivered && outcome.attempt.error.empty();
  if (inline_attempt) {
    Status status = RecordDelivered(db, outcome, now);
    if (!status.ok() || db.Changes() == 0) return status;
    return UpdateHealth(db, outcome, now, ctx);
  }
  Query update = db.Prepare(
      "UPDATE deliveries SET state = ?2, attempt_count = attempt_count + 1, "
      "next_attempt_at = ?3, updated_at = ?4 WHERE id = ?1 AND (?9 = '' OR subscription_id = ?9)");
  update.BindInt(1, outcome.delivery_id)
      .BindInt(2, StateValue(outcome.new_state))
      .BindInt(3, outcome.next_attempt_at)
      .BindInt(4, now)
      .BindText(9, outcome.subscription_id);
  if (!update.Run()) return QueryStatus(update, "cannot update delivery");
  if (db.Changes() == 0) return Status::Ok();
  Status logged = LogAttempt(db, outcome, /*check_exists=*/false);  // the update found it
  return logged.ok() ? UpdateHealth(db, outcome, now, ctx) : logged;
}

}  // namespace

void SqliteStore::MarkBehind(const std::vector<std::string>& sub_ids) {
  if (sub_ids.empty()) return;
  std::lock_guard lock(behind_mu_);
  behind_.insert(sub_ids.begin(), sub_ids.end());
}

// Taken out of behind_ before the job runs: an ingest that marks one again
// meanwhile is caught up by the next claim. A disabled one is left out until
// it is enabled (UpdateSubscription marks it then).
void SqliteStore::CatchUpBehind(int wanted) {
  if (writer_.failed()) return;  // it could write nothing: they stay marked
  std::vector<std::string> ids;
  {
    std::lock_guard lock(behind_mu_);
    if (behind_.empty()) return;
    ids.assign(behind_.begin(), behind_.end());
    behind_.clear();
  }
  const int slice = slice_.load();
  std::vector<DeferredSlice> slices(ids.size());
  Status status = writer_.RunSync(
      [&](Db& db, bool* made_due) {
        for (size_t i = 0; i < ids.size(); ++i) {
          // Slices until the claim could take all it wants, or a few.
          DeferredSlice& all = slices[i];
          all = DeferredSlice{};  // the writer may run this twice
          for (int n = 0; n < kDeferredSlicesInAClaim; ++n) {
            DeferredSlice next;
            Status written = WriteDeferredRows(db, ids[i], "", slice, /*enabled_only=*/true,
                                               clock_.Now(), &next);
            if (!written.ok()) return written;
            if (n == 0) all.due_from = next.due_from;  // the earliest
            all.found = next.found;
            all.enabled = next.enabled;
            all.more = next.more;
            all.written += next.written;
            if (!next.more || !next.enabled || all.written >= wanted) break;
          }
          // More to write: the next claim, which this wakes, goes on.
          if (all.more && all.enabled) *made_due = true;
        }
        return Status::Ok();
      },
      // Lost to a power cut, the rows are written again. The claim waits
      // for the commit alone, not for a sync of ingests grouped with it.
      /*durable=*/false, /*urgent=*/true);
  if (!status.ok()) {
    LogError("cannot write the rows of deliveries to claim", {{"error", status.message}});
    MarkBehind(ids);
    return;
  }
  std::vector<std::string> again;
  for (size_t i = 0; i < ids.size(); ++i) {
    // Due since their events' acceptance: maybe behind a claim cursor.
    if (slices[i].written > 0) cursors_.NoteMoved(ids[i], slices[i].due_from);
    if (slices[i].enabled && slices[i].more) again.push_back(ids[i]);
  }
  MarkBehind(again);
}

Status SqliteStore::CatchUpRows(const std::string& org_id, const std::string& sub_id) {
  {
    // Most reads find nothing to write: they need not wait for the writer.
    std::string error;
    ReadPool::Lease db = readers_.Acquire(&error);
    if (!db) return Status::Failed("cannot read: " + error);
    bool any = false;
    Status status = HasDeferred(*db, sub_id, org_id, &any);
    if (!status.ok() || !any) return status;
  }
  const int slice = slice_.load();
  DeferredSlice done;
  do {
    Status status = writer_.RunSync(
        [&](Db& db, bool*) {
          return WriteDeferredRows(db, sub_id, org_id, slice, /*enabled_only=*/false, clock_.Now(),
                                   &done);
        },
        /*durable=*/false, /*urgent=*/true);
    if (!status.ok()) return status;
    if (done.written > 0) cursors_.NoteMoved(sub_id, done.due_from);
  } while (done.more && !moves_stopped_);
  return Status::Ok();
}

void SqliteStore::ShowClaimed(Delivery& delivery) const {
  if (ClaimedSet::ShowsInFlight(delivery.state) && claimed_.Contains(delivery.id)) {
    delivery.state = DeliveryState::kInFlight;
  }
}

std::vector<Delivery> SqliteStore::ListDeliveries(const DeliveryQuery& query, Status* failed) {
  // A state filter sees claimed deliveries (?8, claimed_set.h) as in_flight:
  // in_flight takes them in, pending, retrying and held leave them out.
  static const std::string kSql =
      "SELECT " + std::string(kDeliveryColumns) +
      " FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
      "JOIN events e ON e.seq = d.event_seq "
      "WHERE d.subscription_id = ?1 AND s.org_id = ?2 AND s.deleted_at = 0 AND d.id > ?3 "
      "AND (?4 < 0 OR (" +
      std::string(kDeliveryStateColumn) +
      " = ?4 AND "
      "(?4 NOT IN (0, 2, 3) OR d.id NOT IN (SELECT value FROM json_each(?8)))) OR (?4 = 1 AND "
      "(d.state = 0 OR d.state = 2) AND d.id IN (SELECT value FROM json_each(?8)))) "
      "AND (?6 IS NULL OR d.updated_at >= ?6) "
      "AND (?7 IS NULL OR d.updated_at < ?7) ORDER BY d.id LIMIT ?5";
  std::vector<Delivery> deliveries;
  std::string error;
  Status rows = CatchUpRows(query.org_id, query.subscription_id);
  // Read on without them if they cannot be written (the writer refuses).
  if (!rows.ok()) LogWarn("cannot write deferred delivery rows", {{"error", rows.message}});
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db) {
    NoteReadFailure(failed, "the deliveries", error);
    return deliveries;
  }
  Query q = db->Prepare(kSql);
  q.BindText(1, query.subscription_id)
      .BindText(2, query.org_id)
      .BindInt(3, query.after_id)
      .BindInt(4, query.state ? StateValue(*query.state) : -1)
      .BindInt(5, std::clamp(query.limit, 1, kMaxListLimit))
      .BindText(8, query.state ? claimed_.JsonOf(query.subscription_id)
                               : std::string(ClaimedSet::kNone));
  BindOptional(q, 6, query.since);
  BindOptional(q, 7, query.until);
  while (q.Step()) {
    deliveries.push_back(ReadDelivery(q));
    ShowClaimed(deliveries.back());
  }
  if (!q.ok()) {
    NoteReadFailure(failed, "the deliveries", q.error());
    deliveries.clear();
  }
  return deliveries;
}

std::optional<Delivery> SqliteStore::GetDelivery(const std::string& org_id, int64_t id,
                                                 Status* failed) {
  static const std::string kDeliverySql =
      "SELECT " + std::string(kDeliveryColumns) +
      " FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
      "JOIN events e ON e.seq = d.event_seq "
      "WHERE d.id = ?1 AND s.org_id = ?2 AND s.deleted_at = 0";
  // The attempts' rows, and the one that delivered it from its own row
  // (schema step 6), which came last.
  static const std::string kAttemptsSql =
      "SELECT " + std::string(kAttemptColumns) +
      ", 0 FROM attempts WHERE delivery_id = ?1 UNION ALL "
      "SELECT 0, ok_at, ok_status, ok_latency_ms, '', ok_response, 1 FROM deliveries "
      "WHERE id = ?1 AND ok_at IS NOT NULL ORDER BY 2, 7, 1";
  std::string error;
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db || !db->Exec("BEGIN", &error)) {  // one snapshot for both reads
    NoteReadFailure(failed, "the delivery", error);
    return std::nullopt;
  }
  std::optional<Delivery> delivery;
  std::string read_error;
  {
    Query q = db->Prepare(kDeliverySql);
    if (q.BindInt(1, id).BindText(2, org_id).Step()) delivery = ReadDelivery(q);
    if (!q.ok()) read_error = q.error();
  }
  if (delivery) ShowClaimed(*delivery);
  if (delivery) {
    Query q = db->Prepare(kAttemptsSql);
    q.BindInt(1, id);
    while (q.Step()) delivery->attempts.push_back(ReadAttempt(q));
    if (!q.ok()) read_error = q.error();
  }
  db->Exec("COMMIT", nullptr);
  if (!read_error.empty()) {
    NoteReadFailure(failed, "the delivery", read_error);
    return std::nullopt;
  }
  return delivery;
}

std::vector<DueDelivery> SqliteStore::ClaimDue(Millis now, int limit,
                                               const FreeSlots& free_slots) {
  std::vector<DueDelivery> claimed;
  // Once the writer refuses, no outcome could be recorded: send nothing more.
  if (limit <= 0 || writer_.failed()) return claimed;
  CatchUpBehind(limit);  // committed before the claim's snapshot starts
  size_t turn = claim_turn_++;
  // A claim writes nothing, so it reads on a read connection and never waits
  // for the writer. One claim at a time, and the claims are copied before its
  // snapshot starts: a delivery whose outcome commits in between is still in
  // that copy, so it cannot be claimed again from a snapshot that shows it
  // waiting.
  // The cursors take the moves noted so far before the claims are copied:
  // a delivery released (removed, then noted) between the two would
  // otherwise be skipped as claimed by a claim that used up its note, and
  // left behind the cursor that claim sets until the cursor expired.
  std::lock_guard lock(claim_mu_);
  cursors_.BeginClaim(now);
  ClaimedIds taken = claimed_.Snapshot();
  std::string error;
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db) {
    LogError("cannot open a read connection to claim", {{"error", error}});
    return claimed;
  }
  Status status = db->Exec("BEGIN", &error)
                      ? Claim(*db, now, limit, free_slots, turn, taken, cursors_, &claimed)
                      : Status::Failed("cannot start a claim: " + error);
  db->Exec(status.ok() ? "COMMIT" : "ROLLBACK", nullptr);
  if (!status.ok()) {
    LogError("a claim failed", {{"error", status.message}});
    claimed.clear();
    cursors_.Clear();  // they may have moved past what is not claimed after all
  }
  for (const DueDelivery& d : claimed) claimed_.Add(d.delivery_id, d.subscription_id);
  return claimed;
}

void SqliteStore::RecordAttempts(std::vector<AttemptOutcome> outcomes) {
  if (outcomes.empty()) return;
  std::vector<std::pair<std::string, std::string>> disabled;
  Status recorded = writer_.RunSync(
      [&](Db& db, bool* made_due) {
        Millis now = clock_.Now();
        RecordContext ctx;
        Status status = Status::Ok();
        for (const AttemptOutcome& outcome : outcomes) {
          status = Record(db, outcome, now, ctx);
          if (!status.ok()) break;
          *made_due =
              *made_due || (IsWaiting(outcome.new_state) && outcome.next_attempt_at <= now);
        }
        if (!ctx.disabled.empty()) ingest_subscriptions_.clear();
        disabled = ctx.disabled;  // the writer may run this twice
        return status;
      },
      /*durable=*/false);
  if (!recorded.ok()) return;  // they stay claimed, as in flight, until ResetInFlight
  std::vector<std::string> changed;
  for (const auto& [sub_id, reason] : disabled) {
    LogWarn("subscription disabled", {{"subscription_id", sub_id}, {"reason", reason}});
    changed.push_back(sub_id);
  }
  // Only now, after the commit: a claim that no longer finds a delivery
  // claimed finds its new state.
  for (const AttemptOutcome& outcome : outcomes) {
    if (outcome.new_state != DeliveryState::kInFlight) {
      claimed_.Remove(outcome.delivery_id, outcome.subscription_id);
    }
    // Pending again with its old id: it may be behind its subscription's
    // claim cursor (the dispatcher sends no such outcome today).
    if (outcome.new_state == DeliveryState::kPending) {
      if (outcome.subscription_id.empty()) {
        cursors_.Clear();
      } else {
        cursors_.NoteMoved(outcome.subscription_id, outcome.next_attempt_at);
      }
    }
  }
  NoteSubscriptionsChanged(changed);
}

// Nothing was written for a claim, so nothing is written to give one back.
// A released pending delivery sits behind its subscription's claim cursor:
// the note (after the removal, as in RecordAttempts) drops the cursor.
void SqliteStore::ReleaseClaims(const std::vector<DueDelivery>& deliveries) {
  for (const DueDelivery& d : deliveries) claimed_.Remove(d.delivery_id, d.subscription_id);
  for (const DueDelivery& d : deliveries) cursors_.NoteMoved(d.subscription_id, 0);
}

int SqliteStore::ResetInFlight() {
  int moved = 0;
  std::vector<std::string> deleted;   // subscriptions whose deletion a stop interrupted
  std::vector<std::string> enabling;  // the same for their enabling's slices
  std::vector<std::string> behind;    // enabled webhook subscriptions
  Status status = writer_.RunSync([&](Db& db, bool* made_due) {
    // In flight (1) written out: deliveries_in_flight_held_dead.
    Query q = db.Prepare("UPDATE deliveries SET state = 0, updated_at = ?1 WHERE state = 1");
    if (!q.BindInt(1, clock_.Now()).Run()) {
      return QueryStatus(q, "cannot reset in-flight deliveries");
    }
    moved = db.Changes();
    *made_due = moved > 0;
    deleted.clear();
    enabling.clear();
    Query marked = db.Prepare(
        "SELECT id, deleted_at > 0 FROM subscriptions WHERE deleted_at > 0 "
        "OR (enabled = 1 AND (requeue_until > 0 OR release_until > 0))");
    while (marked.Step()) (marked.Int(1) ? deleted : enabling).push_back(marked.Text(0));
    if (!marked.ok()) return QueryStatus(marked, "cannot find unfinished work");
    // Events may wait for their deliveries' rows (deferred_rows.h).
    behind.clear();
    Query webhooks = db.Prepare(
        "SELECT id FROM subscriptions WHERE kind = 'webhook' AND enabled = 1 AND deleted_at = 0");
    while (webhooks.Step()) behind.push_back(webhooks.Text(0));
    return webhooks.ok() ? Status::Ok() : QueryStatus(webhooks, "cannot read subscriptions");
  });
  MarkBehind(behind);
  if (status.ok()) {
    for (const std::string& sub_id : deleted) {
      LogInfo("going on deleting a subscription deleted before the stop",
              {{"subscription_id", sub_id}});
      DeleteRestOfDeliveries(sub_id, slice_.load());
    }
    for (const std::string& sub_id : enabling) {
      LogInfo("going on enabling a subscription enabled before the stop",
              {{"subscription_id", sub_id}});
      EnableRest(sub_id, slice_.load());
    }
  }
  cursors_.Clear();  // deliveries in flight became pending again, with old ids
  if (!status.ok()) return -1;
  return moved + static_cast<int>(claimed_.Clear());
}

std::optional<Millis> SqliteStore::NextDueTime(Millis after) {
  CatchUpBehind(1);  // deliveries without rows are due too
  std::string error;
  ReadPool::Lease db = readers_.Acquire(&error);
  if (!db) return std::nullopt;
  // One seek per enabled subscription and waiting state in
  // deliveries_waiting_by_subscription: each state is written out, as only
  // then does SQLite use the partial index (schema step 2).
  static const std::string kSql = [] {
    auto first_after = [](DeliveryState state) {
      return "(SELECT next_attempt_at FROM deliveries WHERE subscription_id = s.id AND state = " +
             std::to_string(StateValue(state)) +
             " AND next_attempt_at > ?1 ORDER BY next_attempt_at LIMIT 1)";
    };
    return "SELECT min(min(ifnull(" + first_after(DeliveryState::kPending) + ", ?2), ifnull(" +
           first_after(DeliveryState::kRetrying) +
           ", ?2))) FROM subscriptions s WHERE s.enabled = 1";
  }();
  Query q = db->Prepare(kSql);
  q.BindInt(1, after).BindInt(2, kNoDueTime);
  if (!q.Step() || q.IsNull(0) || q.Int(0) == kNoDueTime) return std::nullopt;
  return q.Int(0);
}

}  // namespace punt::store::sqlite
