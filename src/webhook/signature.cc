#include "webhook/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <charconv>
#include <functional>
#include <stdexcept>
#include <unordered_map>

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

namespace {

// OpenSSL 3's one-shot HMAC() fetches the algorithm and hashes the key on
// every call. Each thread keeps the keyed contexts of the secrets it signs
// with and re-initialises them with the same key, which costs neither.
class KeyedMacs {
 public:
  KeyedMacs() : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)) {}
  ~KeyedMacs() {
    Clear();
    EVP_MAC_free(mac_);
  }
  KeyedMacs(const KeyedMacs&) = delete;
  KeyedMacs& operator=(const KeyedMacs&) = delete;

  // A context ready for EVP_MAC_update, or null on failure.
  EVP_MAC_CTX* For(std::string_view key) {
    auto it = contexts_.find(key);
    if (it != contexts_.end()) {
      return EVP_MAC_init(it->second, nullptr, 0, nullptr) == 1 ? it->second : nullptr;
    }
    if (!mac_) return nullptr;
    if (contexts_.size() >= kMaxKeys) Clear();  // a bound, not an eviction policy
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac_);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()),
                             key.size(), params) != 1) {
      EVP_MAC_CTX_free(ctx);
      return nullptr;
    }
    contexts_.emplace(std::string(key), ctx);
    return ctx;
  }

 private:
  static constexpr size_t kMaxKeys = 4096;
  void Clear() {
    for (auto& [key, ctx] : contexts_) {
      EVP_MAC_CTX_free(ctx);
      OPENSSL_cleanse(const_cast<char*>(key.data()), key.size());
    }
    contexts_.clear();
  }
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  EVP_MAC* mac_;
  std::unordered_map<std::string, EVP_MAC_CTX*, Hash, std::equal_to<>> contexts_;
};

}  // namespace

namespace {

// Writes "v1," + the base64 of HMAC-SHA256(key, "{msg_id}.{seconds}.{body}")
// at the end of `out`.
void AppendSigned(std::string& out, std::string_view secret_bytes, std::string_view msg_id,
                  std::string_view seconds, std::string_view body) {
  thread_local KeyedMacs macs;
  EVP_MAC_CTX* ctx = macs.For(secret_bytes);
  auto update = [ctx](std::string_view part) {
    return EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()),
                          part.size()) == 1;
  };
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_size = 0;
  if (!ctx || !update(msg_id) || !update(".") || !update(seconds) || !update(".") ||
      !update(body) || EVP_MAC_final(ctx, mac, &mac_size, sizeof mac) != 1) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  out += kVersionPrefix;
  AppendBase64(out, std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

// The decimal text of `seconds`, in `buffer`.
std::string_view SecondsText(int64_t seconds, char (&buffer)[24]) {
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, seconds);
  return std::string_view(buffer, end - buffer);
}

constexpr size_t kSignatureSize = 3 + 44;  // "v1," + base64 of 32 bytes

}  // namespace

std::string Sign(std::string_view secret_bytes, std::string_view msg_id, int64_t timestamp,
                 std::string_view body) {
  char buffer[24];
  std::string out;
  out.reserve(kSignatureSize);
  AppendSigned(out, secret_bytes, msg_id, SecondsText(timestamp, buffer), body);
  return out;
}

void AppendSignatureHeader(std::string& out, std::span<const std::string> secrets_bytes,
                           std::string_view msg_id, int64_t timestamp, std::string_view body) {
  char buffer[24];
  std::string_view seconds = SecondsText(timestamp, buffer);
  out.reserve(out.size() + secrets_bytes.size() * (kSignatureSize + 1));
  for (size_t i = 0; i < secrets_bytes.size(); ++i) {
    if (i > 0) out += ' ';
    AppendSigned(out, secrets_bytes[i], msg_id, seconds, body);
  }
}

std::string SignatureHeader(std::span<const std::string> secrets_bytes, std::string_view msg_id,
                            int64_t timestamp, std::string_view body) {
  std::string out;
  AppendSignatureHeader(out, secrets_bytes, msg_id, timestamp, body);
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
