#include "cli/event_input.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include "catalog/validate.h"
#include "util/json.h"

namespace punt::cli {

std::optional<std::string> ReadInput(std::string_view command, const std::string& path,
                                     std::ostream& err) {
  const bool use_stdin = path.empty() || path == "-";
  const std::string what = use_stdin ? "standard input" : path;
  int fd = use_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::string text;
  int error = fd < 0 ? errno : 0;
  while (fd >= 0) {
    char buffer[65536];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      error = errno;
      break;
    }
  }
  if (fd >= 0 && !use_stdin) ::close(fd);
  if (error != 0) {
    err << "punt " << command << ": cannot read " << what << ": " << std::strerror(error) << "\n";
    return std::nullopt;
  }
  return text;
}

std::optional<boost::json::value> ReadEvent(std::string_view text, std::ostream& err) {
  boost::system::error_code ec;
  boost::json::value event = ParseJson(text, ec);
  if (ec) {
    err << "punt: the input is not JSON: " << ec.message() << "\n";
    return std::nullopt;
  }
  auto problems = catalog::Validate(event);
  if (!problems.empty()) {
    err << "punt: the event is not valid:\n";
    for (const auto& p : problems) err << "  " << (p.path.empty() ? "/" : p.path) << ": " << p.message << "\n";
    return std::nullopt;
  }
  return event;
}

}  // namespace punt::cli
