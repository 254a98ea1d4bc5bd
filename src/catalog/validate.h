// Checks an event against the catalog. Thread-safe: pure functions.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace punt::catalog {

struct Problem {
  std::string path;     // a JSON Pointer relative to the event, "/user/id"
  std::string message;  // "is required", "must be an RFC 3339 timestamp", ...
};

// Every problem with `event`, in field order; empty when the event is valid.
// Fields the catalog does not name are allowed and left alone.
std::vector<Problem> Validate(const boost::json::value& event);

}  // namespace punt::catalog
