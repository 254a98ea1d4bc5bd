// Deterministic JSON text for the bodies punt stores and sends.
// Thread-safe: pure functions.
#pragma once

#include <boost/json/parse_options.hpp>
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

// JSON text that parses but that ParseJson refuses, because the value it
// would make could not carry what was sent.
enum class JsonRefusal {
  kDuplicateKey = 1,  // an object with the same key twice (the last would win)
  kIntegerTooLarge,   // an integer past 64 bits (it would become a rounded double)
};
boost::system::error_code MakeErrorCode(JsonRefusal refusal);
// True when `ec` is one of JsonRefusal's.
bool IsJsonRefusal(const boost::system::error_code& ec);

// `text` as one JSON value, as boost::json::parse would, except that every
// number with a fraction or an exponent is the double nearest to its digits.
// Boost.JSON 1.81 reads some of them one unit in the last place off
// (12132.633886030113 as 12132.633886030111), and a webhook body written
// from such a value would not carry the number the platform sent. A number
// past a double's range is what Boost.JSON makes of it (+-infinity, 0).
// Refused (ec in JsonRefusal's category): an object holding a key twice,
// which Boost.JSON would keep once, silently (last wins), and an integer
// past 64 bits, which it would round to a double (123456789012345678901234567890
// as 1.2345678901234568e+29).
// `temp`, when given, is where the parser's stack starts.
boost::json::value ParseJson(std::string_view text, boost::system::error_code& ec,
                             boost::json::storage_ptr storage = {},
                             const boost::json::parse_options& options = {},
                             unsigned char* temp = nullptr, size_t temp_size = 0);

}  // namespace punt
