// A response as handlers build it, and the one JSON error shape of the API:
//   {"error":{"code":"not_found","message":"...","fields":[{"path":"/0/id","message":"..."}]}}
// ("fields" is always present, possibly empty).
//
// The server adds Content-Length, Content-Type (from content_type), Server and,
// when needed, Connection. Handler headers with those names, or with CR/LF in
// them, are dropped. 1xx, 204 and 304 responses are sent without a body.
// Thread-safety: plain values; the helpers are pure.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace punt::http {

struct Response {
  unsigned status = 200;
  // Static text (a literal): a response is built on one thread and may be
  // written on another, and a std::string of this one would be a heap copy
  // (past the 15 bytes kept inline) in every response.
  std::string_view content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One invalid input: `path` is a JSON Pointer from the body root.
struct FieldError {
  std::string path;
  std::string message;
};

Response Json(unsigned status, const boost::json::value& body);
Response Text(unsigned status, std::string body,
              std::string_view content_type = "text/plain; charset=utf-8");
Response Error(unsigned status, std::string_view code, std::string_view message,
               std::vector<FieldError> fields = {});

}  // namespace punt::http
