#include "delivery/outcome.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <limits>
#include <string>
#include <utility>

namespace punt::delivery {

namespace {

// The ids in `body`, a JSON array of strings; nullopt when it is not one.
// A `cut` body (the answer's first bytes) may break off after any complete
// id. An id holding an escape is not a statement id: nullopt.
std::optional<std::vector<std::string_view>> ListedIds(std::string_view body, bool cut) {
  size_t at = 0;
  auto skip_space = [&] {
    while (at < body.size() &&
           (body[at] == ' ' || body[at] == '\t' || body[at] == '\r' || body[at] == '\n')) {
      ++at;
    }
    return at < body.size();
  };
  std::vector<std::string_view> ids;
  if (!skip_space() || body[at++] != '[') return std::nullopt;
  if (!skip_space()) return cut ? std::optional(ids) : std::nullopt;
  if (body[at] == ']') {
    ++at;
    return skip_space() ? std::nullopt : std::optional(ids);
  }
  while (true) {
    if (body[at++] != '"') return std::nullopt;
    size_t end = body.find_first_of("\"\\", at);
    if (end == std::string_view::npos) return cut ? std::optional(ids) : std::nullopt;
    if (body[end] == '\\') return std::nullopt;
    ids.push_back(body.substr(at, end - at));
    at = end + 1;
    if (!skip_space()) return cut ? std::optional(ids) : std::nullopt;
    char next = body[at++];
    if (next == ']') return skip_space() ? std::nullopt : std::optional(ids);
    if (next != ',' || !skip_space()) return cut && next == ',' ? std::optional(ids) : std::nullopt;
  }
}

bool SameId(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Why a 2xx to an xAPI POST does not deliver the statements sent; empty
// when it does.
std::string UnlistedStatements(const Answer& a) {
  const std::string status = std::to_string(a.status);
  std::optional<std::vector<std::string_view>> listed = ListedIds(a.body, a.body_cut);
  if (!listed) {
    return "the LRS answered " + status +
           " without the JSON array of the statement ids it stored: not counted as delivered";
  }
  auto in = [](const auto& list, std::string_view id) {
    return std::any_of(list.begin(), list.end(), [&](const auto& x) { return SameId(x, id); });
  };
  if (a.body_cut) {
    // Only a prefix is readable: it must list ids of this batch, and only those.
    bool ours = !listed->empty() && std::all_of(listed->begin(), listed->end(),
                                                [&](std::string_view id) { return in(a.ids, id); });
    if (ours) return "";
    return "the LRS answered " + status +
           " with ids that are not those of the statements sent: not counted as delivered";
  }
  size_t missing = static_cast<size_t>(std::count_if(
      a.ids.begin(), a.ids.end(), [&](const std::string& id) { return !in(*listed, id); }));
  if (missing == 0) return "";
  return "the LRS answered " + status + " but its list of stored ids leaves out " +
         std::to_string(missing) + " of the " + std::to_string(a.ids.size()) +
         " statements sent: not counted as delivered";
}

}  // namespace

Outcome Classify(const Answer& a) {
  if (a.status >= 200 && a.status < 300) {
    // A 204 has no body to list ids in: it is taken at its word, as from an
    // LRS that answers a POST as it answers a PUT.
    std::string unlisted = a.xapi && a.status != 204 ? UnlistedStatements(a) : "";
    if (!unlisted.empty()) return {Verdict::kRetry, SubscriptionEffect::kNone, std::move(unlisted)};
    return {Verdict::kDelivered, SubscriptionEffect::kNone, ""};
  }
  if (a.status == 0) return {Verdict::kRetry, SubscriptionEffect::kNone, a.error};
  bool single = a.statements <= 1;
  if (a.xapi && a.status == 409 && single) {
    return {Verdict::kDelivered, SubscriptionEffect::kNone,
            "conflict: the LRS already holds this statement id"};
  }
  if (a.xapi && (a.status == 400 || a.status == 409 || a.status == 413 || a.status == 422)) {
    if (!single) return {Verdict::kSplit, SubscriptionEffect::kNone, "batch refused: splitting"};
    return {Verdict::kDead, SubscriptionEffect::kNone, "the LRS refused the statement"};
  }
  if (a.status == 401 || a.status == 403) {
    return {Verdict::kRetry, SubscriptionEffect::kCredentialsRefused, "credentials refused"};
  }
  if (a.status == 410) {
    return {Verdict::kRetry, SubscriptionEffect::kDisable, "the receiver answered 410 Gone"};
  }
  return {Verdict::kRetry, SubscriptionEffect::kNone, ""};
}

std::optional<Millis> ParseRetryAfter(std::string_view value, Millis now) {
  // Curl passes the header line on, CRLF included.
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!value.empty() && space(value.front())) value.remove_prefix(1);
  while (!value.empty() && space(value.back())) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (end == value.data() + value.size() && ec != std::errc::invalid_argument) {
    // More seconds than a count of milliseconds holds (or than from_chars
    // reads) is as long as any: the caller clamps it.
    constexpr long long kMaxSeconds = std::numeric_limits<Millis>::max() / 1000;
    if (ec == std::errc::result_out_of_range) seconds = value.front() == '-' ? 0 : kMaxSeconds;
    return std::clamp(seconds, 0LL, kMaxSeconds) * 1000;
  }
  // An HTTP-date: IMF-fixdate, or one of the two obsolete forms a recipient
  // must still read (RFC 9110, 5.6.7): RFC 850's and asctime's.
  std::string text(value);
  for (const char* format :
       {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* parsed = strptime(text.c_str(), format, &tm);
    if (!parsed || *parsed != '\0') continue;
    Millis at = static_cast<Millis>(timegm(&tm)) * 1000;
    return at > now ? at - now : 0;
  }
  return std::nullopt;
}

}  // namespace punt::delivery
