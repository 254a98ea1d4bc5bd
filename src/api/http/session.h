// Internal: one HTTP/1.1 connection. Reads one request at a time (pipelined
// requests wait in the buffer), hands it to the router, writes the answer,
// and loops while keep-alive holds.
//
// Thread-safety: all state is touched only on the thread that runs the
// socket's io_context (ServerState: one thread each). Start(),
// Deliver(), BeginStop() and ForceClose() may be called from any thread.
#pragma once

#include <array>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>

#include "api/http/request.h"
#include "api/http/response.h"
#include "api/http/router.h"
#include "api/http/server_state.h"

namespace punt::http::internal {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ServerState> state, Socket socket);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start();
  // The response to the request being handled; ignored if none is.
  void Deliver(Response response);
  // Closes the connection when idle, else after the current response.
  void BeginStop();
  void ForceClose();

 private:
  enum class Phase { kReading, kHandling, kWriting, kLingering, kClosed };
  using Clock = std::chrono::steady_clock;
  // The request's header fields are kept in fields_arena_ (one allocation
  // each from the heap otherwise, freed on the next request).
  using FieldsAllocator = std::pmr::polymorphic_allocator<char>;
  using Parser =
      boost::beast::http::request_parser<boost::beast::http::string_body, FieldsAllocator>;

  void OnStart();
  void ReadRequest();
  void OnHeader(boost::system::error_code ec);
  void ReadBody();
  void OnReadError(boost::system::error_code ec);
  void OnRequest();
  bool FillRequest();
  void Handle(std::string_view encoded_path);
  void OnResponse(Response response);
  void WriteResponse(Response response);
  void OnWritten(boost::system::error_code ec);
  void SendErrorAndClose(Response response);
  void LingerAndClose();
  void Drain();
  void OnStop();
  bool IsIdle() const;
  void SetPhase(Phase phase, Clock::duration timeout);
  void ArmTimer();
  void OnTimer(boost::system::error_code ec);
  void Close();

  std::shared_ptr<ServerState> state_;  // First member: destroyed last.
  Socket socket_;
  Timer timer_;
  boost::beast::flat_buffer buffer_;
  // Room for a usual request's header fields; larger ones spill to the heap.
  // Emptied between requests, once the parser that used it is gone.
  std::array<std::byte, 1024> fields_space_;
  std::pmr::monotonic_buffer_resource fields_arena_{fields_space_.data(), fields_space_.size()};
  std::optional<Parser> parser_;  // after fields_arena_: destroyed before it
  Request request_;
  std::string head_;
  std::string body_;
  std::string remote_;
  Phase phase_ = Phase::kReading;
  Clock::time_point deadline_;
  Clock::time_point request_start_;  // Set only when options.log_requests.
  unsigned version_ = 11;            // Of the request being answered.
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  bool head_request_ = false;  // the answer's head only, with the body's Content-Length
  bool stopping_ = false;
  bool registered_ = false;
  size_t drained_ = 0;
};

}  // namespace punt::http::internal
