// Ingest: events, their bodies and their fan-out, as one job per request.
#include <algorithm>
#include <memory>
#include <unordered_map>
#include <utility>

#include "store/sqlite/bodies.h"
#include "store/sqlite/deferred_rows.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace punt::store::sqlite {
namespace {

using SubscriptionsByOrg = std::unordered_map<std::string, std::vector<Subscription>>;

// The events' accepted_at, which never goes backwards (deferred_rows.h), and
// the clock's time, at which their deliveries written now are due.
struct IngestTimes {
  Millis accepted_at = 0;
  Millis clock = 0;
};

// The organisation's subscriptions as ingest needs them (kept by the store
// in ingest_subscriptions_ until one changes). Only the fields Matches and
// the fan-out read are filled.
Status LoadSubscriptions(Db& db, const std::string& org_id, std::vector<Subscription>* subs) {
  Query org = db.Prepare("SELECT 1 FROM orgs WHERE id = ?1");
  if (!org.BindText(1, org_id).Step()) {
    return org.ok() ? Status::NotFound("no organisation " + org_id)
                    : QueryStatus(org, "cannot read organisation");
  }
  Query q = db.Prepare(
      "SELECT id, kind, events, enabled FROM subscriptions WHERE org_id = ?1 AND deleted_at = 0");
  q.BindText(1, org_id);
  while (q.Step()) {
    Subscription sub;
    sub.id = q.Text(0);
    sub.kind = ParseKind(q.Text(1)).value_or(SubscriptionKind::kWebhook);
    sub.events = DecodeEventTypes(q.Text(2));
    sub.enabled = q.Int(3) != 0;
    subs->push_back(std::move(sub));
  }
  return q.ok() ? Status::Ok() : QueryStatus(q, "cannot read subscriptions");
}

// Inserts the event with its webhook body. *seq is 0 when the organisation
// already has its id.
Status InsertEvent(Db& db, const std::string& org_id, const NewEvent& event, Millis now,
                   int64_t* seq) {
  // ON CONFLICT names the one constraint a duplicate breaks; INSERT OR IGNORE
  // would also swallow CHECK and NOT NULL failures.
  Query q = db.Prepare(
      "INSERT INTO events (org_id, event_id, type, occurred_at, accepted_at, webhook_body) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (org_id, event_id) DO NOTHING");
  // Bound without copies: `event` and `org_id` outlive `q`.
  q.BindTextNoCopy(1, org_id)
      .BindTextNoCopy(2, event.event_id)
      .BindTextNoCopy(3, event.type)
      .BindInt(4, event.occurred_at)
      .BindInt(5, now)
      .BindBlobNoCopy(6, event.webhook_body);
  if (!q.Run()) return QueryStatus(q, "cannot store event '" + event.event_id + "'");
  *seq = db.Changes() > 0 ? db.LastInsertRowid() : 0;
  return Status::Ok();
}

// Pending, due now; held while the subscription is disabled, which is read,
// not written (schema step 7).
Status InsertDelivery(Db& db, const Subscription& sub, int64_t seq, Millis now) {
  Query q = db.Prepare(
      "INSERT INTO deliveries (subscription_id, event_seq, state, attempt_count, "
      "next_attempt_at, created_at, updated_at) VALUES (?1, ?2, 0, 0, ?3, ?3, ?3)");
  q.BindTextNoCopy(1, sub.id).BindInt(2, seq).BindInt(3, now);  // `sub` outlives `q`
  return q.Run() ? Status::Ok() : QueryStatus(q, "cannot store delivery");
}

// An event that came without its statement gets one if an xAPI
// subscription takes a delivery of it. A webhook subscription's delivery
// gets its row later (deferred_rows.h): deferred[i] is set for subs[i].
Status StoreEvent(Db& db, const std::string& org_id, const NewEvent& event,
                  const std::vector<Subscription>& subs, const IngestTimes& now,
                  MissingStatements& missing, IngestResult* result, bool* made_due,
                  std::vector<char>& deferred) {
  int64_t seq = 0;
  Status status = InsertEvent(db, org_id, event, now.accepted_at, &seq);
  if (!status.ok()) return status;
  if (seq == 0) {
    ++result->duplicates;
    return Status::Ok();
  }
  ++result->stored;
  if (event.learning && !event.statement_body.empty()) {
    status = StoreStatement(db, seq, event.statement_body);
  } else if (event.learning) {
    if (std::any_of(subs.begin(), subs.end(), [&](const Subscription& sub) {
          return sub.kind == SubscriptionKind::kXapi && Matches(sub, event.type, true);
        })) {
      bool stored = false;
      status = missing.Add(seq, event.type, event.webhook_body, &stored);
      if (status.ok() && !stored) {
        status = Status::Failed("no statement could be built for event '" + event.event_id + "'");
      }
    }
  }
  for (size_t i = 0; i < subs.size() && status.ok(); ++i) {
    const Subscription& sub = subs[i];
    if (!Matches(sub, event.type, event.learning)) continue;
    ++result->deliveries;
    *made_due = *made_due || sub.enabled;
    if (sub.kind == SubscriptionKind::kWebhook) {
      deferred[i] = 1;
    } else {
      status = InsertDelivery(db, sub, seq, now.clock);
    }
  }
  return status;
}

// *deferred: the enabled webhook subscriptions with deliveries whose rows
// wait (deferred_rows.h).
Status IngestBatch(Db& db, const std::string& org_id, const std::vector<NewEvent>& events,
                   const IngestTimes& now, SubscriptionsByOrg& cache,
                   const StatementBuilder& builder, IngestResult* result, bool* made_due,
                   std::vector<std::string>* deferred) {
  Status status = Status::Ok();
  auto cached = cache.find(org_id);
  if (cached == cache.end()) {
    std::vector<Subscription> loaded;
    status = LoadSubscriptions(db, org_id, &loaded);
    if (!status.ok()) return status;
    cached = cache.emplace(org_id, std::move(loaded)).first;
  }
  const std::vector<Subscription>& subs = cached->second;
  MissingStatements missing(db, org_id, builder);
  std::vector<char> waiting(subs.size(), 0);
  for (const NewEvent& event : events) {
    if (!status.ok()) break;
    status = StoreEvent(db, org_id, event, subs, now, missing, result, made_due, waiting);
  }
  // A disabled one is marked when it is enabled.
  for (size_t i = 0; i < subs.size(); ++i) {
    if (waiting[i] && subs[i].enabled) deferred->push_back(subs[i].id);
  }
  return status;
}

}  // namespace

void SqliteStore::Ingest(const std::string& org_id, std::vector<NewEvent> events,
                         IngestCallback done) {
  auto result = std::make_shared<IngestResult>();
  WriteJob job;
  job.run = [this, org_id, events = std::move(events), result](Db& db, bool* made_due) {
    *result = IngestResult{};
    // accepted_at never goes backwards, even when the clock does
    // (deferred_rows.h reads the events in that order).
    if (last_accepted_at_ < 0) {
      Status status = NewestAcceptedAt(db, &last_accepted_at_);
      if (!status.ok()) {
        last_accepted_at_ = -1;
        return status;
      }
    }
    const Millis now = clock_.Now();
    last_accepted_at_ = std::max(now, last_accepted_at_);
    std::vector<std::string> deferred;
    Status status = IngestBatch(db, org_id, events, {last_accepted_at_, now}, ingest_subscriptions_,
                                statement_builder_, result.get(), made_due, &deferred);
    // Marked even if this job is rolled back: a catch-up with nothing to do
    // costs a read.
    if (status.ok()) MarkBehind(deferred);
    return status;
  };
  job.finish = [result, done = std::move(done)](const Status& status) {
    if (status.ok()) {
      result->ok = true;
    } else {
      *result = IngestResult{};
      result->error = status.message;
    }
    if (done) done(*result);
  };
  writer_.Submit(std::move(job));
}

}  // namespace punt::store::sqlite
