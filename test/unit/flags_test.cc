#include "cli/flags.h"

#include <gtest/gtest.h>

#include "cli/api_client.h"

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

// Regression: a value option followed by another option took that option as
// its value: `sub create ... --token --disabled` made an enabled subscription
// sending the token "--disabled".
TEST(ParseFlags, AnOptionIsNotTakenAsTheValueOfTheOneBefore) {
  std::string error;
  EXPECT_FALSE(Parse({"create", "--url", "--disabled"}, &error));
  EXPECT_EQ(error, "--url needs a value");
  EXPECT_FALSE(Parse({"--url", "--events", "a"}, &error));
  EXPECT_EQ(error, "--url needs a value");
  // A value that only looks like an option is still a value.
  auto parsed = Parse({"--url", "--not-an-option"}, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->Get("--url"), "--not-an-option");
}

// Regression: a positional starting with "--" (punt token's SECRET may) could
// not be given at all: "--" was an unknown option too.
TEST(ParseFlags, AfterDoubleDashEveryArgumentIsPositional) {
  std::string error;
  auto parsed = Parse({"create", "--disabled", "--", "--events", "--", "x"}, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->positional, (std::vector<std::string>{"create", "--events", "--", "x"}));
  EXPECT_TRUE(parsed->switches.count("--disabled"));
  EXPECT_FALSE(parsed->Get("--events"));
  parsed = Parse({"--"}, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_TRUE(parsed->positional.empty());
}

// webhook-sign takes --secret more than once (signing with each, for a
// rotation); its other options stay single.
TEST(ParseFlags, RepeatableOptionsCollectEveryValueInOrder) {
  std::string error;
  auto parsed = ParseFlags({"--secret", "a", "--id=x", "--secret=b", "--secret", "c"},
                           {"--secret", "--id"}, {}, &error, {"--secret"});
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->lists["--secret"], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(parsed->Get("--secret"), std::nullopt);
  EXPECT_EQ(parsed->Get("--id"), "x");
  EXPECT_FALSE(
      ParseFlags({"--id", "x", "--id", "y"}, {"--secret", "--id"}, {}, &error, {"--secret"}));
  EXPECT_EQ(error, "--id given twice");
}

TEST(TakeClientOptions, AnOptionIsNotTakenAsTheKeyOrServer) {
  std::vector<std::string> words = {"--key", "--server", "http://a"};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  std::string error;
  ClientOptions options;
  EXPECT_FALSE(TakeClientOptions(Args(argv.data(), argv.size()), options, &error));
  EXPECT_EQ(error, "--key needs a value");
}

// Regression: --flag=value was refused as "unknown option --url=https://x",
// though --url is an option.
TEST(ParseFlags, FlagEqualsValueIsFlagValue) {
  std::string error;
  auto parsed = Parse({"--url=https://x/?a=b", "--events=", "create"}, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->Get("--url"), "https://x/?a=b");
  EXPECT_EQ(parsed->Get("--events"), "");
  EXPECT_FALSE(Parse({"--url=a", "--url", "b"}, &error));
  EXPECT_EQ(error, "--url given twice");
  EXPECT_FALSE(Parse({"--disabled=true"}, &error));
  EXPECT_EQ(error, "--disabled takes no value");
  EXPECT_FALSE(Parse({"--colour=red"}, &error));
  EXPECT_EQ(error, "unknown option --colour");

  std::vector<std::string> words = {"list", "--server=http://a/", "--key=k=1"};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  ClientOptions options;
  auto rest = TakeClientOptions(Args(argv.data(), argv.size()), options, &error);
  ASSERT_TRUE(rest) << error;
  EXPECT_EQ(*rest, std::vector<std::string>{"list"});
  EXPECT_EQ(options.server, "http://a");
  EXPECT_EQ(options.key, "k=1");
}

// The same for --server and --key, which every client command takes first:
// a second --key was used instead of the first without a word.
TEST(TakeClientOptions, ARepeatedServerOrKeyIsAnError) {
  auto take = [](std::vector<std::string> words, ClientOptions& options, std::string* error) {
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    return TakeClientOptions(Args(argv.data(), argv.size()), options, error);
  };
  std::string error;
  ClientOptions options;
  auto rest = take({"list", "--server", "http://a/", "--key", "k1"}, options, &error);
  ASSERT_TRUE(rest) << error;
  EXPECT_EQ(*rest, std::vector<std::string>{"list"});
  EXPECT_EQ(options.server, "http://a");
  EXPECT_EQ(options.key, "k1");
  EXPECT_FALSE(take({"--key", "k1", "list", "--key", "k2"}, options, &error));
  EXPECT_EQ(error, "--key given twice");
  EXPECT_FALSE(take({"--server", "http://a", "--server", "http://b"}, options, &error));
  EXPECT_EQ(error, "--server given twice");
}

// Regression: a key with a line end (a CRLF key file) went into the
// Authorization header as is: the server answered "400 malformed HTTP request".
TEST(TakeClientOptions, AKeyWithAControlCharacterIsAnError) {
  for (std::string key : {"punt_abc\r", "punt_abc\n", "x\r\nX-Other: 1"}) {
    std::vector<std::string> words = {"list", "--key", key};
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    std::string error;
    ClientOptions options;
    EXPECT_FALSE(TakeClientOptions(Args(argv.data(), argv.size()), options, &error)) << key;
    EXPECT_NE(error.find("control character"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace punt::cli
