#include "store/sqlite/delivery_totals.h"

namespace punt::store::sqlite {

DeliveryTotals::Mark DeliveryTotals::Get(const std::string& subscription_id,
                                         Millis created_at) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(subscription_id);
  if (it == entries_.end() || it->second.created_at != created_at) return {};
  return it->second.mark;
}

void DeliveryTotals::Set(const std::string& subscription_id, Millis created_at, Mark mark) {
  std::lock_guard lock(mu_);
  auto [it, added] = entries_.try_emplace(subscription_id, Entry{created_at, mark});
  if (added) return;
  Entry& entry = it->second;
  if (entry.created_at != created_at || entry.mark.up_to_id < mark.up_to_id) {
    entry = Entry{created_at, mark};
  }
}

void DeliveryTotals::Forget(const std::string& subscription_id) {
  std::lock_guard lock(mu_);
  entries_.erase(subscription_id);
}

}  // namespace punt::store::sqlite
