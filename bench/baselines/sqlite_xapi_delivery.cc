// Baseline for xAPI delivery: a bare SQLite program making the state changes
// punt makes to deliver N deliveries in batches (store/sqlite/
// sqlite_deliveries.cc), with nothing sent over the network:
//   claim:  a read transaction: the batch's due deliveries, earliest first,
//           from punt's partial index deliveries_waiting_by_subscription
//           (the state written into the SQL, as punt does, so SQLite can
//           use it), with their event ids and statement bodies. Nothing is
//           written: punt keeps its claims in memory (ClaimedSet) and writes
//           no in_flight state;
//   record: one write transaction: set each to delivered (attempt_count + 1,
//           next_attempt_at, updated_at, and the delivering attempt in the
//           row's ok_ columns, schema step 6), and update the subscription's
//           health once.
// Same schema (punt's migration), WAL, and by default synchronous=NORMAL,
// which is what punt's writer uses for attempt records (they are not durable
// jobs: losing one only repeats a delivery).
//
//   bench_sqlite_xapi_delivery --db PATH [--deliveries 200000] [--batch 100]
//       [--statement-bytes 1500] [--webhook-bytes 1024] [--synchronous NORMAL]
//
// The backlog (events, bodies, pending deliveries) is written before the
// clock starts. Prints: deliveries=N batches=B seconds=S rate=R (per second).
#include <chrono>
#include <cstdio>

#include "sqlite_common.h"
#include "store/model.h"

namespace {

using punt::store::DeliveryState;

constexpr int64_t Value(DeliveryState state) { return static_cast<int64_t>(state); }

void WriteBacklog(sqlite3* db, const bench::Tenant& tenant, int64_t count, size_t webhook_bytes,
                  size_t statement_bytes) {
  bench::Stmt event(db,
                    "INSERT INTO events (org_id, event_id, type, occurred_at, accepted_at, "
                    "webhook_body) VALUES (?1, ?2, 'lesson.completed', ?3, ?3, ?4)");
  bench::Stmt statement(db, "INSERT INTO statements (event_seq, body) VALUES (?1, ?2)");
  bench::Stmt delivery(db,
                       "INSERT INTO deliveries (subscription_id, event_seq, state, "
                       "attempt_count, next_attempt_at, created_at, updated_at) "
                       "VALUES (?1, ?2, ?3, 0, ?4, ?4, ?4)");
  const int64_t now = bench::NowMs();
  bench::Exec(db, "BEGIN IMMEDIATE");
  for (int64_t i = 0; i < count; ++i) {
    event.Text(1, tenant.org_id)
        .Text(2, "bench-1-" + std::to_string(i))
        .Int(3, now)
        .Blob(4, bench::Body(webhook_bytes, i))
        .Run();
    int64_t seq = sqlite3_last_insert_rowid(db);
    statement.Int(1, seq).Blob(2, bench::Body(statement_bytes, i)).Run();
    delivery.Text(1, tenant.sub_id).Int(2, seq).Int(3, Value(DeliveryState::kPending))
        .Int(4, now).Run();
  }
  bench::Exec(db, "COMMIT");
  bench::Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

struct Claimed {
  int64_t id;
  std::string event_id;
  int64_t attempt_count;
  std::string body;
};

}  // namespace

int main(int argc, char** argv) {
  bench::Flags flags(argc, argv);
  const std::string path = flags.Get("db", "");
  if (path.empty()) bench::Die("--db PATH is required");
  const int64_t deliveries = flags.Int("deliveries", 200000);
  const int64_t batch = flags.Int("batch", 100);
  if (deliveries < 1 || batch < 1) bench::Die("--deliveries and --batch must be positive");

  sqlite3* db = bench::OpenFresh(path, flags.Get("synchronous", "NORMAL"));
  bench::Tenant tenant;
  bench::SeedTenant(db, tenant, "xapi", true);
  WriteBacklog(db, tenant, deliveries, static_cast<size_t>(flags.Int("webhook-bytes", 1024)),
               static_cast<size_t>(flags.Int("statement-bytes", 1500)));

  // Punt's claim: the due ids from the partial index alone, then the rows
  // and statements by id (FindDueSql and LoadDue in sqlite_deliveries.cc).
  static_assert(Value(DeliveryState::kPending) == 0);
  bench::Stmt find(db,
                   "SELECT id FROM deliveries WHERE subscription_id = ?1 AND state = 0 "
                   "AND next_attempt_at <= ?2 ORDER BY next_attempt_at, id LIMIT ?3");
  bench::Stmt load(db,
                   "SELECT e.event_id, d.attempt_count, st.body FROM deliveries d "
                   "JOIN events e ON e.seq = d.event_seq "
                   "JOIN statements st ON st.event_seq = d.event_seq WHERE d.id = ?1");
  bench::Stmt deliver(db,
                      "UPDATE deliveries SET state = ?2, attempt_count = attempt_count + 1, "
                      "next_attempt_at = ?3, updated_at = ?3, ok_at = ?3, ok_status = 204, "
                      "ok_latency_ms = 1, ok_response = x'' WHERE id = ?1");
  bench::Stmt health(db,
                     "UPDATE subscriptions SET last_success_at = ?2, failing_since = 0, "
                     "consecutive_failures = 0, credentials_refused = 0 WHERE id = ?1");

  const auto begin = std::chrono::steady_clock::now();
  int64_t delivered = 0, batches = 0;
  std::vector<Claimed> claimed;
  std::vector<int64_t> due;
  for (;;) {
    claimed.clear();
    due.clear();
    int64_t now = bench::NowMs();
    bench::Exec(db, "BEGIN");  // a read transaction: the claim writes nothing
    find.Text(1, tenant.sub_id).Int(2, now).Int(3, batch);
    while (find.Step()) due.push_back(find.ColumnInt(0));
    for (int64_t id : due) {
      load.Int(1, id);
      while (load.Step()) {
        claimed.push_back({id, std::string(load.ColumnBlob(0)), load.ColumnInt(1),
                           std::string(load.ColumnBlob(2))});
      }
    }
    bench::Exec(db, "COMMIT");
    if (claimed.empty()) break;

    now = bench::NowMs();
    bench::Exec(db, "BEGIN IMMEDIATE");
    for (const Claimed& c : claimed) {
      deliver.Int(1, c.id).Int(2, Value(DeliveryState::kDelivered)).Int(3, now).Run();
    }
    health.Text(1, tenant.sub_id).Int(2, now).Run();
    bench::Exec(db, "COMMIT");
    delivered += static_cast<int64_t>(claimed.size());
    ++batches;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  sqlite3_close_v2(db);
  if (delivered != deliveries) bench::Die("delivered " + std::to_string(delivered));
  std::printf("deliveries=%lld batches=%lld seconds=%.3f rate=%.1f\n",
              static_cast<long long>(delivered), static_cast<long long>(batches), seconds,
              delivered / seconds);
  return 0;
}
