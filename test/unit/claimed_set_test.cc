// The in-memory set of claimed deliveries (store/sqlite/claimed_set.h).
#include "store/sqlite/claimed_set.h"

#include <gtest/gtest.h>

namespace punt::store::sqlite {
namespace {

TEST(ClaimedSetTest, ASnapshotKeepsTheClaimsOfItsMoment) {
  ClaimedSet set;
  set.Add(42, "sub_a");
  set.Add(7, "sub_b");
  set.Add(1000, "sub_a");
  ClaimedIds before = set.Snapshot();
  set.Remove(7);
  set.Add(8, "sub_b");
  EXPECT_EQ(before.size(), 3u);
  EXPECT_TRUE(before.Contains(7));
  EXPECT_TRUE(before.Contains(42));
  EXPECT_TRUE(before.Contains(1000));
  EXPECT_FALSE(before.Contains(8));
  EXPECT_FALSE(before.Contains(0));

  ClaimedIds after = set.Snapshot();
  EXPECT_FALSE(after.Contains(7));
  EXPECT_TRUE(after.Contains(8));
  EXPECT_EQ(set.JsonOf("sub_a").size(), std::string("[42,1000]").size());  // either order
  EXPECT_EQ(set.Clear(), 3u);
  EXPECT_EQ(set.Snapshot().size(), 0u);
  EXPECT_FALSE(ClaimedIds().Contains(42));
}

// An id claimed for one subscription is not released in another's name, and
// a deleted subscription's claims go together.
TEST(ClaimedSetTest, RemovesOnlyInTheNameOfItsSubscriptionAndForgetsADeletedOne) {
  ClaimedSet set;
  set.Add(1, "sub_keep");
  set.Add(2, "sub_gone");
  set.Add(3, "sub_gone");
  EXPECT_FALSE(set.Remove(1, "sub_gone"));
  EXPECT_TRUE(set.Contains(1));
  set.Forget("sub_gone");
  EXPECT_FALSE(set.Contains(2));
  EXPECT_FALSE(set.Contains(3));
  EXPECT_FALSE(set.Remove(2, "sub_gone"));
  EXPECT_TRUE(set.Remove(1, "sub_keep"));
  set.Add(4, "sub_keep");
  EXPECT_TRUE(set.Remove(4));  // no name: whichever claimed it
  EXPECT_EQ(set.Snapshot().size(), 0u);
}

}  // namespace
}  // namespace punt::store::sqlite
