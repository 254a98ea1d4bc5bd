#include "store/sqlite/claim_cursors.h"

#include <algorithm>

namespace punt::store::sqlite {

void ClaimCursors::NoteMoved(const std::string& sub_id, Millis at) {
  std::lock_guard lock(mu_);
  auto [it, added] = moved_.try_emplace(sub_id, at);
  if (!added) it->second = std::min(it->second, at);
}

void ClaimCursors::Clear() {
  std::lock_guard lock(mu_);
  cursors_.clear();
  moved_.clear();
}

void ClaimCursors::BeginClaim(Millis now) {
  std::lock_guard lock(mu_);
  // Expired ones go here too, so subscriptions no longer claimed (disabled,
  // deleted) leave nothing behind.
  std::erase_if(cursors_, [now](const auto& entry) {
    return now - entry.second.full_scan_at >= kFullScanEvery;
  });
  for (const auto& [sub_id, at] : moved_) {
    auto it = cursors_.find(sub_id);
    // A moved delivery sits at (at, an old id): behind the cursor unless the
    // cursor is at an earlier time.
    if (it != cursors_.end() && it->second.last.next_attempt_at >= at) cursors_.erase(it);
  }
  moved_.clear();
}

std::optional<ClaimCursors::Position> ClaimCursors::Get(const std::string& sub_id, Millis now) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(sub_id);
  if (it == cursors_.end()) return std::nullopt;
  const Cursor& cursor = it->second;
  if (now < cursor.set_at || now - cursor.full_scan_at >= kFullScanEvery) {
    cursors_.erase(it);
    return std::nullopt;
  }
  return cursor.last;
}

void ClaimCursors::Set(const std::string& sub_id, Position last, Millis now, bool continued) {
  std::lock_guard lock(mu_);
  auto [it, added] = cursors_.try_emplace(sub_id);
  Cursor& cursor = it->second;
  if (added || !continued) cursor.full_scan_at = now;
  cursor.last = last;
  cursor.set_at = now;
}

void ClaimCursors::Drop(const std::string& sub_id) {
  std::lock_guard lock(mu_);
  cursors_.erase(sub_id);
}

}  // namespace punt::store::sqlite
