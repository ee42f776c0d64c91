// The web view's HTTP server: Boost.Beast on one thread (so the pages'
// handlers run one at a time), plain HTTP or TLS (OpenSSL through
// Boost.Asio ssl) on [web] listen, every request bounded by [web]
// max_header_size, max_request_size and read_timeout, at most
// max_connections open at once. Parsed requests go to the App (app.h).
// Also: what keeps `emogate web` from starting (web_problems).
// Trusted input: the configuration; the TLS key and certificate files are
// the administrator's. Everything from the network is the client's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "emogate/config.h"
#include "web/app.h"

namespace emogate::web {

// Why `emogate web` must not start with this configuration (each with the
// file:line of its key): no way to log in (no users_file and no
// proxy_user_header), certificate or key unreadable. The loader has already
// refused a non-loopback listen without TLS.
std::vector<ConfigError> web_problems(const Config& config);

class Server {
 public:
  // Binds [web] listen (port 0: any free port) and, with TLS, loads the
  // certificate and key. Throws std::runtime_error on failure.
  Server(const WebSettings& settings, App& app);
  ~Server();
  unsigned short port() const;
  // Serves until stop() (from any thread), or with `handle_signals` until
  // SIGTERM or SIGINT.
  void run(bool handle_signals = false);
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace emogate::web
