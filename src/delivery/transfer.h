// One HTTP POST of one delivery, as a libcurl easy handle driven by the
// dispatcher's multi handle. Owned and used by the dispatcher thread only.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string>

#include "delivery/destination_guard.h"
#include "delivery/target.h"
#include "store/model.h"

namespace punt::delivery {

struct TransportOptions {
  long connect_timeout_ms = 5000;
  long total_timeout_ms = 15000;
  size_t response_keep = 4096;  // bytes of the answer kept for the attempt log
  std::string ca_file = {};     // an extra trusted CA (PEM), if any
  const DestinationGuard* guard = nullptr;
};

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
  Transfer(const Target& target, store::DueDelivery due, const TransportOptions& options,
           Millis now_ms);
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURL* handle() const { return easy_; }
  const store::DueDelivery& due() const { return due_; }
  Millis started_at() const { return started_at_; }
  bool is_xapi() const { return xapi_; }

  // Call once curl reports the transfer done with `code`.
  TransferResult Finish(CURLcode code);

 private:
  static size_t OnBody(char* data, size_t size, size_t count, void* self);
  static size_t OnHeader(char* data, size_t size, size_t count, void* self);
  static curl_socket_t OnOpenSocket(void* self, curlsocktype purpose, curl_sockaddr* address);

  store::DueDelivery due_;
  const TransportOptions& options_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  Millis started_at_ = 0;
  bool xapi_ = false;
  bool destination_refused_ = false;
  std::string refused_address_;
  std::string response_;
  std::optional<std::string> retry_after_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
  std::chrono::steady_clock::time_point latency_start_;
};

}  // namespace punt::delivery
