// Internal: accepts connections and starts a Session for each on the next
// io_context in turn. Thread-safety: Open() before the io_context runs;
// Start() and Stop() from any thread (they post to the acceptor's io_context,
// which one thread runs).
#pragma once

#include <memory>
#include <string>

#include "api/http/server_state.h"

namespace punt::http::internal {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  explicit Listener(std::shared_ptr<ServerState> state);

  // Binds (SO_REUSEADDR) and listens. On failure fills *error.
  bool Open(const boost::asio::ip::tcp::endpoint& endpoint, std::string* error);
  uint16_t port() const { return port_; }
  void Start();
  // Closes the acceptor: new connections are refused from then on.
  void Stop();

 private:
  void Accept();
  void OnAccept(boost::system::error_code ec, Socket socket);

  std::shared_ptr<ServerState> state_;  // First member: destroyed last.
  Acceptor acceptor_;
  Timer retry_timer_;
  uint16_t port_ = 0;
};

}  // namespace punt::http::internal
