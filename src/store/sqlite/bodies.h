// An event's bodies (DESIGN.md section 4: a body is stored once per event and
// format): its webhook body is a column of its row, its xAPI statement a row
// of `statements` keyed by the event's seq; ingest writes both with the event.
// This also adds the statements ingest left out that an xAPI subscription
// turns out to need. Writer thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace punt::store::sqlite {

// Stores the statement of event `seq`, which has none yet.
Status StoreStatement(Db& db, int64_t seq, std::string_view statement);

// Builds and stores the statements of one organisation's events that were
// stored without one, loading the organisation on first use.
class MissingStatements {
 public:
  MissingStatements(Db& db, const std::string& org_id, const StatementBuilder& builder)
      : db_(db), org_id_(org_id), builder_(builder) {}

  // Stores the statement of event `seq`. *stored is false (and nothing is
  // stored) when events of its type have none, or no builder is set.
  Status Add(int64_t seq, std::string_view type, std::string_view webhook_body, bool* stored);

 private:
  Db& db_;
  const std::string& org_id_;
  const StatementBuilder& builder_;
  std::optional<Org> org_;
};

// Before a replay slice sends the events of (from_at, from_seq) ..
// (end_at, end_seq) to an xAPI subscription: builds the statements of those
// of its events that have none.
Status AddMissingStatements(Db& db, const std::string& org_id, const std::string& sub_id,
                            Millis from_at, int64_t from_seq, Millis end_at, int64_t end_seq,
                            const StatementBuilder& builder);

}  // namespace punt::store::sqlite
