#include "api/http/server.h"

#include <boost/asio/ip/address.hpp>
#include <exception>
#include <optional>

#include "api/http/listener.h"
#include "api/http/server_state.h"
#include "api/http/session.h"
#include "util/log.h"
#include "util/thread_name.h"

namespace punt::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::optional<tcp::endpoint> ResolveListenAddress(const std::string& host, uint16_t port,
                                                  std::string* error) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (!ec) return tcp::endpoint(address, port);
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    if (error) *error = "resolve " + host + ": " + (ec ? ec.message() : "no address");
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

void RunThread(boost::asio::io_context& ioc) {
  while (true) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      LogError("http server thread caught an exception", {{"error", e.what()}});
    } catch (...) {
      LogError("http server thread caught an exception");
    }
  }
}

// Takes live references to the registered sessions. REQUIRES: state.mu held.
std::vector<std::shared_ptr<internal::Session>> LiveSessions(internal::ServerState& state) {
  std::vector<std::shared_ptr<internal::Session>> live;
  live.reserve(state.sessions.size());
  for (auto* session : state.sessions) {
    if (auto strong = session->weak_from_this().lock()) live.push_back(std::move(strong));
  }
  return live;
}

}  // namespace

Server::Server(const Router& router, ServerOptions options)
    : router_(router), options_(std::move(options)) {}

Server::~Server() { Stop(std::chrono::milliseconds(0)); }

bool Server::Start(std::string* error) {
  if (running_) {
    if (error) *error = "server already running";
    return false;
  }
  auto endpoint = ResolveListenAddress(options_.host, options_.port, error);
  if (!endpoint) return false;
  state_ = std::make_shared<internal::ServerState>(router_, options_);
  listener_ = std::make_shared<internal::Listener>(state_);
  if (!listener_->Open(*endpoint, error)) return false;
  port_ = listener_->port();
  for (auto& ioc : state_->iocs) state_->work.emplace_back(ioc->get_executor());
  listener_->Start();
  for (auto& ioc : state_->iocs) {
    threads_.emplace_back([state = state_, ioc = ioc.get()] {
      NameThisThread("punt-http");
      RunThread(*ioc);
    });
  }
  running_ = true;
  return true;
}

void Server::Stop(std::chrono::milliseconds grace) {
  if (!running_) return;
  running_ = false;
  listener_->Stop();
  std::vector<std::shared_ptr<internal::Session>> sessions;
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    sessions = LiveSessions(*state_);
  }
  for (auto& session : sessions) session->BeginStop();
  sessions.clear();  // Let finished sessions go away.
  {
    std::unique_lock lock(state_->mu);
    state_->sessions_empty.wait_for(lock, grace, [&] { return state_->sessions.empty(); });
    state_->closed = true;
    sessions = LiveSessions(*state_);
  }
  for (auto& session : sessions) session->ForceClose();
  sessions.clear();
  state_->work.clear();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  listener_.reset();
}

uint64_t Server::requests() const {
  return state_ ? state_->responses.load(std::memory_order_relaxed) : 0;
}

}  // namespace punt::http
