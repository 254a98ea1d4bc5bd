// `punt serve` settings, from flags and PUNT_* environment variables
// (a flag wins over its variable).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/cidr.h"

namespace punt::server {

struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string data_dir = "./punt-data";
  std::vector<net::Cidr> allowed_destinations;
  bool allow_http = false;
  std::string admin_key;  // empty: load or generate data_dir/admin.key
  int threads = 2;        // HTTP threads
  std::string ca_file;    // an extra trusted CA for HTTPS receivers (PEM)
  int max_in_flight = 256;  // delivery requests in flight in total
  // Retry delays in ms; empty means DESIGN.md's default schedule.
  std::vector<int64_t> retry_schedule;
  int64_t disable_after_ms = 5LL * 24 * 3600 * 1000;  // failing this long → disabled
};

// "5s,30s,2m,1h" → milliseconds; nullopt on a bad item or an empty list.
// Each is at most kMaxDuration: more overflowed into a negative delay.
constexpr int64_t kMaxDurationMs = 3650LL * 86400000;  // ten years
std::optional<std::vector<int64_t>> ParseDurations(std::string_view text);

using GetEnv = std::function<const char*(const char*)>;

// Fills `config` from `args` (the arguments after "serve") and `env`.
// Returns an error message for a bad flag or value.
std::optional<std::string> ParseConfig(std::span<char* const> args, const GetEnv& env,
                                       Config& config);

// "HOST:PORT" or "[V6]:PORT".
bool ParseListen(std::string_view text, std::string& host, uint16_t& port);

extern const char* const kServeUsage;

}  // namespace punt::server
