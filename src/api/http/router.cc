#include "api/http/router.h"

#include <algorithm>
#include <array>
#include <boost/url/pct_string_view.hpp>
#include <stdexcept>

namespace punt::http {
namespace {

// Splits "/a/b" into {"a", "b"}; "/" into {""}. Returns false if the path is
// not absolute or has more than `max` segments.
bool SplitPath(std::string_view path, std::string_view* out, size_t max, size_t* count) {
  if (path.empty() || path[0] != '/') return false;
  size_t n = 0;
  size_t start = 1;
  while (true) {
    if (n == max) return false;
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out[n++] = path.substr(start);
      break;
    }
    out[n++] = path.substr(start, slash - start);
    start = slash + 1;
  }
  *count = n;
  return true;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

void AppendAllowed(std::string& allow, std::string_view method) {
  size_t start = 0;
  while (start < allow.size()) {
    size_t end = allow.find(", ", start);
    if (end == std::string::npos) end = allow.size();
    if (std::string_view(allow).substr(start, end - start) == method) return;
    start = end + 2;
  }
  if (!allow.empty()) allow += ", ";
  allow += method;
}

}  // namespace

void Router::Add(std::string method, std::string_view pattern, Handler handler) {
  std::array<std::string_view, kMaxSegments> parts;
  size_t count = 0;
  if (method.empty() || !handler || !SplitPath(pattern, parts.data(), parts.size(), &count)) {
    throw std::invalid_argument("bad route: " + method + " " + std::string(pattern));
  }
  Route route;
  for (size_t i = 0; i < count; ++i) {
    std::string_view part = parts[i];
    bool param = IsParam(part);
    if (!param && (part.find_first_of("{}%") != std::string_view::npos)) {
      throw std::invalid_argument("bad route segment: " + std::string(pattern));
    }
    route.segments.push_back({std::string(param ? part.substr(1, part.size() - 2) : part), param});
  }
  for (auto& existing : routes_) {
    bool same = existing.segments.size() == route.segments.size() &&
                std::equal(existing.segments.begin(), existing.segments.end(),
                           route.segments.begin(), [](const Segment& a, const Segment& b) {
                             return a.is_param == b.is_param && (a.is_param || a.text == b.text);
                           });
    if (!same) continue;
    for (auto& [m, h] : existing.methods) {
      if (m == method)
        throw std::invalid_argument("duplicate route: " + method + " " + std::string(pattern));
    }
    existing.methods.emplace_back(std::move(method), std::move(handler));
    return;
  }
  route.methods.emplace_back(std::move(method), std::move(handler));
  // Keep routes_ ordered literal-before-parameter, segment by segment.
  auto more_specific = [](const Route& a, const Route& b) {
    return std::lexicographical_compare(
        a.segments.begin(), a.segments.end(), b.segments.begin(), b.segments.end(),
        [](const Segment& x, const Segment& y) { return !x.is_param && y.is_param; });
  };
  routes_.insert(std::upper_bound(routes_.begin(), routes_.end(), route, more_specific),
                 std::move(route));
}

bool Router::Matches(const Route& route, const std::string_view* segments, size_t count) const {
  if (route.segments.size() != count) return false;
  for (size_t i = 0; i < count; ++i) {
    const Segment& want = route.segments[i];
    if (want.is_param ? segments[i].empty() : segments[i] != want.text) return false;
  }
  return true;
}

void Router::Dispatch(Request& request, std::string_view encoded_path, Respond respond) const {
  std::array<std::string_view, kMaxSegments> segments;
  size_t count = 0;
  std::vector<std::string> decoded;  // Stays empty unless the path has escapes.
  if (!SplitPath(encoded_path, segments.data(), segments.size(), &count)) {
    respond(Error(404, "not_found", "no such resource"));
    return;
  }
  if (encoded_path.find('%') != std::string_view::npos) {
    decoded.resize(count);  // Sized once: the views below point into it.
    for (size_t i = 0; i < count; ++i) {
      auto pct = boost::urls::make_pct_string_view(segments[i]);
      if (!pct) {
        respond(Error(400, "bad_request", "invalid percent-encoding in path"));
        return;
      }
      decoded[i] = pct->decode();
      segments[i] = decoded[i];
    }
  }
  const Route* path_match = nullptr;
  for (const Route& route : routes_) {
    if (!Matches(route, segments.data(), count)) continue;
    if (!path_match) path_match = &route;
    for (const auto& [method, handler] : route.methods) {
      // HEAD is GET without the body (the session leaves the body out).
      if (method != request.method && !(request.method == "HEAD" && method == "GET")) continue;
      for (size_t i = 0; i < count; ++i) {
        if (route.segments[i].is_param) {
          request.params.insert_or_assign(route.segments[i].text, std::string(segments[i]));
        }
      }
      handler(request, std::move(respond));
      return;
    }
  }
  if (!path_match) {
    respond(Error(404, "not_found", "no such resource"));
    return;
  }
  std::string allow;
  for (const Route& route : routes_) {
    if (!Matches(route, segments.data(), count)) continue;
    for (const auto& entry : route.methods) {
      AppendAllowed(allow, entry.first);
      if (entry.first == "GET") AppendAllowed(allow, "HEAD");
    }
  }
  Response response = Error(405, "method_not_allowed", "method not allowed for this resource");
  response.headers.emplace_back("Allow", std::move(allow));
  respond(std::move(response));
}

}  // namespace punt::http
