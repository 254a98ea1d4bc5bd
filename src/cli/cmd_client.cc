// The client commands: punt org, punt sub, punt emit, punt delivery. Each is a
// thin layer over one API call (docs/openapi.yaml).
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/event_input.h"
#include "cli/flags.h"
#include "util/json.h"

namespace punt::cli {
namespace {

namespace json = boost::json;

constexpr const char* kConnection =
    "\nEvery command takes --server URL (PUNT_SERVER, default http://127.0.0.1:8080)\n"
    "and --key KEY (PUNT_API_KEY): the admin key for `punt org create`, otherwise an\n"
    "organisation's API key (`punt org get` and `update` take either, the organisation's\n"
    "own key only for itself). Answers are printed as JSON; errors go to stderr, exit 1.\n"
    "An option's value may also be given as --option=VALUE.\n";

constexpr const char* kOrgUsage =
    "Usage: punt org create --name NAME --platform-url URL [--mbox true|false]\n"
    "       punt org get ID\n"
    "       punt org update ID [--name NAME] [--platform-url URL] [--mbox true|false]\n";

constexpr const char* kSubUsage =
    "Usage: punt sub list\n"
    "       punt sub get ID\n"
    "       punt sub create --kind webhook|xapi --url URL --events a,b|* [--token TOKEN]\n"
    "                       [--lrs-key KEY --lrs-secret SECRET] [--description TEXT]\n"
    "                       [--xapi-version 1.0.3|2.0.0] [--disabled]\n"
    "                       [--max-in-flight N] [--batch-size N]\n"
    "       punt sub update ID [--url URL] [--events a,b] [--token TOKEN] [--description TEXT]\n"
    "                          [--lrs-key KEY --lrs-secret SECRET] [--xapi-version V]\n"
    "                          [--enabled true|false] [--max-in-flight N] [--batch-size N]\n"
    "                          [--no-token]\n"
    "           --no-token: a webhook sends no Authorization header from now on\n"
    "           --max-in-flight: requests open at once (1-64, default 4); --batch-size: xAPI\n"
    "           statements per POST (1-100, default 100)\n"
    "       punt sub delete ID\n"
    "       punt sub deliveries ID [--state STATE] [--since T] [--until T] [--limit N]\n"
    "                              [--cursor C]\n"
    "       punt sub replay ID --since T [--until T] [--wait-seconds N]\n"
    "           sends again the events accepted in [since, until) (RFC 3339; until defaults\n"
    "           to now), then shows progress every second for up to N s (default 60;\n"
    "           exit 1 if still sending then)\n"
    "       punt sub test ID\n"
    "           sends a test request to the receiver and prints its answer (exit 1 unless\n"
    "           it answered 2xx)\n";

constexpr const char* kEmitUsage =
    "Usage: punt emit [FILE]\n\n"
    "Posts the event or array of events in FILE (or standard input) to /v1/events.\n";

constexpr const char* kDeliveryUsage =
    "Usage: punt delivery get ID\n"
    "       punt delivery retry ID    (sends it again, whatever its state but in_flight)\n";

int Usage(const char* usage, const std::string& error = "") {
  if (!error.empty()) std::cerr << "punt: " << error << "\n\n";
  (error.empty() ? std::cout : std::cerr) << usage << kConnection;
  return error.empty() ? 0 : 2;
}

json::array SplitList(const std::string& text) {
  json::array out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

std::optional<bool> ParseBool(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

// Copies --flag values into `body` under their JSON names.
void CopyStrings(const ParsedFlags& flags,
                 std::initializer_list<std::pair<const char*, const char*>> names,
                 json::object& body) {
  for (auto [flag, key] : names) {
    if (auto v = flags.Get(flag)) body[key] = *v;
  }
}

// The fields org create and org update send; false with the usage printed
// when a value is wrong. --mbox takes true or false for both (create read it
// as a switch that the flag list made take a value: never usable).
bool OrgBody(const ParsedFlags& f, json::object& body) {
  CopyStrings(f, {{"--name", "name"}, {"--platform-url", "platform_url"}}, body);
  if (auto v = f.Get("--mbox")) {
    auto b = ParseBool(*v);
    if (!b) return false;
    body["mbox_opt_in"] = *b;
  }
  return true;
}

int Org(const ClientOptions& client, const ParsedFlags& f) {
  const auto& p = f.positional;
  if (p.empty()) return Usage(kOrgUsage, "which org command?");
  if (p[0] == "get" && p.size() == 2) {
    return Report(CallApi(client, "GET", "/v1/orgs/" + UrlEncoded(p[1])), "org get");
  }
  const bool create = p[0] == "create" && p.size() == 1;
  if (!create && !(p[0] == "update" && p.size() == 2)) {
    return Usage(kOrgUsage, "unknown org command");
  }
  json::object body;
  if (!OrgBody(f, body)) return Usage(kOrgUsage, "--mbox takes true or false");
  if (create) return Report(CallApi(client, "POST", "/v1/orgs", ToJson(body)), "org create");
  return Report(CallApi(client, "PATCH", "/v1/orgs/" + UrlEncoded(p[1]), ToJson(body)),
                "org update");
}

json::object SubscriptionBody(const ParsedFlags& f) {
  json::object body;
  CopyStrings(f,
              {{"--kind", "kind"},
               {"--url", "url"},
               {"--token", "token"},
               {"--lrs-key", "lrs_key"},
               {"--lrs-secret", "lrs_secret"},
               {"--description", "description"},
               {"--xapi-version", "xapi_version"}},
              body);
  if (auto v = f.Get("--events")) body["events"] = SplitList(*v);
  // Numbers go as numbers; anything else goes as given, for the API to refuse
  // with its own message.
  for (auto [flag, key] : {std::pair{"--max-in-flight", "max_in_flight"},
                           {"--batch-size", "batch_size"}}) {
    auto v = f.Get(flag);
    if (!v) continue;
    int64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec == std::errc() && end == v->data() + v->size()) {
      body[key] = n;
    } else {
      body[key] = *v;
    }
  }
  return body;
}

// The options each sub command reads. One given to a command that reads
// another set is refused, not dropped: `sub create --enabled false` made an
// enabled subscription.
const std::map<std::string, std::set<std::string>> kSubOptions = {
    {"list", {}},
    {"get", {}},
    {"delete", {}},
    {"test", {}},
    {"create",
     {"--kind", "--url", "--events", "--token", "--lrs-key", "--lrs-secret", "--description",
      "--xapi-version", "--disabled", "--max-in-flight", "--batch-size"}},
    {"update",
     {"--kind", "--url", "--events", "--token", "--lrs-key", "--lrs-secret", "--description",
      "--xapi-version", "--enabled", "--max-in-flight", "--batch-size", "--no-token"}},
    {"deliveries", {"--state", "--since", "--until", "--limit", "--cursor"}},
    {"replay", {"--since", "--until", "--wait-seconds"}},
};

// The first option in `f` that `takes` lacks, if any.
std::optional<std::string> OptionNotTaken(const ParsedFlags& f,
                                          const std::set<std::string>& takes) {
  for (const auto& [flag, value] : f.values) {
    if (!takes.count(flag)) return flag;
  }
  for (const auto& flag : f.switches) {
    if (!takes.count(flag)) return flag;
  }
  return std::nullopt;
}

int Sub(const ClientOptions& client, const ParsedFlags& f) {
  const auto& p = f.positional;
  if (p.empty()) return Usage(kSubUsage, "which sub command?");
  const std::string& verb = p[0];
  if (auto options = kSubOptions.find(verb); options != kSubOptions.end()) {
    if (auto flag = OptionNotTaken(f, options->second)) {
      return Usage(kSubUsage, *flag + " is not an option of `punt sub " + verb + "`");
    }
  }
  if (verb == "list" && p.size() == 1) {
    return Report(CallApi(client, "GET", "/v1/subscriptions"), "sub list");
  }
  if (verb == "create" && p.size() == 1) {
    json::object body = SubscriptionBody(f);
    if (f.switches.count("--disabled")) body["enabled"] = false;
    return Report(CallApi(client, "POST", "/v1/subscriptions", ToJson(body)), "sub create");
  }
  if (p.size() != 2) return Usage(kSubUsage, "unknown sub command or missing ID");
  std::string path = "/v1/subscriptions/" + UrlEncoded(p[1]);
  if (verb == "get") return Report(CallApi(client, "GET", path), "sub get");
  if (verb == "delete") return Report(CallApi(client, "DELETE", path), "sub delete");
  if (verb == "update") {
    json::object body = SubscriptionBody(f);
    if (auto v = f.Get("--enabled")) {
      auto b = ParseBool(*v);
      if (!b) return Usage(kSubUsage, "--enabled takes true or false");
      body["enabled"] = *b;
    }
    if (f.switches.count("--no-token")) {
      if (f.Get("--token")) return Usage(kSubUsage, "give --token or --no-token, not both");
      body["token"] = nullptr;
    }
    return Report(CallApi(client, "PATCH", path, ToJson(body)), "sub update");
  }
  if (verb == "replay") return SubReplay(client, f);
  if (verb == "test") return SubTest(client, f);
  if (verb == "deliveries") {
    std::string query;
    for (auto [flag, key] : {std::pair{"--state", "state"}, {"--since", "since"},
                             {"--until", "until"}, {"--limit", "limit"}, {"--cursor", "cursor"}}) {
      if (auto v = f.Get(flag)) {
        query += (query.empty() ? "?" : "&") + std::string(key) + "=" + UrlEncoded(*v);
      }
    }
    return Report(CallApi(client, "GET", path + "/deliveries" + query), "sub deliveries");
  }
  return Usage(kSubUsage, "unknown sub command");
}

// Runs `body` with the client options and flags taken from args.
int RunClient(Args args, const char* usage, const std::set<std::string>& value_flags,
              const std::set<std::string>& switch_flags,
              int (*body)(const ClientOptions&, const ParsedFlags&)) {
  ClientOptions client;
  std::string error;
  auto rest = TakeClientOptions(args, client, &error);
  // -h or --help asks for help where it is an argument of its own, not where
  // it is an option's value (`--description -h` sets that description).
  std::set<std::string> switches = switch_flags;
  switches.insert("--help");
  auto flags = rest ? ParseFlags(*rest, value_flags, switches, &error) : std::nullopt;
  if (flags && (flags->switches.count("--help") ||
                std::ranges::count(flags->positional, std::string("-h")))) {
    return Usage(usage);
  }
  if (!rest || !flags) return WantsHelp(args) ? Usage(usage) : Usage(usage, error);
  // An empty ID would name the collection ("/v1/subscriptions/"), not a resource.
  for (size_t i = 1; i < flags->positional.size(); ++i) {
    if (flags->positional[i].empty()) return Usage(usage, "the ID is empty");
  }
  return body(client, *flags);
}

}  // namespace

int RunOrg(Args args) {
  return RunClient(args, kOrgUsage, {"--name", "--platform-url", "--mbox"}, {}, &Org);
}

int RunSub(Args args) {
  return RunClient(
      args, kSubUsage,
      {"--kind", "--url", "--events", "--token", "--lrs-key", "--lrs-secret", "--description",
       "--xapi-version", "--enabled", "--state", "--limit", "--cursor", "--since", "--until",
       "--wait-seconds", "--max-in-flight", "--batch-size"},
      {"--disabled", "--no-token"}, &Sub);
}

int RunEmit(Args args) {
  return RunClient(args, kEmitUsage, {}, {}, [](const ClientOptions& client, const ParsedFlags& f) {
    if (f.positional.size() > 1) return Usage(kEmitUsage, "give at most one FILE");
    auto input = ReadInput("emit", f.positional.empty() ? "" : f.positional[0], std::cerr);
    if (!input) return 2;
    const std::string& text = *input;
    // Sent empty, the server could only say what the request lacks (a JSON
    // Content-Type), not that no event was given.
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Usage(kEmitUsage, "no event given: the input is empty");
    }
    return Report(CallApi(client, "POST", "/v1/events", text), "emit");
  });
}

int RunDelivery(Args args) {
  return RunClient(args, kDeliveryUsage, {}, {},
                   [](const ClientOptions& client, const ParsedFlags& f) {
                     const auto& p = f.positional;
                     if (p.size() == 2 && p[0] == "get") {
                       return Report(CallApi(client, "GET", "/v1/deliveries/" + UrlEncoded(p[1])),
                                     "delivery get");
                     }
                     if (p.size() == 2 && p[0] == "retry") return DeliveryRetry(client, f);
                     return Usage(kDeliveryUsage, "unknown delivery command");
                   });
}

}  // namespace punt::cli
