#include "delivery/batch.h"

#include <algorithm>
#include <iterator>
#include <string_view>
#include <unordered_set>

namespace punt::delivery {

// Each batch takes, in order, what is not taken yet and fits; it stops once
// full. Deliveries stay where they are until taken, so a claim of n is
// formed in one pass over it (a batch that skips one, a repeated event id
// or a body too big to fit, leaves it for the next, which starts from the
// first one not taken).
std::vector<Batch> FormBatches(std::vector<store::DueDelivery> due, const BatchLimits& limits) {
  std::vector<Batch> batches;
  const size_t max_count = std::max<size_t>(limits.max_count, 1);
  std::vector<bool> taken(due.size(), false);
  // Views of the event ids in the batch being formed: it is reserved whole,
  // so its deliveries do not move while it grows.
  std::unordered_set<std::string_view> ids;
  size_t first = 0;  // the first not taken
  while (first < due.size()) {
    Batch batch;
    batch.reserve(std::min(max_count, due.size() - first));
    ids.clear();
    size_t bytes = 2;  // "[" and "]"
    for (size_t i = first; i < due.size() && batch.size() < max_count; ++i) {
      if (taken[i]) continue;
      store::DueDelivery& d = due[i];
      size_t grown = bytes + d.body.size() + (batch.empty() ? 0 : 1);
      bool fits = batch.empty() || grown < limits.max_bytes;
      if (!fits || ids.count(d.event_id)) continue;
      bytes = grown;
      taken[i] = true;
      batch.push_back(std::move(d));
      ids.insert(batch.back().event_id);
    }
    while (first < due.size() && taken[first]) ++first;
    batches.push_back(std::move(batch));
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
