#include "xapi/token.h"

#include <algorithm>

#include "util/base64.h"
#include "util/text.h"

namespace punt::xapi {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::string_view StripBasicScheme(std::string_view text) {
  constexpr std::string_view kScheme = "basic";
  if (text.size() <= kScheme.size() || !IsSpace(text[kScheme.size()])) return text;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if ((text[i] | 0x20) != kScheme[i]) return text;
  }
  return Trim(text.substr(kScheme.size()));
}

std::variant<NormalisedToken, TokenError> Encode(std::string_view key, std::string_view secret) {
  if (key.empty()) return TokenError{"the key (before ':') is empty"};
  if (secret.empty()) return TokenError{"the secret (after ':') is empty", true};
  if (HasControlCharacter(key)) return TokenError{"the key contains control characters"};
  if (HasControlCharacter(secret)) {
    return TokenError{"the secret contains control characters", true};
  }
  std::string credentials(key);
  credentials.append(":").append(secret);
  return NormalisedToken{EncodeBase64(credentials), std::string(key)};
}

}  // namespace

std::variant<NormalisedToken, TokenError> NormaliseToken(std::string_view pasted) {
  std::string_view text = StripBasicScheme(Trim(pasted));
  if (text.empty()) return TokenError{"the token is empty"};
  auto decoded = DecodeBase64(text);
  if (!decoded) return TokenError{"the token is not base64"};
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return TokenError{"the token does not decode to key:secret"};
  return Encode(std::string_view(*decoded).substr(0, colon),
                std::string_view(*decoded).substr(colon + 1));
}

std::variant<NormalisedToken, TokenError> TokenFromKeySecret(std::string_view key,
                                                             std::string_view secret) {
  if (key.find(':') != std::string_view::npos) return TokenError{"the key must not contain ':'"};
  return Encode(key, secret);
}

std::string MaskToken(std::string_view header_value) {
  // Characters, not bytes: a webhook's token is any text, and a hint cut
  // inside a UTF-8 character is not text.
  if (CodePoints(header_value) <= 8) return "****";
  auto starts_character = [](char c) { return (c & 0xC0) != 0x80; };
  size_t head = 0;  // where the 5th character starts
  for (int n = 0; head < header_value.size(); ++head) {
    if (starts_character(header_value[head]) && n++ == 4) break;
  }
  size_t tail = header_value.size();  // where the last but one starts
  for (int n = 0; n < 2;) {
    if (starts_character(header_value[--tail])) ++n;
  }
  std::string out(header_value.substr(0, head));
  out.append("****").append(header_value.substr(tail));
  return out;
}

}  // namespace punt::xapi
