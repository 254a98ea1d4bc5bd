// API keys: generation, hashing for storage, comparison, the Authorization
// header, and the admin key. Keys are shown once and stored only as hashes.
// Thread-safe: no shared state (LoadOrCreateAdminKey is also safe against a
// second process starting on the same data directory).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace punt::security {

inline constexpr std::string_view kApiKeyPrefix = "punt_";
inline constexpr std::string_view kAdminKeyPrefix = "punt_admin_";
inline constexpr std::string_view kAdminKeyFileName = "admin.key";
inline constexpr size_t kMinAdminKeyLength = 16;

// "punt_" + Base64Url(32 random bytes): 48 characters, 256 random bits.
std::string GenerateApiKey();

// Lowercase hex SHA-256 of `key` (64 characters): what the store keeps.
std::string HashApiKey(std::string_view key);

// True if `a` and `b` are equal, in time that depends only on their lengths
// (unequal lengths return false at once: compare hashes, which have one length).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The credential of an `Authorization: Bearer <token>` header value: the
// scheme is matched case-insensitively and must be followed by whitespace;
// surrounding whitespace is trimmed. Empty if the scheme is not Bearer, the
// token is empty, or the token contains whitespace or control characters.
// A view into `authorization_header`.
std::string_view BearerToken(std::string_view authorization_header);

struct AdminKey {
  std::string key;
  std::filesystem::path file;  // where it is kept; empty if configured
  bool generated;              // true if this call made it (print it once)
};

// The admin key:
// - `configured` (e.g. from the environment) if non-empty; it must be at least
//   16 characters of printable, non-space ASCII, else an error.
// - Otherwise `data_dir`/admin.key if it exists (trimmed; not accessible by
//   group or others, or an error says to chmod 600; at least 16 characters).
// - Otherwise a new "punt_admin_" + Base64Url(32 random bytes) saved there
//   with mode 0600 (`data_dir` created 0700 if missing); generated = true.
// Returns nullopt with `*error` set on failure; errors never contain the key.
std::optional<AdminKey> LoadOrCreateAdminKey(const std::filesystem::path& data_dir,
                                             std::string_view configured, std::string* error);

}  // namespace punt::security
