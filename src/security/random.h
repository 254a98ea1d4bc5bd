// Random bytes and identifiers from the OpenSSL CSPRNG. Thread-safe: RAND_bytes
// is thread-safe in OpenSSL 3 and these functions keep no state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace punt::security {

// `n` cryptographically random bytes. Aborts the process (after a message on
// stderr) if the CSPRNG fails: nothing safe can continue without it.
std::string RandomBytes(size_t n);

// `prefix` + "_" + 20 lowercase RFC 4648 base32 characters (a-z, 2-7) carrying
// 100 random bits, e.g. NewId("sub") == "sub_k3jq...". Unique in practice.
std::string NewId(std::string_view prefix);

// Base64 with the URL-safe alphabet (`-`, `_`) and no `=` padding (RFC 4648
// section 5). DecodeBase64 in util/base64.h reads it back.
std::string Base64Url(std::string_view bytes);

}  // namespace punt::security
