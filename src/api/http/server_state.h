// Internal: what the Server, its listener and its sessions share. Sessions and
// pending responders hold it by shared_ptr, so the io_context outlives every
// socket and timer even when a handler keeps a Respond past the Server.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "api/http/router.h"
#include "api/http/server_options.h"

namespace punt::http::internal {

using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using Timer = boost::asio::basic_waitable_timer<
    std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;

class Session;

struct ServerState {
  ServerState(const Router& r, const ServerOptions& o)
      : ioc(o.threads > 1 ? o.threads : 1), router(r), options(o) {}

  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  const Router& router;
  const ServerOptions options;
  std::atomic<uint64_t> responses{0};

  std::mutex mu;
  std::condition_variable sessions_empty;  // Notified when `sessions` becomes empty.
  // State below is protected by mu.
  std::unordered_set<Session*> sessions;  // Registered on their strand, removed in ~Session.
  bool stopping = false;                  // New sessions close at once.
  bool closed = false;                    // Nothing may be posted to ioc from outside.
};

}  // namespace punt::http::internal
