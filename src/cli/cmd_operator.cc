// The operator commands: punt delivery retry, punt sub replay (with its
// progress), punt sub test. Wired in from cmd_client.cc.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "util/json.h"

namespace punt::cli {
namespace {

namespace json = boost::json;

constexpr int kDefaultWaitSeconds = 60;

using Counts = std::map<std::string, int64_t>;

// The "deliveries" counts of GET /v1/subscriptions/{id}, and whether the
// subscription is enabled; nullopt (after reporting why) when unreadable.
struct SubscriptionState {
  Counts counts;
  bool enabled = true;
};

std::optional<SubscriptionState> ReadState(const ClientOptions& client, const std::string& path) {
  ApiAnswer answer = CallApi(client, "GET", path);
  if (answer.status != 200) {
    Report(answer, "sub replay");
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(answer.body, ec);
  const json::object* object = !ec ? parsed.if_object() : nullptr;
  const json::value* deliveries = object ? object->if_contains("deliveries") : nullptr;
  if (!deliveries || !deliveries->is_object()) {
    std::cerr << "punt sub replay: the server's answer has no delivery counts\n";
    return std::nullopt;
  }
  SubscriptionState state;
  for (const auto& [name, n] : deliveries->get_object()) {
    if (n.is_int64()) state.counts[std::string(name)] = n.get_int64();
  }
  if (const json::value* enabled = object->if_contains("enabled"); enabled && enabled->is_bool()) {
    state.enabled = enabled->get_bool();
  }
  return state;
}

int64_t Get(const Counts& counts, const std::string& state) {
  auto it = counts.find(state);
  return it == counts.end() ? 0 : it->second;
}

// Progress of a replay of `total` deliveries: what became delivered or dead
// since `before` (the counts just before the replay), and what still waits.
struct Progress {
  int64_t delivered = 0;
  int64_t dead = 0;
  int64_t pending = 0;  // pending and in flight
  int64_t retrying = 0;

  bool operator==(const Progress&) const = default;
};

Progress Measure(const Counts& before, const Counts& now, int64_t total) {
  Progress p;
  p.delivered = std::clamp<int64_t>(Get(now, "delivered") - Get(before, "delivered"), 0, total);
  p.dead = std::clamp<int64_t>(Get(now, "dead") - Get(before, "dead"), 0, total);
  p.pending = Get(now, "pending") + Get(now, "in_flight");
  p.retrying = Get(now, "retrying");
  return p;
}

void Print(const Progress& p, int64_t total) {
  std::cout << "replay: delivered " << p.delivered << " of " << total << " (pending " << p.pending
            << ", retrying " << p.retrying << ", dead " << p.dead << ")" << std::endl;
}

std::optional<int> ParseSeconds(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

int SubReplay(const ClientOptions& client, const ParsedFlags& f) {
  const std::string& id = f.positional.at(1);
  auto since = f.Get("--since");
  if (!since) {
    std::cerr << "punt sub replay: --since is required (RFC 3339, such as "
                 "2026-11-28T00:00:00Z)\n";
    return 2;
  }
  int wait_seconds = kDefaultWaitSeconds;
  if (auto v = f.Get("--wait-seconds")) {
    auto parsed = ParseSeconds(*v);
    if (!parsed) {
      std::cerr << "punt sub replay: --wait-seconds takes a whole number of seconds\n";
      return 2;
    }
    wait_seconds = *parsed;
  }
  const std::string path = "/v1/subscriptions/" + UrlEncoded(id);
  auto before = ReadState(client, path);
  if (!before) return 1;

  json::object body{{"since", *since}};
  if (auto until = f.Get("--until")) body["until"] = *until;
  ApiAnswer answer = CallApi(client, "POST", path + "/replay", ToJson(body));
  if (answer.status != 202) return Report(answer, "sub replay");
  boost::system::error_code ec;
  json::value parsed = json::parse(answer.body, ec);
  const json::value* replayed =
      !ec && parsed.is_object() ? parsed.as_object().if_contains("replayed") : nullptr;
  if (!replayed || !replayed->is_int64()) {
    std::cerr << "punt sub replay: unexpected answer: " << answer.body << "\n";
    return 1;
  }
  const int64_t total = replayed->get_int64();
  std::cout << "replayed " << total << (total == 1 ? " event" : " events") << std::endl;
  if (total == 0 || wait_seconds == 0) return 0;
  if (!before->enabled) {
    std::cout << "replay: the subscription is disabled; the deliveries are held until it is "
                 "enabled"
              << std::endl;
    return 0;
  }

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
  std::optional<Progress> shown;
  for (;;) {
    auto now = ReadState(client, path);
    if (!now) return 1;
    Progress p = Measure(before->counts, now->counts, total);
    if (p != shown) Print(p, total);
    shown = p;
    if (p.pending + p.retrying == 0 || p.delivered + p.dead >= total) return 0;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::cerr << "punt sub replay: still sending after " << wait_seconds
            << " s; follow it with `punt sub get " << id << "`\n";
  return 1;
}

int SubTest(const ClientOptions& client, const ParsedFlags& f) {
  ApiAnswer answer = CallApi(client, "POST",
                             "/v1/subscriptions/" + UrlEncoded(f.positional.at(1)) + "/test", "{}");
  int exit = Report(answer, "sub test");
  if (exit != 0) return exit;
  // The receiver's verdict decides the exit status: 0 only for a 2xx.
  boost::system::error_code ec;
  json::value parsed = json::parse(answer.body, ec);
  const json::value* status =
      !ec && parsed.is_object() ? parsed.as_object().if_contains("status") : nullptr;
  bool ok = status && status->is_int64() && status->get_int64() >= 200 && status->get_int64() < 300;
  if (!ok) std::cerr << "punt sub test: the receiver did not accept the test request\n";
  return ok ? 0 : 1;
}

int DeliveryRetry(const ClientOptions& client, const ParsedFlags& f) {
  return Report(
      CallApi(client, "POST", "/v1/deliveries/" + UrlEncoded(f.positional.at(1)) + "/retry", "{}"),
      "delivery retry");
}

}  // namespace punt::cli
