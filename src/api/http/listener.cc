#include "api/http/listener.h"

#include <boost/asio/post.hpp>

#include "api/http/session.h"
#include "util/log.h"

namespace punt::http::internal {

namespace asio = boost::asio;
using boost::system::error_code;

Listener::Listener(std::shared_ptr<ServerState> state)
    : state_(std::move(state)),
      acceptor_(state_->iocs.front()->get_executor()),
      retry_timer_(acceptor_.get_executor()) {}

bool Listener::Open(const asio::ip::tcp::endpoint& endpoint, std::string* error) {
  error_code ec;
  auto fail = [&](const char* what) {
    if (error)
      *error = std::string(what) + " " + endpoint.address().to_string() + ":" +
               std::to_string(endpoint.port()) + ": " + ec.message();
    error_code ignored;
    acceptor_.close(ignored);
    return false;
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("setsockopt");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  port_ = acceptor_.local_endpoint(ec).port();
  return true;
}

void Listener::Start() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->Accept(); });
}

void Listener::Stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::Accept() {
  if (!acceptor_.is_open()) return;
  acceptor_.async_accept(state_->NextContext().get_executor(),
                         [self = shared_from_this()](error_code ec, Socket socket) {
                           self->OnAccept(ec, std::move(socket));
                         });
}

void Listener::OnAccept(error_code ec, Socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (!ec) {
    std::make_shared<Session>(state_, std::move(socket))->Start();
    return Accept();
  }
  if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
      ec == asio::error::no_memory) {
    // Out of file descriptors or memory: back off instead of spinning.
    LogWarn("http accept failed", {{"error", ec.message()}});
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec) self->Accept();
    });
    return;
  }
  Accept();  // A connection that died before we took it, and the like.
}

}  // namespace punt::http::internal
