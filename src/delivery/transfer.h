// One HTTP POST of one batch (one webhook delivery, or one or more xAPI
// statements), as a libcurl easy handle driven by the dispatcher's multi
// handle. Owned and used by the dispatcher thread only.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "delivery/batch.h"
#include "delivery/destination_guard.h"
#include "delivery/request.h"
#include "delivery/target.h"
#include "store/model.h"

namespace punt::delivery {

struct TransportOptions {
  long connect_timeout_ms = 5000;
  long total_timeout_ms = 15000;
  size_t response_keep = 4096;  // bytes of the answer kept for the attempt log
  long keep_idle_ms = 30000;    // the plain client closes a connection idle this long
  std::string ca_file = {};     // an extra trusted CA (PEM), if any
  const DestinationGuard* guard = nullptr;
};

// Sets the rules every libcurl request of punt keeps (deliveries and the
// test button): its user agent, no signals, no redirects, http and https
// only, the connect and total timeouts, the extra CA, and no proxy. A proxy
// from the environment (http_proxy, https_proxy, all_proxy) is not used:
// the destination guard checks the address punt connects to, and through a
// proxy that is the proxy's, never the receiver's; the plain client does
// not use one either.
void ApplyTransportRules(CURL* easy, const TransportOptions& options);

// `list` with each of `header_lines` ("Name: value\r\n" each, as
// OutgoingRequest keeps them) appended, for CURLOPT_HTTPHEADER.
curl_slist* AppendHeaderLines(curl_slist* list, std::string_view header_lines);

struct TransferResult {
  int status = 0;     // 0 when no HTTP answer came
  std::string error;  // transport error text when status is 0
  std::string response;
  std::optional<std::string> retry_after;
  int latency_ms = 0;
};

class Transfer {
 public:
  // `now_ms` is the attempt's time: it becomes the webhook-timestamp.
  // `easy` is a handle to reuse (every option this class uses is set again),
  // or null for a new one.
  Transfer(const Target& target, Batch batch, const TransportOptions& options, Millis now_ms,
           CURL* easy = nullptr);
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURL* handle() const { return easy_; }
  // Gives up the handle (for reuse) once the transfer is finished and out of
  // the multi handle; the destructor then leaves it alone.
  CURL* ReleaseHandle() { return std::exchange(easy_, nullptr); }
  const Batch& batch() const { return batch_; }
  Batch TakeBatch() { return std::move(batch_); }
  const std::string& subscription_id() const { return subscription_id_; }
  Millis started_at() const { return started_at_; }
  bool is_xapi() const { return xapi_; }
  uint64_t destination() const { return destination_; }  // the target's, when built

  // Call once curl reports the transfer done with `code`.
  TransferResult Finish(CURLcode code);

 private:
  static size_t OnBody(char* data, size_t size, size_t count, void* self);
  static size_t OnHeader(char* data, size_t size, size_t count, void* self);
  static curl_socket_t OnOpenSocket(void* self, curlsocktype purpose, curl_sockaddr* address);

  Batch batch_;
  std::string subscription_id_;
  OutgoingRequest request_;  // curl reads the URL and body from here
  const TransportOptions& options_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  Millis started_at_ = 0;
  uint64_t destination_ = 0;
  bool xapi_ = false;
  bool destination_refused_ = false;
  bool opened_socket_ = false;  // curl connected (or tried) to an allowed address
  std::string refused_address_;
  std::string response_;
  std::optional<std::string> retry_after_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
  std::chrono::steady_clock::time_point latency_start_;
};

}  // namespace punt::delivery
