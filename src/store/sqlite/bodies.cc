#include "store/sqlite/bodies.h"

#include <utility>
#include <vector>

#include "store/sqlite/rows.h"

namespace punt::store::sqlite {

Status StoreStatement(Db& db, int64_t seq, std::string_view statement) {
  Query q = db.Prepare("INSERT INTO statements (event_seq, body) VALUES (?1, ?2)");
  q.BindInt(1, seq).BindBlobNoCopy(2, statement);  // `statement` outlives `q`
  return q.Run() ? Status::Ok() : QueryStatus(q, "cannot store statement");
}

Status MissingStatements::Add(int64_t seq, std::string_view type, std::string_view webhook_body,
                              bool* stored) {
  *stored = false;
  if (!builder_) return Status::Ok();
  if (!org_) {
    static const std::string kSql =
        "SELECT " + std::string(kOrgColumns) + " FROM orgs WHERE id = ?1";
    Query q = db_.Prepare(kSql);
    if (!q.BindText(1, org_id_).Step()) {
      return q.ok() ? Status::NotFound("no organisation " + org_id_)
                    : QueryStatus(q, "cannot read organisation");
    }
    org_ = ReadOrg(q);
  }
  std::string statement = builder_(*org_, type, webhook_body);
  if (statement.empty()) return Status::Ok();
  Status status = StoreStatement(db_, seq, statement);
  *stored = status.ok();
  return status;
}

Status AddMissingStatements(Db& db, const std::string& org_id, const std::string& sub_id,
                            Millis from_at, int64_t from_seq, Millis end_at, int64_t end_seq,
                            const StatementBuilder& builder) {
  struct Missing {
    int64_t seq;
    std::string type;
    std::string webhook_body;
  };
  std::vector<Missing> missing;
  {
    Query q = db.Prepare(
        "SELECT e.seq, e.type, e.webhook_body FROM subscriptions s "
        "JOIN events e ON e.org_id = s.org_id "
        "AND (e.accepted_at, e.seq) > (?3, ?4) AND (e.accepted_at, e.seq) < (?5, ?6) "
        "WHERE s.id = ?1 AND s.org_id = ?2 "
        "AND e.webhook_body IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM statements x WHERE x.event_seq = e.seq) "
        "AND EXISTS (SELECT 1 FROM json_each(s.events) j WHERE j.value IN ('*', e.type))");
    q.BindText(1, sub_id)
        .BindText(2, org_id)
        .BindInt(3, from_at)
        .BindInt(4, from_seq)
        .BindInt(5, end_at)
        .BindInt(6, end_seq);
    while (q.Step()) missing.push_back({q.Int(0), q.Text(1), q.Blob(2)});
    if (!q.ok()) return QueryStatus(q, "cannot read the events to replay");
  }
  MissingStatements statements(db, org_id, builder);
  for (const Missing& event : missing) {
    bool stored = false;
    Status status = statements.Add(event.seq, event.type, event.webhook_body, &stored);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace punt::store::sqlite
