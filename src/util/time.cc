#include "util/time.h"

#include <cstdio>

namespace punt {
namespace {

bool ReadDigits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

}  // namespace

std::optional<TimePoint> ParseRfc3339(std::string_view s) {
  using namespace std::chrono;
  int y, mo, d, h, mi, sec;
  if (!ReadDigits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, mo) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') ||
      !ReadDigits(s, 11, 2, h) || s[13] != ':' || !ReadDigits(s, 14, 2, mi) || s[16] != ':' ||
      !ReadDigits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const bool leap_second = sec == 60;
  if (leap_second) sec = 59;  // A leap second is kept as the second before it.
  year_month_day date{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!date.ok()) return std::nullopt;

  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return std::nullopt;
    for (size_t n = pos - start; n < 3; ++n) millis *= 10;
  }
  if (pos >= s.size()) return std::nullopt;
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!ReadDigits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;

  TimePoint t = time_point_cast<milliseconds>(sys_days{date}) + hours{h} + minutes{mi} +
                seconds{sec} + milliseconds{millis} - minutes{offset_minutes};
  // An offset can move the instant past the four-digit years
  // (9999-12-31T23:30:00-01:00 is in 10000 UTC), which no RFC 3339
  // timestamp written in UTC can show.
  const int utc_year = int(year_month_day{floor<days>(t)}.year());
  if (utc_year < 0 || utc_year > 9999) return std::nullopt;
  // A leap second is inserted after 23:59:59 UTC (RFC 3339 5.7): in an
  // offset's local time it falls in the minute that is 23:59 in UTC. At any
  // other minute the :60 is no time at all (what JSON Schema's date-time
  // format, which the catalog serves, refuses too).
  if (leap_second && floor<minutes>(t) - floor<days>(t) != hours{23} + minutes{59}) {
    return std::nullopt;
  }
  return t;
}

std::string FormatTimestamp(TimePoint t) {
  std::string out;
  AppendTimestamp(out, t);
  return out;
}

void AppendTimestamp(std::string& out, TimePoint t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day date{day};
  long long ms = (t - day).count();  // [0, 86,400,000): floor
  int year = int(date.year());
  if (year < 0 || year > 9999) {  // not RFC 3339; written the way snprintf would
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", year,
                  unsigned(date.month()), unsigned(date.day()), ms / 3600000, ms / 60000 % 60,
                  ms / 1000 % 60, ms % 1000);
    out += buf;
    return;
  }
  // Digits by hand: snprintf was a fifth of building a statement.
  const size_t start = out.size();
  out += "0000-00-00T00:00:00.000Z";
  auto put = [&out, start](size_t end, long long value, int width) {
    for (int i = 0; i < width; ++i, value /= 10) {
      out[start + end - i] = static_cast<char>('0' + value % 10);
    }
  };
  put(3, year, 4);
  put(6, unsigned(date.month()), 2);
  put(9, unsigned(date.day()), 2);
  put(12, ms / 3600000, 2);
  put(15, ms / 60000 % 60, 2);
  put(18, ms / 1000 % 60, 2);
  put(22, ms % 1000, 3);
}

std::string FormatIsoDuration(std::chrono::milliseconds duration) {
  long long centis = duration.count() / 10;
  long long hours = centis / 360000;
  long long minutes = centis / 6000 % 60;
  long long secs = centis / 100 % 60;
  long long frac = centis % 100;
  std::string out = "PT";
  if (hours) out += std::to_string(hours) + "H";
  if (minutes) out += std::to_string(minutes) + "M";
  if (secs || frac || out == "PT") {
    out += std::to_string(secs);
    if (frac) {
      char buf[8];
      std::snprintf(buf, sizeof buf, ".%02lld", frac);
      std::string f = buf;
      if (f.back() == '0') f.pop_back();
      out += f;
    }
    out += "S";
  }
  return out;
}

}  // namespace punt
