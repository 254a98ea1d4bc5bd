// JSON Pointers (RFC 6901) for the problems the API reports.
#pragma once

#include <string>
#include <string_view>

namespace punt {

// Appends "/" and `key` as one reference token: "~" as "~0", "/" as "~1".
inline void AppendPointerKey(std::string& pointer, std::string_view key) {
  pointer += '/';
  for (char c : key) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer += c;
    }
  }
}

// The pointer to `key` in the top-level object.
inline std::string PointerToKey(std::string_view key) {
  std::string out;
  AppendPointerKey(out, key);
  return out;
}

}  // namespace punt
