// Reads one event from standard input for the CLI commands that take one.
#pragma once

#include <boost/json/value.hpp>

#include <iosfwd>
#include <optional>

namespace punt::cli {

// Parses and validates the event on `in`. On bad JSON or a catalog problem it
// prints every problem to `err` as "path: message" lines and returns nullopt
// (the caller exits 2).
std::optional<boost::json::value> ReadEvent(std::istream& in, std::ostream& err);

}  // namespace punt::cli
