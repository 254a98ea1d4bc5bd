// Settings of an http::Server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace punt::http {

struct ServerOptions {
  std::string host = "127.0.0.1";         // An address, or a name resolved once at Start().
  uint16_t port = 0;                      // 0: any free port; see Server::port().
  size_t body_limit = 1 << 20;            // Larger bodies get 413 "payload_too_large".
  int threads = 2;                        // Threads running the io_context (at least 1).
  std::chrono::seconds idle_timeout{60};  // Per read or write phase, and between requests.
  size_t header_limit = 16 << 10;         // Larger request heads get 431 "header_too_large".
  bool log_requests = false;              // One info line per request (costs throughput).
};

}  // namespace punt::http
