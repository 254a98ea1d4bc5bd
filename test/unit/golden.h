// Golden-file helpers: expected bytes live in test/golden/. Set
// PUNT_UPDATE_GOLDEN=1 to rewrite them from the code (then review the diff).
#pragma once

#include <boost/json/parse.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace punt::testing {

inline std::filesystem::path GoldenDir() {
  return std::filesystem::path(PUNT_SOURCE_DIR) / "test" / "golden";
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline boost::json::value ReadEventFile(const std::string& type) {
  return boost::json::parse(ReadFile(GoldenDir() / "events" / (type + ".json")));
}

// Compares `actual` with the golden file's bytes (a trailing newline is not
// part of the body), or rewrites the file when PUNT_UPDATE_GOLDEN is set.
inline std::string Golden(const std::filesystem::path& relative, const std::string& actual) {
  auto path = GoldenDir() / relative;
  if (std::getenv("PUNT_UPDATE_GOLDEN")) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual << "\n";
  }
  std::string expected = ReadFile(path);
  if (!expected.empty() && expected.back() == '\n') expected.pop_back();
  return expected;
}

}  // namespace punt::testing
