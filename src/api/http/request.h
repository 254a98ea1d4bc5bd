// One parsed HTTP request as handlers see it. A plain value with no Beast or
// Asio types, so handler tests can build one by hand.
//
// Lifetime: the server hands a handler `Request&` and keeps that object alive
// and untouched until the handler's Respond is called; the handler may move
// out of it (the body, say). After Respond, the server reuses the object.
// Thread-safety: none; a Request belongs to one request at a time.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace punt::http {

struct Request {
  std::string method;                                        // As sent: "GET", "POST".
  std::string path;                                          // Percent-decoded, no query.
  std::map<std::string, std::string> query;                  // Decoded; '+' is a space; first wins.
  std::map<std::string, std::string> params;                 // From the route's {name} segments.
  std::vector<std::pair<std::string, std::string>> headers;  // In arrival order.
  std::string body;
  std::string remote;  // Peer "ip:port" ("[::1]:port" for IPv6).

  // The first header named `name` (ASCII case-insensitive), or "" if absent.
  std::string_view Header(std::string_view name) const;
};

// ASCII case-insensitive equality, as header names compare.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace punt::http
