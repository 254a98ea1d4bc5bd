#include "cli/event_input.h"

#include <boost/json/parse.hpp>

#include <iostream>
#include <iterator>
#include <string>

#include "catalog/validate.h"

namespace punt::cli {

std::optional<boost::json::value> ReadEvent(std::istream& in, std::ostream& err) {
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  boost::system::error_code ec;
  boost::json::value event = boost::json::parse(text, ec);
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
