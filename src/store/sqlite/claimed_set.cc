#include "store/sqlite/claimed_set.h"

#include <utility>

namespace punt::store::sqlite {

void ClaimedSet::Add(int64_t delivery_id, const std::string& subscription_id) {
  std::lock_guard lock(mu_);
  subscription_of_.emplace(delivery_id, subscription_id);
}

bool ClaimedSet::Remove(int64_t delivery_id, std::string_view subscription_id) {
  std::lock_guard lock(mu_);
  auto it = subscription_of_.find(delivery_id);
  if (it == subscription_of_.end()) return false;
  if (!subscription_id.empty() && it->second != subscription_id) return false;
  subscription_of_.erase(it);
  return true;
}

void ClaimedSet::Forget(const std::string& subscription_id) {
  std::lock_guard lock(mu_);
  std::erase_if(subscription_of_,
                [&](const auto& entry) { return entry.second == subscription_id; });
}

bool ClaimedSet::Contains(int64_t delivery_id) const {
  std::lock_guard lock(mu_);
  return subscription_of_.count(delivery_id) > 0;
}

ClaimedIds::ClaimedIds(std::vector<int64_t> ids) : ids_(std::move(ids)) {
  std::sort(ids_.begin(), ids_.end());
}

ClaimedIds ClaimedSet::Snapshot() const {
  std::vector<int64_t> ids;
  std::lock_guard lock(mu_);
  ids.reserve(subscription_of_.size());
  for (const auto& entry : subscription_of_) ids.push_back(entry.first);
  return ClaimedIds(std::move(ids));
}

size_t ClaimedSet::Clear() {
  std::lock_guard lock(mu_);
  size_t n = subscription_of_.size();
  subscription_of_.clear();
  return n;
}

std::string ClaimedSet::JsonOf(const std::string& subscription_id) const {
  std::string json = "[";
  std::lock_guard lock(mu_);
  for (const auto& [id, sub] : subscription_of_) {
    if (sub != subscription_id) continue;
    if (json.size() > 1) json += ',';
    json += std::to_string(id);
  }
  return json + "]";
}

}  // namespace punt::store::sqlite
