// Forming xAPI batches (DESIGN.md section 3, "Batching").
#include "delivery/batch.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace punt::delivery {
namespace {

store::DueDelivery Due(int64_t id, const std::string& event_id, size_t body_bytes = 0) {
  store::DueDelivery d;
  d.delivery_id = id;
  d.subscription_id = "sub_lrs";
  d.event_id = event_id;
  std::string body = R"({"id":")" + event_id + R"("})";
  if (body_bytes > body.size()) body.insert(1, std::string(body_bytes - body.size(), ' '));
  d.body = body;
  return d;
}

std::vector<int64_t> Ids(const Batch& batch) {
  std::vector<int64_t> ids;
  for (const auto& d : batch) ids.push_back(d.delivery_id);
  return ids;
}

TEST(FormBatches, TakesUpToTheCountInOrder) {
  std::vector<store::DueDelivery> due;
  for (int i = 1; i <= 7; ++i) due.push_back(Due(i, "e" + std::to_string(i)));
  std::vector<Batch> batches = FormBatches(due, {.max_count = 3});
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(Ids(batches[0]), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Ids(batches[1]), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(Ids(batches[2]), (std::vector<int64_t>{7}));
}

TEST(FormBatches, NeverHoldsOneEventIdTwice) {
  // A replayed event has a second delivery to the same subscription.
  std::vector<Batch> batches =
      FormBatches({Due(1, "a"), Due(2, "b"), Due(3, "a"), Due(4, "c"), Due(5, "a")}, {});
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(Ids(batches[0]), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(Ids(batches[1]), (std::vector<int64_t>{3}));
  EXPECT_EQ(Ids(batches[2]), (std::vector<int64_t>{5}));
}

TEST(FormBatches, KeepsEachBodyUnderTheByteLimitAndSendsAHugeStatementAlone) {
  // Three 400-byte statements: two make 2 + 400 + 1 + 400 = 803 bytes.
  std::vector<Batch> batches = FormBatches(
      {Due(1, "a", 400), Due(2, "b", 400), Due(3, "c", 400), Due(4, "huge", 5000)},
      {.max_count = 100, .max_bytes = 804});
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(Ids(batches[0]), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Ids(batches[1]), (std::vector<int64_t>{3}));
  EXPECT_EQ(Ids(batches[2]), (std::vector<int64_t>{4}));
  for (const auto& batch : batches) {
    if (batch.size() > 1) {
      EXPECT_LT(BatchBody(batch).size(), 804u);
    }
  }
}

// The rule, written the plain way: each batch scans all that is left, in
// order, and takes what fits and repeats no event id.
std::vector<std::vector<int64_t>> ReferenceBatches(const std::vector<store::DueDelivery>& due,
                                                   const BatchLimits& limits) {
  std::vector<std::vector<int64_t>> out;
  std::vector<store::DueDelivery> left = due;
  while (!left.empty()) {
    std::vector<int64_t> batch;
    std::vector<store::DueDelivery> later;
    std::set<std::string> ids;
    size_t bytes = 2;
    for (const auto& d : left) {
      size_t grown = bytes + d.body.size() + (batch.empty() ? 0 : 1);
      bool fits = batch.empty() || (batch.size() < limits.max_count && grown < limits.max_bytes);
      if (fits && ids.insert(d.event_id).second) {
        bytes = grown;
        batch.push_back(d.delivery_id);
      } else {
        later.push_back(d);
      }
    }
    out.push_back(batch);
    left = later;
  }
  return out;
}

TEST(FormBatches, FormsWhatTheRuleSaysForRepeatsAndMixedSizes) {
  std::mt19937 random(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<store::DueDelivery> due;
    const int n = static_cast<int>(random() % 300);
    for (int i = 0; i < n; ++i) {
      // Few distinct events, so some repeat; sizes around the byte limit.
      std::string event = "e" + std::to_string(random() % (1 + n / 3));
      due.push_back(Due(i + 1, event, random() % 4 == 0 ? 900 : 40 + random() % 200));
    }
    const BatchLimits limits{.max_count = 1 + random() % 12, .max_bytes = 1000};
    std::vector<std::vector<int64_t>> got;
    for (const Batch& batch : FormBatches(due, limits)) got.push_back(Ids(batch));
    ASSERT_EQ(got, ReferenceBatches(due, limits)) << "round " << round;
  }
}

TEST(FormBatches, EmptyInEmptyOut) { EXPECT_TRUE(FormBatches({}, {}).empty()); }

TEST(BatchBody, IsTheStatementAloneOrAJsonArray) {
  EXPECT_EQ(BatchBody({Due(1, "a")}), R"({"id":"a"})");
  std::string body = BatchBody({Due(1, "a"), Due(2, "b")});
  EXPECT_EQ(body, R"([{"id":"a"},{"id":"b"}])");
  EXPECT_EQ(boost::json::parse(body).as_array().size(), 2u);
}

TEST(SplitBatch, GivesTwoHalvesFirstHalfFirst) {
  auto [first, second] = SplitBatch({Due(1, "a"), Due(2, "b"), Due(3, "c")});
  EXPECT_EQ(Ids(first), (std::vector<int64_t>{1}));
  EXPECT_EQ(Ids(second), (std::vector<int64_t>{2, 3}));
}

}  // namespace
}  // namespace punt::delivery
