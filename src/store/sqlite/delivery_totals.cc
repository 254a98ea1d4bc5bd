#include "store/sqlite/delivery_totals.h"

namespace punt::store::sqlite {

DeliveryTotals::Kept DeliveryTotals::Get(const std::string& subscription_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(subscription_id);
  return it == entries_.end() ? Kept{} : it->second;
}

void DeliveryTotals::Set(const std::string& subscription_id, Millis created_at, Mark mark) {
  std::lock_guard lock(mu_);
  auto [it, added] = entries_.try_emplace(subscription_id, Kept{created_at, mark});
  if (added) return;
  Kept& entry = it->second;
  if (entry.created_at != created_at || entry.mark.up_to_id < mark.up_to_id) {
    entry = Kept{created_at, mark};
  }
}

void DeliveryTotals::Forget(const std::string& subscription_id) {
  std::lock_guard lock(mu_);
  entries_.erase(subscription_id);
}

}  // namespace punt::store::sqlite
