// Wires punt's parts together once at startup: keys, store, API and HTTP
// server. Owns them all; Stop() shuts them down in order.
#pragma once

#include <memory>
#include <string>

#include "server/config.h"

namespace punt::server {

class App {
 public:
  // Opens the data dir, keys and store, and starts serving. nullptr and
  // `error` set on failure.
  static std::unique_ptr<App> Start(const Config& config, std::string* error);
  virtual ~App() = default;

  virtual uint16_t port() const = 0;
  virtual std::string admin_key_file() const = 0;  // empty when the key was configured
  // Stops accepting, lets in-flight requests finish, then closes the store
  // (committing what is queued).
  virtual void Stop() = 0;
};

}  // namespace punt::server
