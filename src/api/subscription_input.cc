#include "api/subscription_input.h"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <charconv>
#include <set>
#include <variant>

#include "catalog/catalog.h"
#include "util/json_pointer.h"
#include "util/text.h"
#include "xapi/statement.h"
#include "xapi/token.h"

namespace punt::api {
namespace {

namespace json = boost::json;
using catalog::Problem;

constexpr size_t kMaxUrl = 2048;
constexpr size_t kMaxDescription = 1024;
constexpr size_t kMaxToken = 4096;

const std::set<std::string> kKnownFields = {"kind",  "url",       "events",     "token",
                                            "lrs_key", "lrs_secret", "description", "enabled",
                                            "xapi_version", "max_in_flight", "batch_size"};

class Reader {
 public:
  Reader(const json::object& body, std::vector<Problem>& problems)
      : body_(body), problems_(problems) {}

  // The string at `key`, or nullopt when absent (a problem when required or
  // when present with another type, null included: only a token may be null,
  // which ApplyCredentials reads itself).
  std::optional<std::string> String(const char* key, bool required, size_t max_length) {
    const json::value* v = body_.if_contains(key);
    if (!v || (v->is_null() && std::string_view(key) == "token")) {
      if (required) Add(key, "is required");
      return std::nullopt;
    }
    if (!v->is_string()) return Add(key, "must be a string"), std::nullopt;
    std::string s(v->get_string());
    if (s.size() > max_length && CodePoints(s) > max_length) {
      return Add(key, "must be at most " + std::to_string(max_length) + " characters long"),
             std::nullopt;
    }
    return s;
  }

  std::optional<bool> Bool(const char* key) {
    const json::value* v = body_.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_bool()) return Add(key, "must be true or false"), std::nullopt;
    return v->get_bool();
  }

  // The whole number at `key` within [min, max], or nullopt when absent (a
  // problem when out of range or of another type).
  std::optional<int> Int(const char* key, int min, int max) {
    const json::value* v = body_.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_int64() || v->get_int64() < min || v->get_int64() > max) {
      Add(key, "must be a whole number from " + std::to_string(min) + " to " +
                   std::to_string(max));
      return std::nullopt;
    }
    return static_cast<int>(v->get_int64());
  }

  void Add(std::string path, std::string message) {
    problems_.push_back({"/" + std::move(path), std::move(message)});
  }
  // At a JSON Pointer made already.
  void AddAt(std::string pointer, std::string message) {
    problems_.push_back({std::move(pointer), std::move(message)});
  }

  const json::object& body() const { return body_; }

 private:
  const json::object& body_;
  std::vector<Problem>& problems_;
};

void ApplyUrl(Reader& in, const std::string& url, const DestinationPolicy& policy,
              store::Subscription& sub) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return in.Add("url", "must be an absolute http(s) URL");
  // Schemes are case-insensitive: HTTPS:// is https.
  auto id = parsed->scheme_id();
  if (id != boost::urls::scheme::http && id != boost::urls::scheme::https) {
    return in.Add("url", "must be an http(s) URL");
  }
  std::string scheme = id == boost::urls::scheme::https ? "https" : "http";
  if (parsed->encoded_host().empty()) return in.Add("url", "must name a host");
  if (parsed->has_userinfo()) {
    return in.Add("url", "must not hold credentials; give them as the token");
  }
  // An empty port is the scheme's; any other must be one a connection can use.
  if (parsed->has_port() && !parsed->port().empty()) {
    std::string_view port = parsed->port();
    unsigned long value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return in.Add("url", "must have a port from 1 to 65535");
    }
  }
  if (auto refusal = policy.CheckScheme(scheme, std::string(parsed->encoded_host_address()))) {
    return in.Add("url", *refusal);
  }
  if (sub.kind == store::SubscriptionKind::kXapi) {
    if (parsed->has_query()) return in.Add("url", "an xAPI endpoint must not have a query");
    sub.url = NormaliseXapiUrl(url);
  } else {
    sub.url = url;
  }
}

void ApplyEvents(Reader& in, store::Subscription& sub) {
  const json::value* v = in.body().if_contains("events");
  if (!v->is_array() || v->get_array().empty()) {
    return in.Add("events", "must be a non-empty array of event types, or [\"*\"]");
  }
  std::vector<std::string> events;
  const auto& items = v->get_array();
  for (size_t i = 0; i < items.size(); ++i) {
    std::string path = "events/" + std::to_string(i);
    if (!items[i].is_string()) {
      in.Add(path, "must be a string");
      continue;
    }
    std::string name(items[i].get_string());
    const catalog::EventType* type = catalog::FindEventType(name);
    if (name == "*") {
      if (items.size() > 1) in.Add(path, "\"*\" must stand alone");
    } else if (!type) {
      in.Add(path, "unknown event type \"" + name + "\"");
    } else if (sub.kind == store::SubscriptionKind::kXapi &&
               type->family == catalog::Family::kUser) {
      in.Add(path, "user events have no xAPI statement; an xAPI subscription takes learning "
                   "events only");
    }
    if (std::find(events.begin(), events.end(), name) == events.end()) events.push_back(name);
  }
  sub.events = std::move(events);
}

void ApplyCredentials(Reader& in, bool creating, store::Subscription& sub,
                      SubscriptionSecrets& secrets) {
  auto token = in.String("token", false, kMaxToken);
  auto key = in.String("lrs_key", false, kMaxToken);
  auto secret = in.String("lrs_secret", false, kMaxToken);
  bool xapi = sub.kind == store::SubscriptionKind::kXapi;
  // A PATCH's "token": null removes a webhook's token (null on a create is
  // the same as leaving it out); an xAPI subscription cannot go without.
  const json::value* given = in.body().if_contains("token");
  if (!creating && given && given->is_null()) {
    if (xapi) {
      return in.Add("token",
                    "an xAPI subscription needs credentials: give a new token, or "
                    "lrs_key and lrs_secret");
    }
    secrets.remove_token = true;
  }
  if (!xapi && (key || secret)) {
    return in.Add(key ? "lrs_key" : "lrs_secret", "is for xAPI subscriptions only");
  }
  if (token && token->empty()) return in.Add("token", "must not be empty; leave it out instead");
  if (token && (key || secret)) {
    return in.Add("token", "give either token, or lrs_key and lrs_secret, not both");
  }
  if (!xapi) {
    // Sent verbatim as a header value: no control character but a tab
    // (RFC 9110 section 5.5), or it cannot go as given.
    if (token && std::any_of(token->begin(), token->end(), [](char c) {
          auto u = static_cast<unsigned char>(c);
          return (u < 0x20 && u != '\t') || u == 0x7f;
        })) {
      return in.Add("token", "must not contain line breaks or other control characters");
    }
    if (token) secrets.token = *token;
    return;
  }
  std::variant<xapi::NormalisedToken, xapi::TokenError> result;
  std::string path = "token";
  if (token) {
    result = xapi::NormaliseToken(*token);
  } else if (key || secret) {
    if (!key || !secret) return in.Add(key ? "lrs_secret" : "lrs_key", "is required");
    result = xapi::TokenFromKeySecret(*key, *secret);
    path = "lrs_key";
  } else {
    if (creating) in.Add("token", "is required for xAPI (or give lrs_key and lrs_secret)");
    return;
  }
  if (auto* error = std::get_if<xapi::TokenError>(&result)) {
    return in.Add(path == "lrs_key" && error->in_secret ? "lrs_secret" : path, error->message);
  }
  secrets.token = std::get<xapi::NormalisedToken>(result).header_value;
}

}  // namespace

std::string NormaliseXapiUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  constexpr std::string_view kSuffix = "/statements";
  if (!url.ends_with(kSuffix)) url += kSuffix;
  return url;
}

std::vector<Problem> ApplySubscriptionJson(const json::object& body, bool creating,
                                           const DestinationPolicy& policy,
                                           store::Subscription& sub,
                                           SubscriptionSecrets& secrets) {
  std::vector<Problem> problems;
  Reader in(body, problems);
  for (const auto& [key, _] : body) {
    if (!kKnownFields.count(std::string(key))) in.AddAt(PointerToKey(key), "is not a known field");
  }
  if (auto kind = in.String("kind", creating, 16)) {
    auto parsed = store::ParseKind(*kind);
    if (!parsed) {
      in.Add("kind", "must be \"webhook\" or \"xapi\"");
    } else if (!creating && *parsed != sub.kind) {
      in.Add("kind", "cannot change; create a new subscription instead");
    } else {
      sub.kind = *parsed;
    }
  }
  if (!problems.empty()) return problems;  // the rest depends on the kind

  if (auto url = in.String("url", creating, kMaxUrl)) ApplyUrl(in, *url, policy, sub);
  if (body.contains("events")) {
    ApplyEvents(in, sub);
  } else if (creating) {
    in.Add("events", "is required");
  }
  ApplyCredentials(in, creating, sub, secrets);
  if (auto d = in.String("description", false, kMaxDescription)) sub.description = *d;
  if (auto enabled = in.Bool("enabled")) sub.enabled = *enabled;
  if (auto n = in.Int("max_in_flight", 1, 64)) sub.max_in_flight = *n;
  if (auto n = in.Int("batch_size", 1, 100)) {
    if (sub.kind != store::SubscriptionKind::kXapi) {
      in.Add("batch_size", "is for xAPI subscriptions only");
    } else {
      sub.batch_size = *n;
    }
  }
  if (auto version = in.String("xapi_version", false, 16)) {
    if (sub.kind != store::SubscriptionKind::kXapi) {
      in.Add("xapi_version", "is for xAPI subscriptions only");
    } else if (!xapi::ParseVersion(*version)) {
      in.Add("xapi_version", "must be \"1.0.3\" or \"2.0.0\"");
    } else {
      sub.xapi_version = *version;
    }
  }
  return problems;
}

}  // namespace punt::api
