// The HTTP/1.1 server punt's API sits on.
//
//   http::Router router;
//   router.Add("GET", "/healthz", [](http::Request&, http::Respond respond) {
//     respond(http::Json(200, {{"status", "ok"}}));
//   });
//   http::Server server(router, {.host = "127.0.0.1", .port = 0});
//   std::string error;
//   if (!server.Start(&error)) ...;
//   ... server.port() ...
//   server.Stop(std::chrono::seconds(5));
//
// Threading: each of the `threads` threads runs an io_context of its own, and
// new connections go to them in turn; a connection's socket and timer use its
// io_context's executor, so its handlers run only on that one thread, never
// concurrently, while different connections run in parallel (a strand would
// only add a queue and a lock: 1.7 us an ingest request). One io_context shared by all
// threads made them hand completions to each other: 16% more CPU per
// /healthz request. Handlers run on those threads and must not block;
// Respond may be called later from any thread.
//
// Every response carries Content-Length, Content-Type and `Server: punt`.
// Errors the server makes itself use the API's error shape: 400 bad_request
// (malformed HTTP, then close), 413 payload_too_large (then close), 431
// header_too_large, 404/405 from the router, 500 internal when a handler throws
// (logged; the server keeps serving).
//
// Thread-safety: Start() and Stop() from one controlling thread, never from a
// handler. port() and requests() from anywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/http/router.h"
#include "api/http/server_options.h"

namespace punt::http {

namespace internal {
struct ServerState;
class Listener;
}  // namespace internal

class Server {
 public:
  using Options = ServerOptions;

  // `router` must outlive the Server and not change once Start() is called.
  Server(const Router& router, ServerOptions options);
  ~Server();  // Stop(0) if still running.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the threads. False (with *error) if it cannot.
  bool Start(std::string* error);

  // The bound port (the real one when options.port was 0). 0 before Start().
  uint16_t port() const { return port_; }

  // Stops accepting at once and closes idle keep-alive connections. Requests in
  // flight get up to `grace` to be answered (their responses say
  // Connection: close); then every connection is closed and the threads are
  // joined. Responses arriving later are dropped. Idempotent.
  void Stop(std::chrono::milliseconds grace);

  // Responses written so far (all statuses).
  uint64_t requests() const;

 private:
  const Router& router_;
  const ServerOptions options_;
  std::shared_ptr<internal::ServerState> state_;
  std::shared_ptr<internal::Listener> listener_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace punt::http
