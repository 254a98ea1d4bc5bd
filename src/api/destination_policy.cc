#include "api/destination_policy.h"

#include "net/sockaddr.h"

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>

namespace punt::api {

using boost::asio::ip::address;

std::vector<address> ResolveHost(const std::string& host) {
  std::vector<address> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &result) != 0) return out;
  for (addrinfo* ai = result; ai; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) {
      out.push_back(net::AddressOf(ai->ai_addr));
    }
  }
  freeaddrinfo(result);
  return out;
}

std::optional<std::string> DestinationPolicy::CheckScheme(const std::string& scheme,
                                                          const std::string& host) const {
  if (scheme == "https" || allow_http) return std::nullopt;
  const char* refusal =
      "must be https: http:// is accepted only for hosts inside an --allow-destination range, "
      "or with --allow-http";
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  boost::system::error_code ec;
  address literal = boost::asio::ip::make_address(bare, ec);
  std::vector<address> addresses;
  if (!ec) {
    addresses.push_back(literal);
  } else {
    addresses = resolve(bare);
  }
  if (addresses.empty()) return refusal;
  for (const auto& a : addresses) {
    if (!net::AnyContains(allowed, a)) return refusal;
  }
  return std::nullopt;
}

}  // namespace punt::api
