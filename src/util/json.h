// Deterministic JSON text for the bodies punt stores and sends.
// Thread-safe: pure functions.
#pragma once

#include <boost/json/value.hpp>

#include <string>

namespace punt {

// Compact JSON with keys in insertion order. Unlike boost::json::serialize,
// numbers are written the way people write them (`0.92`, `100`, not `9.2E-1`).
std::string ToJson(const boost::json::value& value);
void AppendJson(std::string& out, const boost::json::value& value);

}  // namespace punt
