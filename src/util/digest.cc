#include "util/digest.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace punt {
namespace {

EVP_MD* Fetched(DigestKind kind) {
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return kind == DigestKind::kSha1 ? sha1 : sha256;
}

[[noreturn]] void Fail() {
  std::fputs("punt: fatal: a digest (SHA-1 or SHA-256) failed in OpenSSL\n", stderr);
  std::abort();
}

}  // namespace

size_t DigestOf(DigestKind kind, std::span<const std::string_view> pieces, uint8_t* out) {
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  EVP_MD* md = Fetched(kind);
  if (!md || !ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) Fail();
  for (std::string_view piece : pieces) {
    if (EVP_DigestUpdate(ctx.get(), piece.data(), piece.size()) != 1) Fail();
  }
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out, &size) != 1) Fail();
  return size;
}

}  // namespace punt
