// Address ranges (CIDR) for --allow-destination and the destination guard.
// Thread-safe: values.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace punt::net {

class Cidr {
 public:
  // "127.0.0.0/8", "::1/128", or a bare address (a single host).
  static std::optional<Cidr> Parse(std::string_view text);

  bool Contains(const boost::asio::ip::address& address) const;
  std::string ToString() const;

 private:
  boost::asio::ip::address base_;
  unsigned prefix_ = 0;
};

bool AnyContains(const std::vector<Cidr>& ranges, const boost::asio::ip::address& address);

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it maps.
boost::asio::ip::address Unmapped(const boost::asio::ip::address& address);

}  // namespace punt::net
