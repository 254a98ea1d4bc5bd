#include "webhook/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <stdexcept>

#include "util/base64.h"

namespace punt::webhook {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::string_view kVersionPrefix = "v1,";

std::optional<int64_t> ParseSeconds(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string GenerateSecret() {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) throw std::runtime_error("RAND_bytes failed");
  std::string out(kSecretPrefix);
  out += EncodeBase64(std::string_view(reinterpret_cast<const char*>(key), sizeof key));
  OPENSSL_cleanse(key, sizeof key);
  return out;
}

std::optional<std::string> DecodeSecret(std::string_view whsec) {
  if (whsec.starts_with(kSecretPrefix)) whsec.remove_prefix(kSecretPrefix.size());
  auto key = DecodeBase64(whsec);
  if (!key || key->empty()) return std::nullopt;
  return key;
}

std::string Sign(std::string_view secret_bytes, std::string_view msg_id, int64_t timestamp,
                 std::string_view body) {
  std::string to_sign;
  to_sign.reserve(msg_id.size() + body.size() + 24);
  to_sign.append(msg_id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (!HMAC(EVP_sha256(), secret_bytes.data(), static_cast<int>(secret_bytes.size()),
            reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac,
            &mac_size)) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  std::string out(kVersionPrefix);
  out += EncodeBase64(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
  return out;
}

std::string SignatureHeader(std::span<const std::string> secrets_bytes, std::string_view msg_id,
                            int64_t timestamp, std::string_view body) {
  std::string out;
  for (const auto& secret : secrets_bytes) {
    if (!out.empty()) out += ' ';
    out += Sign(secret, msg_id, timestamp, body);
  }
  return out;
}

Headers MakeHeaders(std::span<const std::string> secrets_bytes, std::string_view msg_id,
                    int64_t timestamp, std::string_view body) {
  return {std::string(msg_id), std::to_string(timestamp),
          SignatureHeader(secrets_bytes, msg_id, timestamp, body)};
}

std::string_view Describe(VerifyResult result) {
  switch (result) {
    case VerifyResult::kOk:
      return "verified";
    case VerifyResult::kBadSecret:
      return "the secret is not base64 (whsec_...)";
    case VerifyResult::kBadTimestamp:
      return "the timestamp is not a number of seconds";
    case VerifyResult::kTimestampTooOld:
      return "the timestamp is too old";
    case VerifyResult::kTimestampTooNew:
      return "the timestamp is too far in the future";
    case VerifyResult::kNoMatchingSignature:
      return "no v1 signature matches";
  }
  return "unknown result";
}

VerifyResult Verify(std::string_view whsec_secret, std::string_view msg_id,
                    std::string_view timestamp_header, std::string_view signature_header,
                    std::string_view body, int64_t now_seconds, int64_t tolerance_seconds) {
  auto key = DecodeSecret(whsec_secret);
  if (!key) return VerifyResult::kBadSecret;
  auto timestamp = ParseSeconds(timestamp_header);
  if (!timestamp) return VerifyResult::kBadTimestamp;
  if (*timestamp < now_seconds - tolerance_seconds) return VerifyResult::kTimestampTooOld;
  if (*timestamp > now_seconds + tolerance_seconds) return VerifyResult::kTimestampTooNew;

  std::string expected = Sign(*key, msg_id, *timestamp, body);
  bool matched = false;
  while (!signature_header.empty()) {
    size_t space = signature_header.find(' ');
    std::string_view entry = signature_header.substr(0, space);
    signature_header.remove_prefix(space == std::string_view::npos ? signature_header.size()
                                                                   : space + 1);
    if (entry.starts_with(kVersionPrefix)) matched |= ConstantTimeEqual(entry, expected);
  }
  return matched ? VerifyResult::kOk : VerifyResult::kNoMatchingSignature;
}

}  // namespace punt::webhook
