// Timestamps: RFC 3339 parsing and the fixed formats punt writes.
// Thread-safe: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace punt {

// Milliseconds since the Unix epoch, UTC.
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`. Fractions beyond
// milliseconds are truncated. Returns nullopt when the text is not RFC 3339 or
// names a date that does not exist.
std::optional<TimePoint> ParseRfc3339(std::string_view text);

// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
std::string FormatTimestamp(TimePoint t);
// The same, appended to `out` (no string of its own).
void AppendTimestamp(std::string& out, TimePoint t);

// An ISO 8601 duration such as `PT1H20M3.25S`, to hundredths of a second.
// REQUIRES: duration >= 0.
std::string FormatIsoDuration(std::chrono::milliseconds duration);

}  // namespace punt
