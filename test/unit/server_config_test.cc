#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "server/config.h"

namespace punt::server {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  GetEnv get() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

std::optional<std::string> Parse(std::vector<std::string> args, const Env& env, Config& config) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseConfig(argv, env.get(), config);
}

TEST(ServeConfig, DefaultsWithoutFlags) {
  Config config;
  EXPECT_FALSE(Parse({}, {}, config));
  EXPECT_EQ(config.host, "127.0.0.1");
  EXPECT_EQ(config.port, 8080);
  EXPECT_EQ(config.data_dir, "./punt-data");
  EXPECT_FALSE(config.allow_http);
  EXPECT_TRUE(config.allowed_destinations.empty());
}

TEST(ServeConfig, FlagsWinOverEnvironment) {
  Env env{{{"PUNT_LISTEN", "127.0.0.1:9000"},
           {"PUNT_DATA_DIR", "/tmp/env-dir"},
           {"PUNT_ALLOW_DESTINATION", "10.0.0.0/8,127.0.0.0/8"},
           {"PUNT_ALLOW_HTTP", "1"},
           {"PUNT_ADMIN_KEY", "env-admin-key-0123456789"}}};
  Config config;
  EXPECT_FALSE(Parse({}, env, config));
  EXPECT_EQ(config.port, 9000);
  EXPECT_EQ(config.data_dir, "/tmp/env-dir");
  EXPECT_EQ(config.allowed_destinations.size(), 2u);
  EXPECT_TRUE(config.allow_http);
  EXPECT_EQ(config.admin_key, "env-admin-key-0123456789");

  Config flagged;
  EXPECT_FALSE(Parse({"--listen", "[::1]:0", "--data-dir", "/tmp/flag-dir", "--allow-destination",
                      "127.0.0.0/8", "--allow-destination", "::1/128", "--admin-key",
                      "flag-admin-key-0123456789"},
                     env, flagged));
  EXPECT_EQ(flagged.host, "::1");
  EXPECT_EQ(flagged.port, 0);
  EXPECT_EQ(flagged.data_dir, "/tmp/flag-dir");
  ASSERT_EQ(flagged.allowed_destinations.size(), 2u);
  EXPECT_EQ(flagged.allowed_destinations[1].ToString(), "::1/128");
  EXPECT_EQ(flagged.admin_key, "flag-admin-key-0123456789");
}

// A list written with a space after each comma, as lists are, reads the
// same as one without.
TEST(ServeConfig, AllowDestinationListTakesSpacesAroundItsCommas) {
  Env env{{{"PUNT_ALLOW_DESTINATION", "10.0.0.0/8, 127.0.0.0/8"}}};
  Config config;
  EXPECT_FALSE(Parse({}, env, config));
  ASSERT_EQ(config.allowed_destinations.size(), 2u);
  EXPECT_EQ(config.allowed_destinations[1].ToString(), "127.0.0.0/8");

  Config flagged;
  EXPECT_FALSE(Parse({"--allow-destination", " 127.0.0.0/8 , ::1 "}, {}, flagged));
  ASSERT_EQ(flagged.allowed_destinations.size(), 2u);
  EXPECT_EQ(flagged.allowed_destinations[1].ToString(), "::1/128");

  Config bad;
  EXPECT_TRUE(Parse({"--allow-destination", "127.0.0.0 /8"}, {}, bad));
}

TEST(ServeConfig, BadValuesAreErrors) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--listen", "8080"}, {"--listen", "host:99999"},
        {"--allow-destination", "nope"}, {"--threads", "0"}, {"--bogus", "1"}, {"--data-dir"}}) {
    Config config;
    EXPECT_TRUE(Parse(args, {}, config)) << args[0];
  }
}

TEST(ServeConfig, DeliveryPolicyFlags) {
  Config config;
  EXPECT_FALSE(Parse({"--ca-file", "/tmp/ca.pem", "--max-in-flight", "64", "--retry-schedule",
                      "500ms,2s,1m", "--disable-after", "2h"},
                     {}, config));
  EXPECT_EQ(config.ca_file, "/tmp/ca.pem");
  EXPECT_EQ(config.max_in_flight, 64);
  EXPECT_EQ(config.retry_schedule, (std::vector<int64_t>{500, 2000, 60000}));
  EXPECT_EQ(config.disable_after_ms, 7200000);
  // Regression: a huge value overflowed into a negative delay, accepted
  // (--disable-after 200000000000d disabled a subscription on its first
  // failure).
  EXPECT_EQ(ParseDurations("3650d"), (std::vector<int64_t>{kMaxDurationMs}));
  for (const char* bad : {"", "5", "5x", "0s", "5s,,", "-1s", "3651d", "200000000000d",
                          "9999999999999999h", "9223372036854775807ms,1s"}) {
    EXPECT_FALSE(ParseDurations(bad)) << bad;
  }
  Config broken;
  EXPECT_TRUE(Parse({"--retry-schedule", "soon"}, {}, broken));
  EXPECT_TRUE(Parse({"--disable-after", "1s,2s"}, {}, broken));
}

}  // namespace
}  // namespace punt::server
