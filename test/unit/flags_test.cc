#include "cli/flags.h"

#include <gtest/gtest.h>

namespace punt::cli {
namespace {

std::optional<ParsedFlags> Parse(const std::vector<std::string>& args, std::string* error) {
  return ParseFlags(args, {"--events", "--url"}, {"--disabled"}, error);
}

TEST(ParseFlags, ValuesSwitchesAndPositionals) {
  std::string error;
  auto parsed = Parse({"create", "--events", "a,b", "--disabled", "--url", "https://x"}, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->positional, std::vector<std::string>{"create"});
  EXPECT_EQ(parsed->Get("--events"), "a,b");
  EXPECT_EQ(parsed->Get("--url"), "https://x");
  EXPECT_TRUE(parsed->switches.count("--disabled"));
}

TEST(ParseFlags, UnknownOptionAndMissingValueAreErrors) {
  std::string error;
  EXPECT_FALSE(Parse({"--colour", "red"}, &error));
  EXPECT_EQ(error, "unknown option --colour");
  EXPECT_FALSE(Parse({"--events"}, &error));
  EXPECT_EQ(error, "--events needs a value");
}

// Regression: `--events lesson.completed --events lesson.viewed` kept only the
// last, so the subscription silently missed lesson.completed.
TEST(ParseFlags, RepeatedValueOptionIsAnErrorNotLastWins) {
  std::string error;
  EXPECT_FALSE(Parse({"--events", "lesson.completed", "--events", "lesson.viewed"}, &error));
  EXPECT_EQ(error, "--events given twice");
}

}  // namespace
}  // namespace punt::cli
