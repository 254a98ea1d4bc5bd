#include "util/uuid.h"

#include <array>
#include <cstdint>
#include <iterator>
#include <span>
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

void AppendUuid5(std::string& out, std::string_view name_space,
                 std::initializer_list<std::string_view> name_pieces) {
  auto ns = ParseUuid(name_space);
  std::string_view pieces[8];
  size_t n = 0;
  pieces[n++] = std::string_view(reinterpret_cast<const char*>(ns.data()), ns.size());
  for (std::string_view piece : name_pieces) {
    if (n == std::size(pieces)) throw std::invalid_argument("too many UUID name pieces");
    pieces[n++] = piece;
  }
  uint8_t digest[kMaxDigestBytes];
  DigestOf(DigestKind::kSha1, std::span<const std::string_view>(pieces, n), digest);
  digest[6] = uint8_t((digest[6] & 0x0f) | 0x50);
  digest[8] = uint8_t((digest[8] & 0x3f) | 0x80);

  static constexpr char kHex[] = "0123456789abcdef";
  const size_t start = out.size();
  out.resize(start + 36);
  char* o = out.data() + start;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
    *o++ = kHex[digest[i] >> 4];
    *o++ = kHex[digest[i] & 15];
  }
}

std::string Uuid5(std::string_view name_space, std::string_view name) {
  std::string out;
  AppendUuid5(out, name_space, {name});
  return out;
}

}  // namespace punt
