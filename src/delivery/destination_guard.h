// Refuses deliveries to loopback, private, link-local and metadata addresses
// unless an --allow-destination range holds them (DESIGN.md section 5). The
// check runs on the resolved address at connect time, so DNS cannot smuggle
// a private address past it. Thread-safe: immutable after construction.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <vector>

#include "net/cidr.h"

namespace punt::delivery {

class DestinationGuard {
 public:
  explicit DestinationGuard(std::vector<net::Cidr> allowed);

  bool Allows(const boost::asio::ip::address& address) const;

  // True for addresses that are not on the public internet: loopback,
  // private (RFC 1918, ULA), link-local, carrier-grade NAT, unspecified,
  // multicast, documentation and benchmark ranges, and cloud metadata.
  static bool IsNonPublic(const boost::asio::ip::address& address);

 private:
  std::vector<net::Cidr> allowed_;
};

}  // namespace punt::delivery
