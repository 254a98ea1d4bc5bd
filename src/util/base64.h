// Base64 in the standard alphabet (RFC 4648 section 4) and a lenient decoder.
// Thread-safe: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace punt {

// Standard alphabet, padded.
std::string EncodeBase64(std::string_view bytes);
// The same, written at the end of `out` (no string of its own).
void AppendBase64(std::string& out, std::string_view bytes);

// Decodes the standard or the URL-safe alphabet (`-`, `_`, even mixed), with
// or without `=` padding. Returns nullopt on any other character, a misplaced
// `=`, a length no encoder produces, or non-zero trailing bits.
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace punt
