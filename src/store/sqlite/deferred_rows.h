// Webhook deliveries whose rows are written when first needed. Ingest
// writes no delivery row for a webhook subscription (schema step 10): its
// deliveries of the events after its rows_through have none yet. The
// dispatcher's claims and the API's reads of the subscription's deliveries
// write them first, a slice of events at a time, each row as ingest wrote
// it before (pending, created and updated at the event's acceptance, due
// then), in the order of the events, with the filter in force;
// rows_through then moves past those events. An ingest commit so writes
// the events alone, and a backlog that no one sends or reads costs no
// delivery rows.
//
// An organisation's events after rows_through are found in
// events_by_accepted: ingest keeps accepted_at from going backwards, so
// every event after a seq has an accepted_at no earlier than that seq's.
#pragma once

#include <cstdint>
#include <string>

#include "store/sqlite/db.h"
#include "store/store.h"
#include "util/clock.h"

namespace punt::store::sqlite {

struct DeferredSlice {
  bool found = false;    // a webhook subscription, not deleted (of the organisation asked)
  bool enabled = false;  // ... and enabled
  int64_t written = 0;   // rows written
  Millis due_from = 0;   // no later than the earliest due time written
  bool more = false;     // events may be left after the slice
};

// Writes the rows of the subscription's deliveries of up to `slice` events
// after its rows_through (those its filter takes), due at the event's
// acceptance or `now` if earlier (the clock stepped back), and moves
// rows_through past them. Writes nothing for a subscription that is not a
// webhook one, is deleted, is not `org_id`'s (unless that is empty), or,
// with `enabled_only`, is disabled.
Status WriteDeferredRows(Db& db, const std::string& sub_id, const std::string& org_id, int slice,
                         bool enabled_only, Millis now, DeferredSlice* out);

// Whether the subscription (of `org_id`, unless that is empty) is a webhook
// one with events after its rows_through, on any connection: a read, so a
// reader can tell there is nothing to write without asking the writer.
Status HasDeferred(Db& db, const std::string& sub_id, const std::string& org_id, bool* any);

// How many deliveries of the subscription have no row yet (0 for one that
// is not a webhook subscription), on any connection.
Status CountDeferred(Db& db, const std::string& sub_id, int64_t* count);

// The accepted_at of the newest event, from which ingest goes on (0 when
// there is none).
Status NewestAcceptedAt(Db& db, Millis* at);

}  // namespace punt::store::sqlite
