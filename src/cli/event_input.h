// Reads the input of the CLI commands that take a file or standard input, and
// the one event some of them take.
#pragma once

#include <boost/json/value.hpp>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace punt::cli {

// All of the file at `path`, or of standard input when `path` is empty or "-".
// A read that fails (a directory, an I/O error) is not taken for an empty
// input: it prints "punt COMMAND: cannot read WHAT: REASON" to `err` and
// returns nullopt (the caller exits 2).
std::optional<std::string> ReadInput(std::string_view command, const std::string& path,
                                     std::ostream& err);

// Parses and validates the event in `text`. On bad JSON or a catalog problem
// it prints every problem to `err` as "path: message" lines and returns
// nullopt (the caller exits 2).
std::optional<boost::json::value> ReadEvent(std::string_view text, std::ostream& err);

}  // namespace punt::cli
