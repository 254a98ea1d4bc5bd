#include "util/uuid.h"

#include <array>
#include <cstdint>
#include <stdexcept>

#include "util/digest.h"

namespace punt {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<uint8_t, 16> ParseUuid(std::string_view text) {
  std::array<uint8_t, 16> bytes{};
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-') continue;
    int hi = HexValue(text[i]);
    int lo = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
    if (hi < 0 || lo < 0 || n == 16) throw std::invalid_argument("bad UUID namespace");
    bytes[n++] = uint8_t(hi << 4 | lo);
    ++i;
  }
  if (n != 16) throw std::invalid_argument("bad UUID namespace");
  return bytes;
}

}  // namespace

std::string Uuid5(std::string_view name_space, std::string_view name) {
  auto ns = ParseUuid(name_space);
  uint8_t digest[kMaxDigestBytes];
  DigestOf(DigestKind::kSha1,
           {std::string_view(reinterpret_cast<const char*>(ns.data()), ns.size()), name}, digest);
  digest[6] = uint8_t((digest[6] & 0x0f) | 0x50);
  digest[8] = uint8_t((digest[8] & 0x3f) | 0x80);

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace punt
