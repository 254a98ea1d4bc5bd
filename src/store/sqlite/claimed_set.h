// The deliveries the dispatcher holds: claimed by ClaimDue and not yet
// recorded. The SQLite store keeps its claims here, in memory, instead of
// writing each delivery's row as in_flight: one process claims, so a claim
// needs no lease, and a crash forgets the claims with the requests, leaving
// their rows waiting, as ResetInFlight would. Reads show a claimed delivery
// as in_flight whatever its row says.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/model.h"

namespace punt::store::sqlite {

// The claimed ids at one moment, sorted: one allocation to copy, and a
// binary search to ask.
class ClaimedIds {
 public:
  ClaimedIds() = default;
  explicit ClaimedIds(std::vector<int64_t> ids);  // sorts them
  bool Contains(int64_t id) const { return std::binary_search(ids_.begin(), ids_.end(), id); }
  size_t size() const { return ids_.size(); }

 private:
  std::vector<int64_t> ids_;
};

class ClaimedSet {
 public:
  void Add(int64_t delivery_id, const std::string& subscription_id);
  // False when it was not claimed (already removed), or claimed for another
  // subscription than `subscription_id` (if not empty): a delivery id can
  // come again once a deleted subscription's rows are gone.
  bool Remove(int64_t delivery_id, std::string_view subscription_id = {});
  // Forgets the claims of a subscription just deleted: its requests still
  // open record nothing (their rows are gone, or the id is another's), and
  // the ids may come again for another subscription's new deliveries.
  void Forget(const std::string& subscription_id);
  bool Contains(int64_t delivery_id) const;
  // Every claimed id, at one moment.
  ClaimedIds Snapshot() const;
  // Forgets every claim; returns how many there were.
  size_t Clear();

  // What a read shows: in_flight for a claimed delivery whose row still
  // waits (pending or retrying; read as held if its subscription was
  // disabled while its request was open); the state as read otherwise.
  static bool ShowsInFlight(DeliveryState row_state) {
    return row_state == DeliveryState::kPending || row_state == DeliveryState::kRetrying ||
           row_state == DeliveryState::kHeld;
  }
  // The subscription's claimed ids as a JSON array, for SQL's json_each;
  // kNone when it has none.
  static constexpr std::string_view kNone = "[]";
  std::string JsonOf(const std::string& subscription_id) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<int64_t, std::string> subscription_of_;  // protected by mu_
};

}  // namespace punt::store::sqlite
