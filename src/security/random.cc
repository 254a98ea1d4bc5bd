#include "security/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "util/base64.h"

namespace punt::security {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  auto* data = reinterpret_cast<unsigned char*>(out.data());
  size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<size_t>(n - done, INT_MAX));
    if (RAND_bytes(data + done, chunk) != 1) {
      std::fputs("punt: fatal: RAND_bytes failed; the system random generator is unusable\n",
                 stderr);
      std::abort();
    }
    done += static_cast<size_t>(chunk);
  }
  return out;
}

std::string NewId(std::string_view prefix) {
  static constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
  constexpr int kChars = 20;                       // 20 * 5 = 100 bits
  std::string bytes = RandomBytes((kChars * 5 + 7) / 8);  // 13 bytes, 4 bits unused
  std::string out;
  out.reserve(prefix.size() + 1 + kChars);
  out.append(prefix);
  out += '_';
  uint32_t buffer = 0;
  int bits = 0;
  size_t next = 0;
  for (int i = 0; i < kChars; ++i) {
    if (bits < 5) {
      buffer = (buffer << 8) | static_cast<uint8_t>(bytes[next++]);
      bits += 8;
    }
    out += kBase32[(buffer >> (bits - 5)) & 31];
    bits -= 5;
  }
  return out;
}

std::string Base64Url(std::string_view bytes) {
  std::string out = EncodeBase64(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

}  // namespace punt::security
