// Baseline for batched ingest: a bare SQLite program writing the rows punt
// writes for each ingested event (store/sqlite/sqlite_ingest.cc): one events
// row holding its webhook body, with --statements learning a statements row
// for a learning event's xAPI statement (which punt stores only while the
// organisation has an xAPI subscription), and one deliveries row
// for the one (webhook) subscription. --delivery-state held makes that
// subscription disabled; its rows are written pending all the same, as punt
// writes them (held is read from the subscription: schema step 7).
// Same schema (punt's migration), WAL, synchronous=FULL, one transaction per
// --per-txn events, one thread, prepared statements.
//
//   bench_sqlite_ingest --db PATH [--events 200000] [--per-txn 100]
//       [--types lesson.completed,...] [--webhook-bytes 1024] [--statement-bytes 1500]
//       [--delivery-state held|pending] [--synchronous FULL] [--statements learning|none]
//       [--ids sequential|random]
//
// Event ids as bench/lib/wrk.lua makes them: sequential ("bench-1-N", each after
// the last in the (org, id) index) or random (16 random hex digits first).
// Prints: events=N transactions=T seconds=S rate=R (events per second).
#include <chrono>
#include <cstdio>
#include <random>

#include "catalog/catalog.h"
#include "sqlite_common.h"
#include "store/model.h"

namespace {

using punt::store::DeliveryState;

struct EventKind {
  std::string type;
  bool learning = false;
};

std::vector<EventKind> Kinds(const std::string& list) {
  std::vector<EventKind> kinds;
  for (const std::string& name : bench::SplitList(list)) {
    const punt::catalog::EventType* type = punt::catalog::FindEventType(name);
    if (!type) bench::Die("unknown event type " + name);
    kinds.push_back({name, type->family == punt::catalog::Family::kLearning});
  }
  if (kinds.empty()) bench::Die("--types is empty");
  return kinds;
}

std::string EventId(bool random, std::mt19937_64& bits, int64_t n) {
  std::string id = "bench-1-" + std::to_string(n);
  if (!random) return id;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits()));
  return std::string(hex) + "-" + id;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags flags(argc, argv);
  const std::string path = flags.Get("db", "");
  if (path.empty()) bench::Die("--db PATH is required");
  const int64_t events = flags.Int("events", 200000);
  const int64_t per_txn = flags.Int("per-txn", 100);
  const auto kinds = Kinds(flags.Get(
      "types", "lesson.completed,lesson.liked,lesson.disliked,lesson.viewed,section.viewed,"
               "question.answered,question.skipped,training_session.attended,term.searched"));
  const auto webhook_bytes = static_cast<size_t>(flags.Int("webhook-bytes", 1024));
  const auto statement_bytes = static_cast<size_t>(flags.Int("statement-bytes", 1500));
  const std::string statements = flags.Get("statements", "learning");
  if (statements != "learning" && statements != "none") {
    bench::Die("--statements must be learning or none");
  }
  const std::string ids = flags.Get("ids", "sequential");
  if (ids != "sequential" && ids != "random") bench::Die("--ids must be sequential or random");
  std::mt19937_64 random_bits(std::random_device{}());
  const std::string delivery_state = flags.Get("delivery-state", "held");
  if (delivery_state != "held" && delivery_state != "pending") {
    bench::Die("--delivery-state must be held or pending");
  }
  const DeliveryState state = DeliveryState::kPending;  // the row; held or not, as punt
  if (events < 1 || per_txn < 1) bench::Die("--events and --per-txn must be positive");

  sqlite3* db = bench::OpenFresh(path, flags.Get("synchronous", "FULL"));
  bench::Tenant tenant;
  bench::SeedTenant(db, tenant, "webhook", /*enabled=*/delivery_state == "pending");

  // Bodies are made before the clock starts: the program measures writing.
  std::vector<std::string> webhook_bodies, statement_bodies;
  for (int i = 0; i < 64; ++i) {
    webhook_bodies.push_back(bench::Body(webhook_bytes, i));
    statement_bodies.push_back(bench::Body(statement_bytes, i));
  }

  bench::Stmt insert_event(db,
                           "INSERT INTO events (org_id, event_id, type, occurred_at, accepted_at, "
                           "webhook_body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  bench::Stmt insert_statement(db, "INSERT INTO statements (event_seq, body) VALUES (?1, ?2)");
  bench::Stmt insert_delivery(
      db,
      "INSERT INTO deliveries (subscription_id, event_seq, state, attempt_count, "
      "next_attempt_at, created_at, updated_at) VALUES (?1, ?2, ?3, 0, ?4, ?4, ?4)");

  const auto begin = std::chrono::steady_clock::now();
  int64_t written = 0, transactions = 0;
  while (written < events) {
    bench::Exec(db, "BEGIN IMMEDIATE");
    const int64_t now = bench::NowMs();
    for (int64_t i = 0; i < per_txn && written < events; ++i, ++written) {
      const EventKind& kind = kinds[written % kinds.size()];
      insert_event.Text(1, tenant.org_id)
          .Text(2, EventId(ids == "random", random_bits, written))
          .Text(3, kind.type)
          .Int(4, now - 1000)
          .Int(5, now)
          .Blob(6, webhook_bodies[written % webhook_bodies.size()])
          .Run();
      const int64_t seq = sqlite3_last_insert_rowid(db);
      if (kind.learning && statements == "learning") {
        insert_statement.Int(1, seq)
            .Blob(2, statement_bodies[written % statement_bodies.size()])
            .Run();
      }
      insert_delivery.Text(1, tenant.sub_id).Int(2, seq).Int(3, static_cast<int>(state))
          .Int(4, now).Run();
    }
    bench::Exec(db, "COMMIT");
    ++transactions;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  sqlite3_close_v2(db);
  std::printf("events=%lld transactions=%lld seconds=%.3f rate=%.1f\n",
              static_cast<long long>(written), static_cast<long long>(transactions), seconds,
              written / seconds);
  return 0;
}
