#include "net/cidr.h"

#include <charconv>

namespace punt::net {
namespace {

using boost::asio::ip::address;

template <size_t N>
bool PrefixEqual(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b,
                 unsigned prefix) {
  unsigned full = prefix / 8;
  for (unsigned i = 0; i < full; ++i) {
    if (a[i] != b[i]) return false;
  }
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

address Unmapped(const address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  auto slash = text.find('/');
  boost::system::error_code ec;
  address base = boost::asio::ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return std::nullopt;
  unsigned max = base.is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (err != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
        prefix > max) {
      return std::nullopt;
    }
  }
  // An IPv4-mapped base is its IPv4 address; its prefix counts the 96 bits
  // of ::ffff:0:0/96 too. A shorter one reaches past the mapped range (::/8
  // holds ::1), which no IPv4 range says.
  if (base.is_v6() && base.to_v6().is_v4_mapped()) {
    if (prefix < 96) return std::nullopt;
    base = Unmapped(base);
    prefix -= 96;
  }
  Cidr cidr;
  cidr.base_ = base;
  cidr.prefix_ = prefix;
  return cidr;
}

bool Cidr::Contains(const address& candidate) const {
  address a = Unmapped(candidate);
  if (a.is_v4() != base_.is_v4()) return false;
  if (a.is_v4()) return PrefixEqual(a.to_v4().to_bytes(), base_.to_v4().to_bytes(), prefix_);
  return PrefixEqual(a.to_v6().to_bytes(), base_.to_v6().to_bytes(), prefix_);
}

std::string Cidr::ToString() const { return base_.to_string() + "/" + std::to_string(prefix_); }

bool AnyContains(const std::vector<Cidr>& ranges, const address& a) {
  for (const auto& r : ranges) {
    if (r.Contains(a)) return true;
  }
  return false;
}

}  // namespace punt::net
