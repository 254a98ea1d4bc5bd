// Which receiver URLs a subscription may name (DESIGN.md section 5): https
// anywhere; http:// only when every address of its host lies inside an
// --allow-destination range, or with --allow-http.
// Thread-safe: immutable after construction.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "net/cidr.h"

namespace punt::api {

// Resolves a host name to its addresses; empty when it does not resolve.
using Resolver = std::function<std::vector<boost::asio::ip::address>(const std::string& host)>;

// getaddrinfo. Blocks; used for the rare subscription writes only.
std::vector<boost::asio::ip::address> ResolveHost(const std::string& host);

struct DestinationPolicy {
  std::vector<net::Cidr> allowed;
  bool allow_http = false;
  Resolver resolve = ResolveHost;

  // nullopt when `url` (already parsed as absolute http(s)) may be used;
  // otherwise why not.
  std::optional<std::string> CheckScheme(const std::string& scheme, const std::string& host) const;
};

}  // namespace punt::api
