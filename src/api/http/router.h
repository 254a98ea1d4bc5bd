// Maps (method, path) to a handler.
//
// Patterns are absolute paths whose segments are literals or `{name}`; `{name}`
// matches one non-empty segment and lands, percent-decoded, in
// Request::params["name"]. A literal segment beats `{name}` at the same place
// ("/v1/subscriptions/test" wins over "/v1/subscriptions/{id}").
// No pattern matches the path: 404 "not_found". A pattern matches but not for
// this method: 405 "method_not_allowed" with an Allow header.
//
// Thread-safety: Add() is not thread-safe and must finish before the server
// starts; Dispatch() is const and may run on many threads at once.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/request.h"
#include "api/http/response.h"

namespace punt::http {

// Sends the response. Call it exactly once, from any thread: the server posts
// it back to the connection's executor. Extra calls are ignored. If every copy
// is destroyed uncalled, the client gets 500 "internal".
using Respond = std::function<void(Response)>;

// Runs on a server thread and must not block; slow work goes elsewhere and
// calls `respond` when done. A handler that throws yields 500 "internal".
using Handler = std::function<void(Request&, Respond)>;

class Router {
 public:
  static constexpr size_t kMaxSegments = 32;

  // Throws std::invalid_argument for a malformed or duplicate route.
  void Add(std::string method, std::string_view pattern, Handler handler);

  // Routes `request` (method set) by `encoded_path`, the path as sent, still
  // percent-encoded and without the query. Fills request.params.
  void Dispatch(Request& request, std::string_view encoded_path, Respond respond) const;

 private:
  struct Segment {
    std::string text;  // The literal, or the parameter name.
    bool is_param = false;
  };
  struct Route {
    std::vector<Segment> segments;
    std::vector<std::pair<std::string, Handler>> methods;
  };

  bool Matches(const Route& route, const std::string_view* segments, size_t count) const;

  std::vector<Route> routes_;  // Most specific first.
};

}  // namespace punt::http
