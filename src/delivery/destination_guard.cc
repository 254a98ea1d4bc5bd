#include "delivery/destination_guard.h"

namespace punt::delivery {
namespace {

const std::vector<net::Cidr>& NonPublicRanges() {
  static const std::vector<net::Cidr> ranges = [] {
    std::vector<net::Cidr> out;
    for (const char* text :
         {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
          "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
          "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
          // ::/96 holds ::, ::1 and the IPv4-compatible ::a.b.c.d. The
          // NAT64 prefixes (well-known, local-use), 6to4 and Teredo carry an
          // IPv4 address a gateway may reach inside; fec0::/10 is the old
          // site-local range.
          "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32",
          "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "fd00:ec2::254/128"}) {
      out.push_back(*net::Cidr::Parse(text));
    }
    return out;
  }();
  return ranges;
}

}  // namespace

DestinationGuard::DestinationGuard(std::vector<net::Cidr> allowed) : allowed_(std::move(allowed)) {}

bool DestinationGuard::IsNonPublic(const boost::asio::ip::address& address) {
  return net::AnyContains(NonPublicRanges(), address);
}

bool DestinationGuard::Allows(const boost::asio::ip::address& address) const {
  return !IsNonPublic(address) || net::AnyContains(allowed_, address);
}

}  // namespace punt::delivery
