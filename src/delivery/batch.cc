#include "delivery/batch.h"

#include <iterator>
#include <unordered_set>

namespace punt::delivery {

std::vector<Batch> FormBatches(std::vector<store::DueDelivery> due, const BatchLimits& limits) {
  std::vector<Batch> batches;
  const size_t max_count = std::max<size_t>(limits.max_count, 1);
  while (!due.empty()) {
    Batch batch;
    std::vector<store::DueDelivery> later;  // for a following batch
    std::unordered_set<std::string> ids;
    size_t bytes = 2;  // "[" and "]"
    for (auto& d : due) {
      size_t grown = bytes + d.body.size() + (batch.empty() ? 0 : 1);
      bool fits = batch.empty() || (batch.size() < max_count && grown < limits.max_bytes);
      if (fits && ids.insert(d.event_id).second) {
        bytes = grown;
        batch.push_back(std::move(d));
      } else {
        later.push_back(std::move(d));
      }
    }
    batches.push_back(std::move(batch));
    due = std::move(later);
  }
  return batches;
}

std::string BatchBody(const Batch& batch) {
  if (batch.size() == 1) return batch.front().body;
  size_t size = 2;
  for (const auto& d : batch) size += d.body.size() + 1;
  std::string body;
  body.reserve(size);
  body += '[';
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) body += ',';
    body += batch[i].body;
  }
  body += ']';
  return body;
}

std::pair<Batch, Batch> SplitBatch(Batch batch) {
  auto middle = batch.begin() + static_cast<std::ptrdiff_t>(batch.size() / 2);
  Batch second(std::make_move_iterator(middle), std::make_move_iterator(batch.end()));
  batch.erase(middle, batch.end());
  return {std::move(batch), std::move(second)};
}

}  // namespace punt::delivery
