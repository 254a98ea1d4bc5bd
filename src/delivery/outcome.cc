#include "delivery/outcome.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <limits>
#include <string>

namespace punt::delivery {

Outcome Classify(const Answer& a) {
  if (a.status >= 200 && a.status < 300) return {Verdict::kDelivered, SubscriptionEffect::kNone, ""};
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
