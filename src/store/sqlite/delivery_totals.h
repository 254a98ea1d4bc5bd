// How many deliveries each subscription has, kept up to a delivery id, for
// CountDeliveries. Delivered deliveries, the bulk of a subscription's
// history, are in no state index (schema step 2), so counting from the start
// walks every one of them: about 50 ms a million. Delivery ids only grow (a
// new row's id is above every row still there), and a subscription's
// deliveries are deleted only with it, so a count up to an id stays true and
// the next count adds only the deliveries after it.
// Whatever deletes deliveries of a subscription that stays (retention, when
// it comes) must Forget it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "util/clock.h"

namespace punt::store::sqlite {

class DeliveryTotals {
 public:
  struct Mark {
    int64_t up_to_id = 0;  // every delivery with an id up to this one is counted
    int64_t total = 0;
  };

  // The mark kept for the subscription, and the creation time of the
  // subscription it was kept for, which tells it from an earlier one of the
  // same id ({0, {0, 0}} when there is none: count from the start). Read it
  // before the read snapshot the count adds to starts: a mark kept since by
  // a count with a newer snapshot would add deliveries this one cannot see.
  struct Kept {
    Millis created_at = 0;
    Mark mark;
  };
  Kept Get(const std::string& subscription_id) const;
  // Keeps the further of the mark held and this one.
  void Set(const std::string& subscription_id, Millis created_at, Mark mark);
  void Forget(const std::string& subscription_id);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, Kept> entries_;
};

}  // namespace punt::store::sqlite
