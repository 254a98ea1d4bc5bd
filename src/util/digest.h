// SHA-1 and SHA-256 of a few pieces of text, for paths that hash per request
// (the API key of every request, the webhook id of every delivery).
//
// OpenSSL 3's one-shot calls (SHA1(), EVP_Digest with EVP_sha256()) look the
// algorithm up on every call, and EVP_Digest makes and frees a context each
// time; here each algorithm is fetched once and each thread keeps one
// context. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

namespace punt {

enum class DigestKind { kSha1, kSha256 };

inline constexpr size_t kMaxDigestBytes = 32;

// Writes the digest of the pieces, one after the other, to `out` (room for
// kMaxDigestBytes); returns its size (20 or 32). Aborts if OpenSSL fails,
// which only a broken installation does.
size_t DigestOf(DigestKind kind, std::span<const std::string_view> pieces, uint8_t* out);
inline size_t DigestOf(DigestKind kind, std::initializer_list<std::string_view> pieces,
                       uint8_t* out) {
  return DigestOf(kind, std::span<const std::string_view>(pieces.begin(), pieces.size()), out);
}

}  // namespace punt
