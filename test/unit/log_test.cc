#include "util/log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cctype>
#include <string>
#include <vector>

namespace punt {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = SetLogSink([this](std::string_view line) { lines_.emplace_back(line); });
    SetMinLogLevel(LogLevel::kInfo);
  }
  void TearDown() override {
    SetLogSink(std::move(previous_));
    SetMinLogLevel(LogLevel::kInfo);
  }
  std::vector<std::string> lines_;
  LogSink previous_;
};

TEST_F(LogTest, LineIsOneJsonObjectWithTsLevelMsgThenFields) {
  LogInfo("delivery failed", {{"sub", "s-1"}, {"status", 503}, {"msg", "dropped"}});
  ASSERT_EQ(lines_.size(), 1u);
  const std::string& line = lines_[0];
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto object = boost::json::parse(line).as_object();
  ASSERT_EQ(object.size(), 5u);
  auto it = object.begin();
  EXPECT_EQ((it++)->key(), "ts");
  EXPECT_EQ((it++)->key(), "level");
  EXPECT_EQ((it++)->key(), "msg");
  EXPECT_EQ(object["level"], "info");
  EXPECT_EQ(object["msg"], "delivery failed");  // A field named msg cannot override it.
  EXPECT_EQ(object["sub"], "s-1");
  EXPECT_EQ(object["status"], 503);
  std::string ts(object["ts"].as_string());
  std::string shape = ts;
  for (char& c : shape) c = std::isdigit(static_cast<unsigned char>(c)) ? 'd' : c;
  EXPECT_EQ(shape, "dddd-dd-ddTdd:dd:dd.dddZ") << ts;
}

TEST_F(LogTest, FormatsExactly) {
  TimePoint ts{std::chrono::milliseconds(1'764'331'200'123)};
  EXPECT_EQ(FormatLogLine(ts, LogLevel::kWarn, "say \"hi\"", {{"n", 1}}),
            R"({"ts":"2025-11-28T12:00:00.123Z","level":"warn","msg":"say \"hi\"","n":1})");
}

TEST_F(LogTest, DropsLinesBelowTheMinimumLevel) {
  LogDebug("hidden");
  SetMinLogLevel(LogLevel::kError);
  LogWarn("hidden too");
  LogError("shown");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(boost::json::parse(lines_[0]).at("level"), "error");
  EXPECT_FALSE(LogEnabled(LogLevel::kWarn));
}

TEST_F(LogTest, ParsesLevelNames) {
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("loud"), std::nullopt);
  EXPECT_EQ(LogLevelName(LogLevel::kError), "error");
}

}  // namespace
}  // namespace punt
