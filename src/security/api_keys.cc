#include "security/api_keys.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "security/key_file.h"
#include "security/random.h"
#include "util/digest.h"

namespace punt::security {
namespace {

bool IsTokenChar(char c) { return c > 0x20 && c < 0x7f; }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string NewRandomKey(std::string_view prefix) {
  std::string raw = RandomBytes(32);
  std::string key = std::string(prefix) + Base64Url(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

bool IsUsableAdminKey(std::string_view key) {
  return key.size() >= kMinAdminKeyLength && std::all_of(key.begin(), key.end(), IsTokenChar);
}

}  // namespace

std::string GenerateApiKey() { return NewRandomKey(kApiKeyPrefix); }

std::string HashApiKey(std::string_view key) {
  uint8_t digest[kMaxDigestBytes];
  const size_t size = DigestOf(DigestKind::kSha256, {key}, digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (size_t i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view BearerToken(std::string_view authorization_header) {
  std::string_view header = TrimWhitespace(authorization_header);
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (Lower(header[i]) != kScheme[i]) return {};
  }
  if (header[kScheme.size()] != ' ' && header[kScheme.size()] != '\t') return {};
  std::string_view token = TrimWhitespace(header.substr(kScheme.size()));
  if (token.empty() || !std::all_of(token.begin(), token.end(), IsTokenChar)) return {};
  return token;
}

std::optional<AdminKey> LoadOrCreateAdminKey(const std::filesystem::path& data_dir,
                                             std::string_view configured, std::string* error) {
  if (!configured.empty()) {
    if (!IsUsableAdminKey(configured)) {
      *error = "the configured admin key must be at least " + std::to_string(kMinAdminKeyLength) +
               " printable characters without spaces";
      return std::nullopt;
    }
    return AdminKey{std::string(configured), {}, false};
  }
  std::optional<KeyFileContents> file = ReadOrCreateKeyFile(
      data_dir, kAdminKeyFileName, [] { return NewRandomKey(kAdminKeyPrefix); }, error);
  if (!file) return std::nullopt;
  std::filesystem::path path = data_dir / kAdminKeyFileName;
  if (!IsUsableAdminKey(file->text)) {
    OPENSSL_cleanse(file->text.data(), file->text.size());
    *error = path.string() + " must hold at least " + std::to_string(kMinAdminKeyLength) +
             " printable characters without spaces";
    return std::nullopt;
  }
  return AdminKey{std::move(file->text), path, file->created};
}

}  // namespace punt::security
