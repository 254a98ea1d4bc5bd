#include "delivery/transfer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>

#include <cctype>
#include <chrono>

#include "net/sockaddr.h"

namespace punt::delivery {
namespace {

curl_slist* Append(curl_slist* list, const std::string& header) {
  return curl_slist_append(list, header.c_str());
}

}  // namespace

curl_slist* AppendHeaderLines(curl_slist* list, std::string_view lines) {
  for (size_t end; (end = lines.find("\r\n")) != std::string_view::npos;
       lines.remove_prefix(end + 2)) {
    list = Append(list, std::string(lines.substr(0, end)));
  }
  return list;
}

void ApplyTransportRules(CURL* easy, const TransportOptions& options) {
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "punt/" PUNT_VERSION);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options.total_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");  // "": none, whatever the environment says
  if (!options.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options.ca_file.c_str());
}

Transfer::Transfer(const Target& target, Batch batch, const TransportOptions& options,
                   Millis now_ms, CURL* easy)
    : batch_(std::move(batch)),
      subscription_id_(target.id),
      request_(BuildRequest(target, batch_, now_ms)),
      options_(options),
      started_at_(now_ms),
      destination_(target.destination) {
  xapi_ = target.kind == store::SubscriptionKind::kXapi;
  easy_ = easy ? easy : curl_easy_init();
  headers_ = AppendHeaderLines(headers_, request_.header_lines);
  headers_ = Append(headers_, "Expect:");  // no 100-continue round trip

  // A refused request gets no URL: curl fails it before connecting (Finish).
  curl_easy_setopt(easy_, CURLOPT_URL, request_.refused.empty() ? request_.url.c_str() : "");
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, request_.body.data());
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(request_.body.size()));
  ApplyTransportRules(easy_, options_);
  curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy_, CURLOPT_OPENSOCKETFUNCTION, &Transfer::OnOpenSocket);
  curl_easy_setopt(easy_, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
  latency_start_ = std::chrono::steady_clock::now();
}

Transfer::~Transfer() {
  if (easy_) curl_easy_cleanup(easy_);
  curl_slist_free_all(headers_);
}

size_t Transfer::OnBody(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<Transfer*>(self);
  size_t n = size * count;
  size_t room = t->options_.response_keep - std::min(t->options_.response_keep, t->response_.size());
  t->response_.append(data, std::min(n, room));
  return n;  // read the rest, so the connection stays reusable
}

size_t Transfer::OnHeader(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<Transfer*>(self);
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) match = false;
    }
    if (match) t->retry_after_ = std::string(line.substr(kName.size()));
  }
  if (line.starts_with("HTTP/")) t->retry_after_.reset();  // a new answer's headers begin
  return size * count;
}

curl_socket_t Transfer::OnOpenSocket(void* self, curlsocktype, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(self);
  if (address->family != AF_INET && address->family != AF_INET6) return CURL_SOCKET_BAD;
  auto resolved = net::AddressOf(reinterpret_cast<const sockaddr*>(&address->addr));
  if (t->options_.guard && !t->options_.guard->Allows(resolved)) {
    t->destination_refused_ = true;
    t->refused_address_ = resolved.to_string();
    return CURL_SOCKET_BAD;
  }
  t->opened_socket_ = true;
  return socket(address->family, address->socktype, address->protocol);
}

TransferResult Transfer::Finish(CURLcode code) {
  TransferResult r;
  auto elapsed = std::chrono::steady_clock::now() - latency_start_;
  r.latency_ms =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
  if (!request_.refused.empty()) {
    r.error = request_.refused;
    return r;
  }
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    r.status = static_cast<int>(status);
    r.response = std::move(response_);
    r.retry_after = std::move(retry_after_);
    return r;
  }
  // A refused address explains the failure only when curl had no other to
  // try: past one, what happened at an allowed address is the error.
  if (destination_refused_ && !opened_socket_) {
    r.error = "destination refused: " + refused_address_ +
              " is not a public address and no --allow-destination range holds it";
  } else {
    r.error = error_buffer_[0] ? std::string(error_buffer_) : curl_easy_strerror(code);
  }
  return r;
}

}  // namespace punt::delivery
