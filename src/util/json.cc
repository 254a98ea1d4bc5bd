#include "util/json.h"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>

namespace punt {
namespace {

void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {  // JSON has no NaN or infinity; parsers never produce them.
    out += "null";
    return;
  }
  if (d == std::floor(d) && std::fabs(d) < 1e15) {
    out += std::to_string(static_cast<long long>(d));
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, end);
}

}  // namespace

void AppendJson(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case boost::json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case boost::json::kind::double_:
      AppendDouble(out, v.get_double());
      break;
    case boost::json::kind::string:
      out += boost::json::serialize(v.get_string());
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendJson(out, item);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string_view(key));
        out += ':';
        AppendJson(out, item);
      }
      out += '}';
      break;
    }
  }
}

std::string ToJson(const boost::json::value& value) {
  std::string out;
  AppendJson(out, value);
  return out;
}

}  // namespace punt
