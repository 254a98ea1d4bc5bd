// The xAPI Basic auth token: base64("key:secret") in the standard alphabet,
// padded (RFC 7617), whatever form the admin pasted. Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace punt::xapi {

struct TokenError {
  std::string message;
  bool in_secret = false;  // the secret (after ':') is at fault, not the key
};

struct NormalisedToken {
  std::string header_value;  // standard padded base64, sent after "Basic "
  std::string key;           // the part before ':', safe to show
};

// Accepts a pasted token: surrounding whitespace and a leading "Basic "
// (any case) are dropped, and either base64 alphabet is decoded with or
// without padding. The decoded text must be `key:secret`, both non-empty,
// without control characters.
std::variant<NormalisedToken, TokenError> NormaliseToken(std::string_view pasted);

// Encodes `key:secret`. The key must not contain ':'; neither may be empty or
// hold control characters.
std::variant<NormalisedToken, TokenError> TokenFromKeySecret(std::string_view key,
                                                             std::string_view secret);

// The first 4 characters + "****" + the last 2 when longer than 8, else
// "****": enough to tell tokens apart, never enough to use one.
std::string MaskToken(std::string_view header_value);

}  // namespace punt::xapi
