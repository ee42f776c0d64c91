// The web view's HTTP server on Boost.Beast: one io_context on one thread
// (the pages' handlers run one at a time, as web.h promises), plain HTTP or
// TLS through Boost.Asio ssl, each request read with the [web] limits on
// header size, body size and time; and the checks that keep `emogate web`
// from starting.
// Trusted input: the configuration, the certificate and key files. Bytes
// from the network reach Beast's parser under those limits; what it parses
// goes to the App.
#include "web/server.h"

#include <openssl/ssl.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <optional>
#include <stdexcept>

#include "common/text.h"
#include "web/html.h"

namespace emogate::web {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::vector<ConfigError> web_problems(const Config& c) {
  std::vector<ConfigError> out;
  const auto line = [&](const std::string& key) {
    const auto it = c.lines.find("web." + key);
    return it == c.lines.end() ? 0 : it->second;
  };
  const WebSettings& w = c.web;
  if (w.users_file.empty() && w.proxy_user_header.empty())
    out.emplace_back(c.source, 0,
                     "web: no way to log in: set [web] users_file (accounts from `emogate web-user add NAME`) or "
                     "proxy_user_header with trusted_proxies; there is no default password");
  if (!w.users_file.empty() && ::access(w.users_file.c_str(), R_OK) != 0)
    out.emplace_back(c.source, line("users_file"),
                     "web.users_file: cannot read " + w.users_file + " (create it with `emogate web-user add NAME`)");
  for (const char* key : {"certificate", "private_key"}) {
    const std::string& path = std::string_view(key) == "certificate" ? w.certificate : w.private_key;
    if (!path.empty() && ::access(path.c_str(), R_OK) != 0)
      out.emplace_back(c.source, line(key), std::string("web.") + key + ": cannot read " + path);
  }
  return out;
}

// XXX: one thread serves every connection, so a slow page (the status
// page waiting for the metrics endpoint, a list over a very large
// quarantine) makes the others wait; that is the price of handlers that
// need no locks.
struct Server::Impl {
  Impl(const WebSettings& s, App& a) : settings(s), app(a) {}
  // Connections still queued in the io_context end when it is destroyed,
  // and call closed(): everything they touch is declared before it.
  ~Impl() { stopping = true; }
  const WebSettings& settings;
  App& app;
  std::size_t open = 0;     // connections now
  bool accepting = false;   // an accept is pending
  bool stopping = false;
  std::optional<ssl::context> tls;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};

  void accept();
  void closed() {
    --open;
    if (!accepting && !stopping) accept();
  }
};

namespace {

// Peer address as text, IPv4-mapped IPv6 as plain IPv4.
std::string peer_text(const tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return a.to_v6().to_v4().to_string();
  return a.to_string();
}

// One connection: requests read and answered in turn (keep-alive) until
// the client closes, a limit is hit or the time runs out.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  Connection(Server::Impl& srv, Stream stream, std::string peer, bool tls)
      : srv_(srv), stream_(std::move(stream)), peer_(std::move(peer)), tls_(tls) {
    ++srv_.open;
  }
  ~Connection() { srv_.closed(); }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(srv_.settings.read_timeout_s));
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->read();
      });
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(srv_.settings.max_header_size);
    parser_->body_limit(srv_.settings.max_request_size);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(srv_.settings.read_timeout_s));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted || ec == ssl::error::stream_truncated)
      return close();
    if (ec) {
      // The request broke a limit or HTTP itself: say so once and close.
      Response r;
      r.status = ec == http::error::body_limit ? 413 : ec == http::error::header_limit ? 431 : 400;
      r.content_type = "text/plain; charset=utf-8";
      r.body = std::string(status_reason(r.status)) + "\n";
      add_security_headers(r, tls_);
      return send(std::move(r), false, false);
    }
    auto& req = parser_->get();
    HttpRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    in.peer = peer_;
    in.tls = tls_;
    for (const auto& f : req) in.headers.emplace_back(ascii_lower(std::string_view(f.name_string().data(), f.name_string().size())), std::string(f.value()));
    in.body = std::move(req.body());
    const bool head = req.method() == http::verb::head;
    send(srv_.app.handle(in), req.keep_alive(), head);
  }

  void send(Response r, bool keep_alive, bool head) {
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res_.insert(k, v);
    const std::size_t length = r.body.size();
    if (!head) res_.body() = std::move(r.body);
    res_.content_length(length);
    res_.keep_alive(keep_alive && !srv_.stopping);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(srv_.settings.read_timeout_s));
    http::async_write(stream_, res_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->res_.keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    }
  }

  Server::Impl& srv_;
  Stream stream_;
  std::string peer_;
  bool tls_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
};

}  // namespace

void Server::Impl::accept() {
  if (open >= settings.max_connections || stopping) return;
  accepting = true;
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    accepting = false;
    if (ec == net::error::operation_aborted || stopping) return;
    if (!ec) {
      beast::error_code pe;
      const auto ep = socket.remote_endpoint(pe);
      if (!pe) {
        const std::string peer = peer_text(ep);
        if (tls) {
          std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(
              *this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls), peer, true)
              ->start();
        } else {
          std::make_shared<Connection<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)), peer, false)
              ->start();
        }
      }
    }
    if (!accepting) accept();
  });
}

Server::Server(const WebSettings& settings, App& app) : impl_(std::make_unique<Impl>(settings, app)) {
  const std::string& listen = settings.listen;
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("[web] listen: expected HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const std::string_view port_text = std::string_view(listen).substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    throw std::runtime_error("[web] listen: bad port in " + listen);
  beast::error_code bec;
  const auto address = net::ip::make_address(host, bec);
  if (bec) throw std::runtime_error("[web] listen: '" + host + "' is not an IP address");
  if (!settings.certificate.empty()) {
    impl_->tls.emplace(ssl::context::tls_server);
    auto& ctx = *impl_->tls;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.use_certificate_chain_file(settings.certificate, bec);
    if (bec) throw std::runtime_error("[web] certificate " + settings.certificate + ": " + bec.message());
    ctx.use_private_key_file(settings.private_key, ssl::context::pem, bec);
    if (bec) throw std::runtime_error("[web] private_key " + settings.private_key + ": " + bec.message());
  }
  const tcp::endpoint ep(address, static_cast<unsigned short>(port));
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), bec);
  if (!bec) a.set_option(net::socket_base::reuse_address(true), bec);
  if (!bec) a.bind(ep, bec);
  if (!bec) a.listen(net::socket_base::max_listen_connections, bec);
  if (bec) throw std::runtime_error("[web] listen " + listen + ": " + bec.message());
}

Server::~Server() = default;

unsigned short Server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void Server::run(bool handle_signals) {
  std::optional<net::signal_set> signals;
  if (handle_signals) {
    signals.emplace(impl_->ioc, SIGTERM, SIGINT);
    signals->async_wait([this](beast::error_code ec, int) {
      if (!ec) stop();
    });
  }
  impl_->accept();
  impl_->ioc.run();
}

void Server::stop() {
  net::post(impl_->ioc, [impl = impl_.get()] {
    impl->stopping = true;
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->ioc.stop();
  });
}

}  // namespace emogate::web
