#include "store/sqlite/schema.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <string_view>

#include "store/model.h"
#include "util/log.h"

namespace punt::store::sqlite {
namespace {

// Step 2's partial indexes and the queries that use them name the delivery
// states by number: SQLite uses a partial index only for a query whose WHERE
// spells out its condition with the same constants.
static_assert(static_cast<int>(DeliveryState::kPending) == 0 &&
              static_cast<int>(DeliveryState::kInFlight) == 1 &&
              static_cast<int>(DeliveryState::kRetrying) == 2 &&
              static_cast<int>(DeliveryState::kHeld) == 3 &&
              static_cast<int>(DeliveryState::kDelivered) == 4 &&
              static_cast<int>(DeliveryState::kDead) == 5);

// Each step runs in one transaction together with its user_version bump.
// Never edit a released step: append a new one.
constexpr std::array<std::string_view, 10> kMigrations = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE orgs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  platform_url TEXT NOT NULL,
  mbox_opt_in INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  hash TEXT NOT NULL UNIQUE,
  scopes INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX api_keys_by_org ON api_keys(org_id);

CREATE TABLE subscriptions (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('webhook', 'xapi')),
  url TEXT NOT NULL,
  description TEXT NOT NULL,
  events TEXT NOT NULL,  -- JSON array of type names, or ["*"]
  enabled INTEGER NOT NULL,
  xapi_version TEXT NOT NULL,
  token_sealed BLOB NOT NULL,
  secret_sealed BLOB NOT NULL,
  token_hint TEXT NOT NULL,
  max_in_flight INTEGER NOT NULL,
  batch_size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_success_at INTEGER NOT NULL DEFAULT 0,
  last_failure_at INTEGER NOT NULL DEFAULT 0,
  failing_since INTEGER NOT NULL DEFAULT 0,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  credentials_refused INTEGER NOT NULL DEFAULT 0,
  disabled_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX subscriptions_by_org ON subscriptions(org_id);

CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL CHECK (event_id <> ''),
  type TEXT NOT NULL CHECK (type <> ''),
  occurred_at INTEGER NOT NULL,
  accepted_at INTEGER NOT NULL,
  UNIQUE (org_id, event_id)
);
CREATE INDEX events_by_accepted ON events(org_id, accepted_at);

-- One body per event and format (0 webhook envelope, 1 xAPI statement),
-- shared by every delivery of that event in that format.
CREATE TABLE bodies (
  event_seq INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
  format INTEGER NOT NULL CHECK (format IN (0, 1)),
  body BLOB NOT NULL,
  PRIMARY KEY (event_seq, format)
);

-- Only state: the body comes from bodies via event_seq and the kind of the
-- subscription.
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  event_seq INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 5),
  attempt_count INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
CREATE INDEX deliveries_by_subscription ON deliveries(subscription_id, id);
CREATE INDEX deliveries_due_by_subscription ON deliveries(subscription_id, state, next_attempt_at);
CREATE INDEX deliveries_by_event ON deliveries(event_seq);

CREATE TABLE attempts (
  id INTEGER PRIMARY KEY,
  delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  status INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL,
  error TEXT NOT NULL,
  response BLOB NOT NULL
);
CREATE INDEX attempts_by_delivery ON attempts(delivery_id);
)sql",
    // 2: the due indexes keep only waiting deliveries (pending 0, retrying 2),
    // so a claim only deletes entries and a delivered outcome touches none.
    // In-flight, held and dead deliveries (1, 3, 5) get an index of their own
    // for the per-subscription counts, the reset after a crash and the moves
    // on enable; delivered ones, the bulk of the table, are in neither.
    // Conditions are written as ORs: SQLite tests an IN list of more than two
    // constants through a temporary table on every write.
    R"sql(
DROP INDEX deliveries_due;
DROP INDEX deliveries_due_by_subscription;
CREATE INDEX deliveries_waiting ON deliveries(next_attempt_at) WHERE state = 0 OR state = 2;
CREATE INDEX deliveries_waiting_by_subscription
  ON deliveries(subscription_id, state, next_attempt_at) WHERE state = 0 OR state = 2;
CREATE INDEX deliveries_in_flight_held_dead
  ON deliveries(state, subscription_id) WHERE state = 1 OR state = 3 OR state = 5;
)sql",
    // A deleted subscription is marked (and disabled) at once, so it is gone
    // from the API; its deliveries are then deleted in slices, the row last.
    R"sql(
ALTER TABLE subscriptions ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;
)sql",
    // Enabling re-queues what died while the subscription was failing, in
    // slices: the window [requeue_since, requeue_until] of death times stays
    // in the row until the last slice, so a restart can go on.
    R"sql(
ALTER TABLE subscriptions ADD COLUMN requeue_since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN requeue_until INTEGER NOT NULL DEFAULT 0;
)sql",
    // 5: the next due time is found per subscription in
    // deliveries_waiting_by_subscription, so the index of all waiting
    // deliveries by due time goes: every delivery paid for it twice (an entry
    // on becoming due, a removal on its outcome) for a read after each claim.
    R"sql(
DROP INDEX deliveries_waiting;
)sql",
    // 6: the attempt that delivered a delivery is kept in its row (ok_at is
    // NULL until then) instead of as a row of attempts: the success of
    // nearly every delivery then costs its row's update alone. A retry by an
    // admin moves it to attempts first, so the slot is free again.
    R"sql(
ALTER TABLE deliveries ADD COLUMN ok_at INTEGER;
ALTER TABLE deliveries ADD COLUMN ok_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN ok_latency_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN ok_response BLOB NOT NULL DEFAULT x'';
)sql",
    // 7: held (3) is no longer written: a waiting delivery (pending 0,
    // retrying 2) of a disabled subscription reads as held, and claims skip
    // disabled subscriptions, so disabling and enabling move no rows. Only
    // retrying deliveries are made due at once by an enabling, in slices:
    // release_until is the enabling's time, kept until the last slice so a
    // restart can go on. Rows written held become pending, due no later than
    // when they were held.
    R"sql(
ALTER TABLE subscriptions ADD COLUMN release_until INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET state = 0, next_attempt_at = min(next_attempt_at, updated_at)
  WHERE state = 3;
)sql",
    // 8: the in-flight, held and dead deliveries' index also orders by
    // updated_at (a dead delivery's time of death), so an enabling's re-queue
    // reads the window [requeue_since, requeue_until] as a range instead of
    // reading every older dead delivery of the subscription in each slice
    // (145 ms a slice past 1,000,000 of them, 6-8 ms now). Rebuilding it
    // reads the whole table once: about a second per million deliveries.
    R"sql(
DROP INDEX deliveries_in_flight_held_dead;
CREATE INDEX deliveries_in_flight_held_dead
  ON deliveries(state, subscription_id, updated_at) WHERE state = 1 OR state = 3 OR state = 5;
)sql",
    // 9: an event's webhook body moves into its row (NULL: none), and its
    // xAPI statement into `statements`, keyed by the event's seq alone. Ingest
    // then writes an event and its webhook body as one row in one b-tree, and
    // a statement as one row in one more, instead of a row per body in the
    // two b-trees of `bodies` (its rowid table and its key); a claim reads
    // the webhook body from the event's row it reads anyway. A statement is
    // a row of its own, not a column: an event row with both (about 2.4 KB)
    // would fill a 4 KiB page alone, and a statement added later would grow
    // rows in place. deliveries_by_event goes too: it served only the foreign
    // key of an event's delete, and nothing deletes events. Whatever comes to
    // delete events (retention) must delete their deliveries first, or an
    // event's delete reads every delivery. Rewrites every event's row once.
    R"sql(
ALTER TABLE events ADD COLUMN webhook_body BLOB;
UPDATE events SET
  webhook_body = (SELECT body FROM bodies WHERE bodies.event_seq = events.seq AND format = 0);
CREATE TABLE statements (
  event_seq INTEGER PRIMARY KEY REFERENCES events(seq) ON DELETE CASCADE,
  body BLOB NOT NULL
);
INSERT INTO statements (event_seq, body) SELECT event_seq, body FROM bodies WHERE format = 1;
DROP TABLE bodies;
DROP INDEX deliveries_by_event;
)sql",
    // 10: ingest writes no delivery row for a webhook subscription. Its
    // deliveries of the events after rows_through (an event seq) have no
    // row yet: they get one, pending and due since the event's acceptance,
    // when the dispatcher or the API first needs them (deferred_rows.h), and
    // rows_through moves past those events. Every existing subscription has
    // the rows of every event stored so far.
    R"sql(
ALTER TABLE subscriptions ADD COLUMN rows_through INTEGER NOT NULL DEFAULT 0;
UPDATE subscriptions SET rows_through = (SELECT ifnull(max(seq), 0) FROM events);
)sql",
};

bool ReadUserVersion(Db& db, int* version, std::string* error) {
  Query q = db.Prepare("PRAGMA user_version");
  if (!q.Step()) {
    *error = "cannot read schema version: " + q.error();
    return false;
  }
  *version = static_cast<int>(q.Int(0));
  return true;
}

std::string NewerSchemaError(int version) {
  return "the database has schema version " + std::to_string(version) +
         " but this punt knows only up to " + std::to_string(LatestSchemaVersion()) +
         "; it was written by a newer punt: upgrade punt or use another data directory";
}

// One transaction: reads the version under the write lock (so concurrent
// openers cannot both apply a step) and applies the next step, if the
// database is older than `target`.
enum class StepResult { kApplied, kUpToDate, kFailed };

StepResult ApplyNextStep(Db& db, int target, bool* creating, std::string* error) {
  if (!db.Exec("BEGIN IMMEDIATE", error)) {
    *error = "cannot start a schema migration: " + *error;
    return StepResult::kFailed;
  }
  int version = 0;
  if (!ReadUserVersion(db, &version, error)) {
    db.Exec("ROLLBACK", nullptr);
    return StepResult::kFailed;
  }
  if (version >= target) {
    db.Exec("ROLLBACK", nullptr);
    if (version <= LatestSchemaVersion()) return StepResult::kUpToDate;
    *error = NewerSchemaError(version);
    return StepResult::kFailed;
  }
  int next = version + 1;
  std::string sql = std::string(kMigrations[next - 1]) +
                    "\nPRAGMA user_version = " + std::to_string(next) + ";\nCOMMIT;";
  // An existing database's upgrade can take a while (a step may rebuild an
  // index over every delivery): say what the start waits for. A new one's
  // steps, from version 0 on, run on empty tables and pass in silence.
  if (version == 0) *creating = true;
  const bool upgrade = !*creating;
  if (upgrade) LogInfo("upgrading the database schema", {{"from", version}, {"to", next}});
  const auto started = std::chrono::steady_clock::now();
  if (db.Exec(sql, error)) {
    if (upgrade) {
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
      LogInfo("database schema upgraded", {{"version", next}, {"took_ms", took.count()}});
    }
    return StepResult::kApplied;
  }
  if (db.InTransaction()) db.Exec("ROLLBACK", nullptr);
  *error = "schema migration " + std::to_string(next) + " failed: " + *error;
  return StepResult::kFailed;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

bool ConfigureConnection(Db& db, bool reader, std::string* error) {
  Query wal = db.Prepare("PRAGMA journal_mode = WAL");
  if (!wal.Step() || wal.Text(0) != "wal") {
    *error =
        "cannot switch the database to WAL mode" + (wal.ok() ? std::string() : ": " + wal.error());
    return false;
  }
  // The writer's commits do not fsync: its sync thread makes them durable
  // with one fdatasync of the WAL for many commits (store/sqlite/wal_sync.h).
  // Its automatic checkpoints come every kCheckpointPages WAL pages rather
  // than SQLite's 1,000: a page written again before the checkpoint is copied
  // once (the last leaf pages of growing indexes; with event ids in random
  // order, as UUIDs are, the leaf pages of the (org, id) index each insert
  // lands on), and the checkpoint's fsync of the database comes a quarter as
  // often. The WAL grows to about 16 MB before it starts again from its
  // start. More pages save more, but the writer waits for each checkpoint:
  // at 10,000 its database fsync took up to 24 ms (4,000: 11 ms; 1,000: 5).
  std::string sql = reader ? "PRAGMA synchronous = FULL; PRAGMA query_only = ON;"
                           : "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = " +
                                 std::to_string(kCheckpointPages) + ";";
  sql += " PRAGMA foreign_keys = ON;";
  if (!db.Exec(sql, error)) {
    *error = "cannot configure the database: " + *error;
    return false;
  }
  return true;
}

bool Migrate(Db& db, int* applied, std::string* error) {
  return MigrateTo(db, LatestSchemaVersion(), applied, error);
}

bool MigrateTo(Db& db, int version, int* applied, std::string* error) {
  *applied = 0;
  int target = std::min(version, LatestSchemaVersion());
  bool creating = false;
  for (;;) {
    switch (ApplyNextStep(db, target, &creating, error)) {
      case StepResult::kApplied:
        ++*applied;
        break;
      case StepResult::kUpToDate:
        return true;
      case StepResult::kFailed:
        return false;
    }
  }
}

}  // namespace punt::store::sqlite
