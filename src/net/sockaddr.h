// The address inside a socket address (IPv4 or IPv6), as Boost.Asio holds it.
#pragma once

#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>

namespace punt::net {

// REQUIRES: sa->sa_family is AF_INET or AF_INET6.
boost::asio::ip::address AddressOf(const sockaddr* sa);

}  // namespace punt::net
