// JSON Pointers (RFC 6901) for the problems the API reports.
#pragma once

#include <string>
#include <string_view>

namespace punt {

// "/" and `key` as one reference token: "~" as "~0", "/" as "~1".
inline std::string PointerToKey(std::string_view key) {
  std::string out = "/";
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace punt
