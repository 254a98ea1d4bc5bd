#include "security/sealer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "security/key_file.h"
#include "security/random.h"
#include "util/base64.h"

namespace punt::security {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

[[noreturn]] void Fatal(const char* what) {
  std::fprintf(stderr, "punt: fatal: AES-256-GCM %s failed\n", what);
  std::abort();
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// EVP_*Update take int lengths; feed larger inputs in pieces. `out` may be
// null for associated data. Returns false on an OpenSSL failure.
template <typename UpdateFn>
bool UpdateInChunks(UpdateFn update, EVP_CIPHER_CTX* ctx, unsigned char* out,
                    std::string_view in, size_t* written) {
  *written = 0;
  while (!in.empty()) {
    int chunk = static_cast<int>(std::min<size_t>(in.size(), INT_MAX / 2));
    int len = 0;
    if (update(ctx, out ? out + *written : nullptr, &len, Bytes(in), chunk) != 1) return false;
    *written += static_cast<size_t>(len);
    in.remove_prefix(static_cast<size_t>(chunk));
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> DecodeMasterKey(std::string_view text) {
  text = TrimWhitespace(text);
  std::string key;
  if (text.size() == 2 * Sealer::kKeySize &&
      std::all_of(text.begin(), text.end(), [](char c) { return HexValue(c) >= 0; })) {
    key.reserve(Sealer::kKeySize);
    for (size_t i = 0; i < text.size(); i += 2) {
      key += static_cast<char>(HexValue(text[i]) << 4 | HexValue(text[i + 1]));
    }
    return key;
  }
  std::optional<std::string> decoded = DecodeBase64(text);
  if (!decoded) return std::nullopt;
  if (decoded->size() != Sealer::kKeySize) {
    OPENSSL_cleanse(decoded->data(), decoded->size());
    return std::nullopt;
  }
  return decoded;
}

std::optional<Sealer> Sealer::FromKey(std::string_view key) {
  if (key.size() != kKeySize) return std::nullopt;
  Sealer sealer;
  std::memcpy(sealer.key_.data(), key.data(), kKeySize);
  return sealer;
}

std::optional<Sealer> Sealer::FromEnvironmentOrKeyFile(const std::filesystem::path& data_dir,
                                                       std::string* error) {
  std::string env_name(kEnvVar);
  if (const char* env = std::getenv(env_name.c_str())) {
    std::optional<std::string> key = DecodeMasterKey(env);
    if (!key) {
      *error = env_name + " must be 64 hex digits or base64 of exactly 32 bytes";
      return std::nullopt;
    }
    std::optional<Sealer> sealer = FromKey(*key);
    OPENSSL_cleanse(key->data(), key->size());
    return sealer;
  }
  auto make = [] {
    std::string raw = RandomBytes(kKeySize);
    std::string text = EncodeBase64(raw);
    OPENSSL_cleanse(raw.data(), raw.size());
    return text;
  };
  std::optional<KeyFileContents> file = ReadOrCreateKeyFile(data_dir, kKeyFileName, make, error);
  if (!file) return std::nullopt;
  std::optional<std::string> key = DecodeMasterKey(file->text);
  OPENSSL_cleanse(file->text.data(), file->text.size());
  if (!key) {
    *error = (data_dir / kKeyFileName).string() +
             " does not hold a master key (base64 of exactly 32 bytes)";
    return std::nullopt;
  }
  std::optional<Sealer> sealer = FromKey(*key);
  OPENSSL_cleanse(key->data(), key->size());
  return sealer;
}

Sealer::~Sealer() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string Sealer::Seal(std::string_view plaintext, std::string_view associated_data) const {
  std::string nonce = RandomBytes(kNonceSize);
  std::string out(1 + kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  buf[0] = kVersion;
  std::memcpy(buf + 1, nonce.data(), kNonceSize);
  unsigned char* ciphertext = buf + 1 + kNonceSize;

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) Fatal("context allocation");
  if (EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key_.data(), buf + 1, nullptr) != 1) {
    Fatal("init");
  }
  std::string_view version(out.data(), 1);
  size_t n = 0;
  if (!UpdateInChunks(EVP_EncryptUpdate, ctx.get(), nullptr, version, &n) ||
      !UpdateInChunks(EVP_EncryptUpdate, ctx.get(), nullptr, associated_data, &n)) {
    Fatal("associated data");
  }
  size_t written = 0;
  if (!UpdateInChunks(EVP_EncryptUpdate, ctx.get(), ciphertext, plaintext, &written)) {
    Fatal("encrypt");
  }
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), ciphertext + written, &final_len) != 1) Fatal("final");
  written += static_cast<size_t>(final_len);
  if (written != plaintext.size()) Fatal("length check");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize),
                          ciphertext + written) != 1) {
    Fatal("tag");
  }
  return out;
}

std::optional<std::string> Sealer::Open(std::string_view sealed,
                                        std::string_view associated_data) const {
  if (sealed.size() < kOverhead || static_cast<unsigned char>(sealed[0]) != kVersion) {
    return std::nullopt;
  }
  std::string_view version = sealed.substr(0, 1);
  std::string_view nonce = sealed.substr(1, kNonceSize);
  std::string_view ciphertext = sealed.substr(1 + kNonceSize, sealed.size() - kOverhead);
  std::string tag(sealed.substr(sealed.size() - kTagSize));

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::nullopt;
  if (EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), key_.data(), Bytes(nonce), nullptr) !=
      1) {
    return std::nullopt;
  }
  size_t n = 0;
  if (!UpdateInChunks(EVP_DecryptUpdate, ctx.get(), nullptr, version, &n) ||
      !UpdateInChunks(EVP_DecryptUpdate, ctx.get(), nullptr, associated_data, &n)) {
    return std::nullopt;
  }
  // Room for the final call too, which writes nothing for GCM.
  std::string plaintext(ciphertext.size() + 16, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  size_t written = 0;
  int final_len = 0;
  bool ok = UpdateInChunks(EVP_DecryptUpdate, ctx.get(), out, ciphertext, &written) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                                tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), out + written, &final_len) == 1;
  if (!ok) {
    // Never let unauthenticated plaintext linger.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return std::nullopt;
  }
  plaintext.resize(written + static_cast<size_t>(final_len));
  return plaintext;
}

}  // namespace punt::security
