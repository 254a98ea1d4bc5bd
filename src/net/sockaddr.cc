#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

namespace punt::net {

boost::asio::ip::address AddressOf(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return boost::asio::ip::address_v4(ntohl(in->sin_addr.s_addr));
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  boost::asio::ip::address_v6::bytes_type bytes;
  std::copy(in6->sin6_addr.s6_addr, in6->sin6_addr.s6_addr + 16, bytes.begin());
  return boost::asio::ip::address_v6(bytes);
}

}  // namespace punt::net
