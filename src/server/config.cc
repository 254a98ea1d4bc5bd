#include "server/config.h"

#include <charconv>
#include <string_view>

namespace punt::server {

const char* const kServeUsage =
    "Usage: punt serve [OPTIONS]\n\n"
    "Runs the punt service: the HTTP API, ingest and delivery, on SQLite in the data dir.\n"
    "Each option can also be set as the environment variable named beside it.\n\n"
    "Options:\n"
    "  --listen HOST:PORT          address to listen on (PUNT_LISTEN; default 127.0.0.1:8080;\n"
    "                              port 0 picks a free port, which is logged)\n"
    "  --data-dir DIR              database and key files (PUNT_DATA_DIR; default ./punt-data)\n"
    "  --allow-destination CIDR    allow deliveries into this private/loopback range; repeatable\n"
    "                              (PUNT_ALLOW_DESTINATION, comma-separated)\n"
    "  --allow-http                accept http:// subscription URLs anywhere (PUNT_ALLOW_HTTP=1);\n"
    "                              without it http:// is only accepted inside allowed ranges\n"
    "  --admin-key KEY             the admin key for /v1/orgs (PUNT_ADMIN_KEY; at least 16\n"
    "                              printable characters, no spaces); without one a random key\n"
    "                              is generated once into DIR/admin.key (mode 0600)\n"
    "  --threads N                 HTTP threads (PUNT_THREADS; default 2)\n"
    "  --ca-file FILE              also trust this CA (PEM) for HTTPS receivers (PUNT_CA_FILE)\n"
    "  --max-in-flight N           delivery requests in flight in total (PUNT_MAX_IN_FLIGHT;\n"
    "                              default 256; each subscription also has its own limit)\n"
    "  --retry-schedule LIST       delays between attempts, e.g. 5s,30s,2m,10m\n"
    "                              (PUNT_RETRY_SCHEDULE; default 5s,30s,2m,10m,30m,1h,3h,6h,\n"
    "                              12h,24h,24h, each with +/-20% jitter; then the delivery is "
    "dead)\n"
    "  --disable-after DURATION    disable a subscription failing this long without a success\n"
    "                              (PUNT_DISABLE_AFTER; default 5d)\n"
    "  A duration is a whole number with ms, s, m, h or d, at most 3650d.\n\n"
    "Secrets at rest are sealed with PUNT_MASTER_KEY (32 bytes, base64 or hex) or, without it,\n"
    "a key generated once into DIR/master.key (mode 0600).\n"
    "SIGTERM or SIGINT stops it cleanly: no new connections; API requests get up to 10 s and\n"
    "delivery requests up to 5 s to finish. A delivery cut off is sent again at the next start.\n";

namespace {

bool Truthy(std::string_view v) { return v == "1" || v == "true" || v == "yes" || v == "on"; }

std::optional<std::string> AddDestinations(std::string_view list, Config& config) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    // "a, b" as lists are written: the spaces around an item are not its.
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) continue;
    auto cidr = net::Cidr::Parse(item);
    if (!cidr) return "--allow-destination: '" + std::string(item) + "' is not a CIDR range";
    config.allowed_destinations.push_back(*cidr);
  }
  return std::nullopt;
}

std::optional<std::string> SetListen(std::string_view v, Config& config) {
  if (!ParseListen(v, config.host, config.port)) {
    return "--listen: '" + std::string(v) + "' is not HOST:PORT";
  }
  return std::nullopt;
}

std::optional<std::string> SetThreads(std::string_view v, Config& config) {
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 64) {
    return "--threads: must be a number from 1 to 64";
  }
  config.threads = n;
  return std::nullopt;
}

std::optional<std::string> SetNumber(std::string_view flag, std::string_view v, int low, int high,
                                     int& out) {
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < low || n > high) {
    return std::string(flag) + ": must be a number from " + std::to_string(low) + " to " +
           std::to_string(high);
  }
  out = n;
  return std::nullopt;
}

std::optional<std::string> SetSchedule(std::string_view v, Config& config) {
  auto delays = ParseDurations(v);
  if (!delays) return "--retry-schedule: '" + std::string(v) + "' is not a list like 5s,30s,2m";
  config.retry_schedule = *delays;
  return std::nullopt;
}

std::optional<std::string> SetDisableAfter(std::string_view v, Config& config) {
  auto d = ParseDurations(v);
  if (!d || d->size() != 1) return "--disable-after: '" + std::string(v) + "' is not a duration";
  config.disable_after_ms = d->front();
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<int64_t>> ParseDurations(std::string_view text) {
  std::vector<int64_t> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    int64_t n = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    std::string_view unit(end, item.data() + item.size() - end);
    int64_t scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000
                  : unit == "h" ? 3600000 : unit == "d" ? 86400000 : 0;
    if (ec != std::errc() || n <= 0 || scale == 0) return std::nullopt;
    if (n > kMaxDurationMs / scale) return std::nullopt;  // n * scale would pass the bound
    out.push_back(n * scale);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool ParseListen(std::string_view text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (h.front() == '[') {
    if (h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value > 65535) return false;
  host = std::string(h);
  port = static_cast<uint16_t>(value);
  return !host.empty();
}

std::optional<std::string> ParseConfig(std::span<char* const> args, const GetEnv& env,
                                       Config& config) {
  if (const char* v = env("PUNT_LISTEN"); v && *v) {
    if (auto err = SetListen(v, config)) return err;
  }
  if (const char* v = env("PUNT_DATA_DIR"); v && *v) config.data_dir = v;
  if (const char* v = env("PUNT_ALLOW_DESTINATION"); v && *v) {
    if (auto err = AddDestinations(v, config)) return err;
  }
  if (const char* v = env("PUNT_ALLOW_HTTP"); v && *v) config.allow_http = Truthy(v);
  if (const char* v = env("PUNT_ADMIN_KEY"); v && *v) config.admin_key = v;
  if (const char* v = env("PUNT_THREADS"); v && *v) {
    if (auto err = SetThreads(v, config)) return err;
  }
  if (const char* v = env("PUNT_CA_FILE"); v && *v) config.ca_file = v;
  if (const char* v = env("PUNT_MAX_IN_FLIGHT"); v && *v) {
    if (auto err = SetNumber("--max-in-flight", v, 1, 100000, config.max_in_flight)) return err;
  }
  if (const char* v = env("PUNT_RETRY_SCHEDULE"); v && *v) {
    if (auto err = SetSchedule(v, config)) return err;
  }
  if (const char* v = env("PUNT_DISABLE_AFTER"); v && *v) {
    if (auto err = SetDisableAfter(v, config)) return err;
  }

  bool cleared_destinations = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    if (flag == "--allow-http") {
      config.allow_http = true;
      continue;
    }
    if (i + 1 >= args.size()) return "unknown option or missing value: " + std::string(flag);
    std::string_view value = args[++i];
    if (flag == "--listen") {
      if (auto err = SetListen(value, config)) return err;
    } else if (flag == "--data-dir") {
      config.data_dir = value;
    } else if (flag == "--allow-destination") {
      if (!cleared_destinations) config.allowed_destinations.clear();
      cleared_destinations = true;
      if (auto err = AddDestinations(value, config)) return err;
    } else if (flag == "--admin-key") {
      config.admin_key = value;
    } else if (flag == "--threads") {
      if (auto err = SetThreads(value, config)) return err;
    } else if (flag == "--ca-file") {
      config.ca_file = value;
    } else if (flag == "--max-in-flight") {
      if (auto err = SetNumber(flag, value, 1, 100000, config.max_in_flight)) return err;
    } else if (flag == "--retry-schedule") {
      if (auto err = SetSchedule(value, config)) return err;
    } else if (flag == "--disable-after") {
      if (auto err = SetDisableAfter(value, config)) return err;
    } else {
      return "unknown option: " + std::string(flag);
    }
  }
  return std::nullopt;
}

}  // namespace punt::server
