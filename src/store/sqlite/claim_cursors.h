// Where each subscription's claims of pending deliveries got to. A claimed
// delivery's row still says pending (claimed_set.h), so a claim that read
// the subscription's due deliveries from the start would step over every
// delivery claimed before it; with a cursor it seeks past them.
//
// Pending deliveries are claimed in (next_attempt_at, id) order. New ones
// come after every cursor: ingest and replay write new ids at the current
// time. A delivery can land behind a cursor in three ways, each handled:
// - moved into pending with an old id (an enable, a re-queue of dead
//   deliveries, a retry by an admin): the move notes its time once it has
//   committed, and the next claim drops the subscription's cursor if it is
//   not before that time;
// - written while the clock stood earlier than before: a claim at an
//   earlier time than the one that set the cursor drops it;
// - any way not foreseen: a cursor lives at most kFullScanEvery after the
//   claim that read from the start, so such a delivery waits that long at
//   most.
// Without a cursor a claim reads from the start, as it always did.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "util/clock.h"

namespace punt::store::sqlite {

class ClaimCursors {
 public:
  static constexpr Millis kFullScanEvery = 1000;

  struct Position {
    Millis next_attempt_at = 0;
    int64_t id = 0;
  };

  // Deliveries of `sub_id` with old ids became pending, due at `at` or
  // later. Call after the move has committed.
  void NoteMoved(const std::string& sub_id, Millis at);
  // Forgets every cursor (and note).
  void Clear();

  // At the start of a claim at `now`, before its read snapshot: drops the
  // cursors the moves noted since the last claim may be behind, and those
  // expired.
  void BeginClaim(Millis now);
  // The cursor a claim at `now` may seek from, if it has a usable one.
  std::optional<Position> Get(const std::string& sub_id, Millis now);
  // The claim at `now` took pending deliveries up to `last`; `continued`
  // when it sought from the cursor Get gave.
  void Set(const std::string& sub_id, Position last, Millis now, bool continued);
  // The subscription has no pending delivery left beyond what was claimed:
  // its next claim reads from the start.
  void Drop(const std::string& sub_id);

 private:
  struct Cursor {
    Position last;
    Millis full_scan_at = 0;  // when the claim that read from the start ran
    Millis set_at = 0;        // the time of the claim that set it
  };
  std::mutex mu_;
  std::unordered_map<std::string, Cursor> cursors_;  // protected by mu_
  std::unordered_map<std::string, Millis> moved_;    // earliest move per subscription; mu_
};

}  // namespace punt::store::sqlite
