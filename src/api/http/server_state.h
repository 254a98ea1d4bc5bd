// Internal: what the Server, its listener and its sessions share. Sessions and
// pending responders hold it by shared_ptr, so the io_context outlives every
// socket and timer even when a handler keeps a Respond past the Server.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "api/http/router.h"
#include "api/http/server_options.h"

namespace punt::http::internal {

using Executor = boost::asio::io_context::executor_type;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using Timer = boost::asio::basic_waitable_timer<
    std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;

class Session;

struct ServerState {
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  // One io_context per thread, each run by that thread alone (concurrency
  // hint 1): a connection lives on the io_context NextContext gave it, so
  // its handlers never hop between threads and no thread hands completions
  // to another.
  ServerState(const Router& r, const ServerOptions& o) : router(r), options(o) {
    int threads = o.threads > 1 ? o.threads : 1;
    for (int i = 0; i < threads; ++i) iocs.push_back(std::make_unique<boost::asio::io_context>(1));
  }

  // The io_context of the next new connection, in turn. Listener only.
  boost::asio::io_context& NextContext() { return *iocs[next_ioc++ % iocs.size()]; }

  std::vector<std::unique_ptr<boost::asio::io_context>> iocs;
  size_t next_ioc = 0;
  std::vector<WorkGuard> work;  // one per io_context while the server runs
  const Router& router;
  const ServerOptions options;
  std::atomic<uint64_t> responses{0};

  std::mutex mu;
  std::condition_variable sessions_empty;  // Notified when `sessions` becomes empty.
  // State below is protected by mu.
  std::unordered_set<Session*> sessions;  // Registered on their thread, removed in ~Session.
  bool stopping = false;                  // New sessions close at once.
  bool closed = false;                    // Nothing may be posted to iocs from outside.
};

}  // namespace punt::http::internal
