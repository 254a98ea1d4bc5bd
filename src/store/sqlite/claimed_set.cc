#include "store/sqlite/claimed_set.h"

#include <algorithm>

namespace punt::store::sqlite {
namespace {

std::string JsonArray(const std::vector<int64_t>& ids) {
  std::string json = "[";
  for (int64_t id : ids) {
    if (json.size() > 1) json += ',';
    json += std::to_string(id);
  }
  return json + "]";
}

}  // namespace

void ClaimedSet::Add(int64_t delivery_id, const std::string& subscription_id) {
  std::lock_guard lock(mu_);
  if (subscription_of_.emplace(delivery_id, subscription_id).second) ++count_[subscription_id];
}

bool ClaimedSet::Remove(int64_t delivery_id) {
  std::lock_guard lock(mu_);
  auto it = subscription_of_.find(delivery_id);
  if (it == subscription_of_.end()) return false;
  auto count = count_.find(it->second);
  if (count != count_.end() && --count->second == 0) count_.erase(count);
  subscription_of_.erase(it);
  return true;
}

bool ClaimedSet::Contains(int64_t delivery_id) const {
  std::lock_guard lock(mu_);
  return subscription_of_.count(delivery_id) > 0;
}

std::unordered_set<int64_t> ClaimedSet::Snapshot() const {
  std::lock_guard lock(mu_);
  std::unordered_set<int64_t> ids;
  ids.reserve(subscription_of_.size());
  for (const auto& entry : subscription_of_) ids.insert(entry.first);
  return ids;
}

std::vector<int64_t> ClaimedSet::Of(const std::string& subscription_id) const {
  std::vector<int64_t> ids;
  {
    std::lock_guard lock(mu_);
    if (!count_.count(subscription_id)) return ids;
    for (const auto& [id, sub] : subscription_of_) {
      if (sub == subscription_id) ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

size_t ClaimedSet::CountOf(const std::string& subscription_id) const {
  std::lock_guard lock(mu_);
  auto it = count_.find(subscription_id);
  return it == count_.end() ? 0 : it->second;
}

size_t ClaimedSet::Clear() {
  std::lock_guard lock(mu_);
  size_t n = subscription_of_.size();
  subscription_of_.clear();
  count_.clear();
  return n;
}

std::string ClaimedSet::JsonOf(const std::string& subscription_id) const {
  return JsonArray(Of(subscription_id));
}

}  // namespace punt::store::sqlite
