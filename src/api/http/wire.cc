#include "api/http/wire.h"

#include <boost/beast/http/status.hpp>
#include <charconv>
#include <string_view>

#include "api/http/request.h"
#include "util/text.h"

namespace punt::http {
namespace {

void AppendNumber(std::string& out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

bool IsReserved(std::string_view name) {
  return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "content-type") ||
         EqualsIgnoreCase(name, "server") || EqualsIgnoreCase(name, "connection") ||
         EqualsIgnoreCase(name, "transfer-encoding");
}

bool IsSafe(std::string_view text) { return !HasLineBreak(text); }

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

unsigned NormalizeStatus(unsigned status) { return status >= 200 && status <= 599 ? status : 500; }

bool StatusHasNoBody(unsigned status) { return status < 200 || status == 204 || status == 304; }

void WriteResponseHead(std::string& out, const Response& response, ConnectionHeader connection) {
  unsigned status = NormalizeStatus(response.status);
  out.clear();
  out += "HTTP/1.1 ";
  AppendNumber(out, status);
  out += ' ';
  auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: punt\r\n";
  bool no_body = StatusHasNoBody(status);
  if (!no_body) {
    if (!response.content_type.empty() && IsSafe(response.content_type)) {
      AppendHeader(out, "Content-Type", response.content_type);
    }
    out += "Content-Length: ";
    AppendNumber(out, response.body.size());
    out += "\r\n";
  }
  if (connection == ConnectionHeader::kClose) out += "Connection: close\r\n";
  if (connection == ConnectionHeader::kKeepAlive) out += "Connection: keep-alive\r\n";
  for (const auto& [name, value] : response.headers) {
    bool bad_name = name.empty() || name.find_first_of(": \t\r\n") != std::string_view::npos;
    if (bad_name || IsReserved(name) || !IsSafe(value)) continue;
    AppendHeader(out, name, value);
  }
  out += "\r\n";
}

}  // namespace punt::http
