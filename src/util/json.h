// Deterministic JSON text for the bodies punt stores and sends.
// Thread-safe: pure functions.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace punt {

// Compact JSON with keys in insertion order. Unlike boost::json::serialize,
// numbers are written the way people write them (`0.92`, `100`, not `9.2E-1`).
std::string ToJson(const boost::json::value& value);
void AppendJson(std::string& out, const boost::json::value& value);

// `s` with each ill-formed UTF-8 sequence (a stray byte, or a character cut
// short) replaced by U+FFFD. JSON text is UTF-8 (RFC 8259) and AppendJson
// passes strings as they are: bytes from outside, such as a receiver's
// answer kept to its first 4 KiB, go through this first.
std::string ValidUtf8(std::string_view s);

}  // namespace punt
