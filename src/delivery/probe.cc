#include "delivery/probe.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>

#include "security/random.h"
#include "util/json.h"
#include "util/time.h"
#include "webhook/signature.h"
#include "net/sockaddr.h"

namespace punt::delivery {
namespace {

// What the curl callbacks share with Probe, for one request.
struct Exchange {
  const DestinationGuard* guard = nullptr;
  size_t keep = 0;
  std::string body;
  bool refused = false;
  bool opened = false;  // a socket for an allowed address
  std::string refused_address;
};

// Checks the resolved address at connect time, as Transfer does.
curl_socket_t OpenSocket(void* data, curlsocktype, curl_sockaddr* address) {
  auto* x = static_cast<Exchange*>(data);
  if (address->family != AF_INET && address->family != AF_INET6) return CURL_SOCKET_BAD;
  auto resolved = net::AddressOf(reinterpret_cast<const sockaddr*>(&address->addr));
  if (!x->guard->Allows(resolved)) {
    x->refused = true;
    x->refused_address = resolved.to_string();
    return CURL_SOCKET_BAD;
  }
  x->opened = true;
  return socket(address->family, address->socktype, address->protocol);
}

size_t OnBody(char* data, size_t size, size_t count, void* self) {
  auto* x = static_cast<Exchange*>(self);
  size_t n = size * count;
  size_t room = x->keep - std::min(x->keep, x->body.size());
  x->body.append(data, std::min(n, room));
  return n;
}

struct CurlCleanup {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistCleanup {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string TestEventBody(std::string_view subscription_id, Millis now_ms) {
  boost::json::object body{
      {"type", "punt.test"},
      {"timestamp", FormatTimestamp(TimePoint(std::chrono::milliseconds(now_ms)))},
      {"data", boost::json::object{{"subscription_id", subscription_id}}}};
  return ToJson(body);
}

std::string XapiProbeUrl(std::string_view url) {
  std::string out(url.substr(0, url.find('#')));
  out += out.find('?') == std::string::npos ? "?limit=1" : "&limit=1";
  return out;
}

ProbeResult Probe(const Target& target, const TransportOptions& options, Millis now_ms) {
  static const DestinationGuard kNoExceptions({});
  Exchange x;
  x.guard = options.guard ? options.guard : &kNoExceptions;
  x.keep = options.response_keep;

  bool xapi = target.kind == store::SubscriptionKind::kXapi;
  std::string url = xapi ? XapiProbeUrl(target.url) : target.url;
  std::string body;
  OutgoingRequest request;  // its header lines, checked as a delivery's are
  if (xapi) {
    request.AddHeader("X-Experience-API-Version", target.xapi_version);
    request.AddHeader("Accept", "application/json");
  } else {
    body = TestEventBody(target.id, now_ms);
    auto signed_headers =
        webhook::MakeHeaders(target.signing_keys, security::NewId("msg_test"), now_ms / 1000, body);
    request.AddHeader("Content-Type", "application/json");
    request.AddHeader("webhook-id", signed_headers.id);
    request.AddHeader("webhook-timestamp", signed_headers.timestamp);
    request.AddHeader("webhook-signature", signed_headers.signature);
  }
  if (!target.authorization.empty()) request.AddHeader("Authorization", target.authorization);
  if (!request.refused.empty()) {
    ProbeResult refused;
    refused.error = request.refused;
    return refused;
  }
  std::unique_ptr<curl_slist, SlistCleanup> headers(
      AppendHeaderLines(nullptr, request.header_lines));
  if (!xapi) headers.reset(curl_slist_append(headers.release(), "Expect:"));

  std::unique_ptr<CURL, CurlCleanup> easy(curl_easy_init());
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* c = easy.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (!xapi) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  ApplyTransportRules(c, options);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);

  auto start = std::chrono::steady_clock::now();
  CURLcode code = curl_easy_perform(c);
  ProbeResult r;
  r.latency_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - start)
                                      .count());
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    r.status = static_cast<int>(status);
    r.body = std::move(x.body);
  } else if (x.refused && !x.opened) {  // else what happened at an allowed address
    r.error = "destination refused: " + x.refused_address +
              " is not a public address and no --allow-destination range holds it";
  } else {
    r.error = error_buffer[0] ? std::string(error_buffer) : curl_easy_strerror(code);
  }
  return r;
}

}  // namespace punt::delivery
