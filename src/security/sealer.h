// Authenticated encryption of secrets at rest (LRS tokens, signing secrets)
// with AES-256-GCM under one 32-byte master key.
//
// Sealed format: 1 version byte (1) | 12-byte random nonce | ciphertext | 16-byte tag.
// The version byte and `associated_data` are authenticated but not stored:
// pass the same associated data (e.g. the owning row's id) to Open, so a sealed
// value copied to another row does not open there.
//
// Thread-safe: a Sealer is immutable after construction and each call uses its
// own EVP_CIPHER_CTX. Random nonces: keep well under 2^32 seals per key.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace punt::security {

class Sealer {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;
  static constexpr unsigned char kVersion = 1;
  static constexpr size_t kOverhead = 1 + kNonceSize + kTagSize;  // sealed - plaintext size
  static constexpr std::string_view kEnvVar = "PUNT_MASTER_KEY";
  static constexpr std::string_view kKeyFileName = "master.key";

  // A Sealer with `key` (raw bytes); nullopt unless it is exactly 32 bytes.
  static std::optional<Sealer> FromKey(std::string_view key);

  // The master key, from the environment or the data directory:
  // - If PUNT_MASTER_KEY is set (even empty), it must be 64 hex digits or base64
  //   (either alphabet, padding optional) of exactly 32 bytes; else an error.
  // - Otherwise `data_dir`/master.key (base64 text of 32 bytes) is read; it must
  //   not be accessible by group or others (the error says to chmod 600).
  // - If that file does not exist, `data_dir` is created (0700) if needed and a
  //   new random key is written there with mode 0600.
  // Returns nullopt with `*error` set on failure; errors never contain key material.
  static std::optional<Sealer> FromEnvironmentOrKeyFile(const std::filesystem::path& data_dir,
                                                        std::string* error);

  Sealer(const Sealer&) = default;
  Sealer& operator=(const Sealer&) = default;
  ~Sealer();

  // Encrypts `plaintext` under a fresh random nonce. Aborts if OpenSSL fails
  // (it cannot for valid inputs).
  std::string Seal(std::string_view plaintext, std::string_view associated_data = {}) const;

  // The plaintext of `sealed`, or nullopt if it is malformed, has another
  // version, was sealed with another key or other associated data, or was
  // altered in any way.
  std::optional<std::string> Open(std::string_view sealed,
                                  std::string_view associated_data = {}) const;

 private:
  Sealer() = default;

  std::array<unsigned char, kKeySize> key_{};
};

// Decodes a master key written as 64 hex digits or as base64 (either
// alphabet); nullopt unless the result is exactly 32 bytes. Surrounding
// whitespace is ignored.
std::optional<std::string> DecodeMasterKey(std::string_view text);

}  // namespace punt::security
