// The web view's HTTP server in-process on an ephemeral loopback port, with
// a small Beast client: the security headers on the wire, the header and
// body limits (431, 413), HEAD, a whole login over HTTP, and TLS with a
// throwaway self-signed certificate.
#include <gtest/gtest.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <thread>

#include "unit/test_files.h"
#include "unit/web_fixture.h"
#include "web/server.h"

namespace emogate::web {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

using Reply = http::response<http::string_body>;

// The fixture's App behind a running Server on 127.0.0.1:PORT.
struct Running {
  test::WebFixture f;
  std::unique_ptr<Server> server;
  std::thread thread;
  explicit Running(const std::string& toml = "users_file = \"/nonexistent/users\"\nmax_header_size = 2048\n"
                                             "max_request_size = 2048\n",
                   const std::string& cert = "", const std::string& key = "")
      : f(toml) {
    f.config.web.listen = "127.0.0.1:0";
    f.config.web.certificate = cert;
    f.config.web.private_key = key;
    server = std::make_unique<Server>(f.config.web, *f.app);
    thread = std::thread([this] { server->run(); });
  }
  ~Running() {
    server->stop();
    thread.join();
  }
  unsigned short port() const { return server->port(); }
};

// Sends `raw` bytes and reads one response.
Reply exchange_raw(unsigned short port, const std::string& raw) {
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), port});
  net::write(s, net::buffer(raw));
  beast::flat_buffer buf;
  Reply res;
  beast::error_code ec;
  http::read(s, buf, res, ec);
  return res;
}

Reply exchange(unsigned short port, http::request<http::string_body> req) {
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), port});
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  req.prepare_payload();
  http::write(s, req);
  beast::flat_buffer buf;
  Reply res;
  http::read(s, buf, res);
  return res;
}

http::request<http::string_body> request(http::verb v, const std::string& target, const std::string& cookie = "",
                                         const std::string& body = "") {
  http::request<http::string_body> req{v, target, 11};
  if (!cookie.empty()) req.set(http::field::cookie, cookie);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = body;
  }
  return req;
}

// The value cookie `name` gets from the reply's Set-Cookie headers.
std::string cookie_from(const Reply& res, const std::string& name) {
  for (const auto& field : res) {
    if (field.name() != http::field::set_cookie) continue;
    const std::string v(field.value());
    if (v.rfind(name + "=", 0) == 0) return v.substr(name.size() + 1, v.find(';') - name.size() - 1);
  }
  return "";
}

TEST(WebServer, ServesWithSecurityHeaders) {
  Running r;
  const Reply res = exchange(r.port(), request(http::verb::get, "/static/style.css"));
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[http::field::content_type], "text/css; charset=utf-8");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  EXPECT_NE(std::string(res["Content-Security-Policy"]).find("default-src 'none'"), std::string::npos);
  EXPECT_NE(res.body().find("font-family"), std::string::npos);
}

TEST(WebServer, HeadHasNoBody) {
  Running r;
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), r.port()});
  net::write(s, net::buffer(std::string("HEAD /static/style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  std::string all;
  beast::error_code ec;
  char buf[4096];
  while (true) {
    const std::size_t n = s.read_some(net::buffer(buf), ec);
    if (ec) break;
    all.append(buf, n);
  }
  EXPECT_EQ(all.rfind("HTTP/1.1 200", 0), 0u) << all;
  EXPECT_NE(all.find("Content-Length: "), std::string::npos);
  EXPECT_EQ(all.find("font-family"), std::string::npos);
}

TEST(WebServer, HeaderLimit) {
  Running r;
  const Reply res = exchange_raw(
      r.port(), "GET /login HTTP/1.1\r\nHost: x\r\nCookie: " + std::string(4096, 'a') + "\r\n\r\n");
  EXPECT_EQ(res.result_int(), 431u);
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
}

TEST(WebServer, BodyLimit) {
  Running r;
  const Reply res = exchange(r.port(), request(http::verb::post, "/login", "", "user=" + std::string(4096, 'a')));
  EXPECT_EQ(res.result_int(), 413u);
}

TEST(WebServer, MalformedRequest) {
  Running r;
  EXPECT_EQ(exchange_raw(r.port(), "GET /login HTTP/9.9 junk\r\n\r\n").result_int(), 400u);
}

TEST(WebServer, LoginOverHttp) {
  Running r;
  const Reply form = exchange(r.port(), request(http::verb::get, "/login"));
  ASSERT_EQ(form.result_int(), 200u);
  const std::string token = cookie_from(form, "emogate_login");
  ASSERT_EQ(token.size(), 64u);
  const Reply in = exchange(r.port(), request(http::verb::post, "/login", "emogate_login=" + token,
                                              "csrf=" + token + "&user=alice&password=correct+horse"));
  ASSERT_EQ(in.result_int(), 303u);
  const std::string sid = cookie_from(in, "emogate_session");
  ASSERT_EQ(sid.size(), 64u);
  const Reply list = exchange(r.port(), request(http::verb::get, "/quarantine", "emogate_session=" + sid));
  EXPECT_EQ(list.result_int(), 200u);
  EXPECT_EQ(r.f.last_operator, "alice");
}

TEST(WebServer, Tls) {
  test::TempDir d;
  const std::string cert = (d.path / "cert.pem").string(), key = (d.path / "key.pem").string();
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout '" + key +
                          "' -out '" + cert + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl cannot make a certificate here";
  Running r("users_file = \"/nonexistent/users\"\n", cert, key);
  net::io_context ioc;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.set_verify_mode(net::ssl::verify_none);  // a throwaway certificate
  beast::ssl_stream<beast::tcp_stream> s(ioc, ctx);
  beast::get_lowest_layer(s).connect({net::ip::make_address("127.0.0.1"), r.port()});
  s.handshake(net::ssl::stream_base::client);
  auto req = request(http::verb::get, "/login");
  req.set(http::field::host, "localhost");
  http::write(s, req);
  beast::flat_buffer buf;
  Reply res;
  http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res["Strict-Transport-Security"], "max-age=31536000");
  std::string set;
  for (const auto& field : res)
    if (field.name() == http::field::set_cookie) set = std::string(field.value());
  EXPECT_NE(set.find("; Secure"), std::string::npos) << set;
  // Plain HTTP to the TLS port gets no page.
  net::io_context ioc2;
  tcp::socket plain(ioc2);
  plain.connect({net::ip::make_address("127.0.0.1"), r.port()});
  net::write(plain, net::buffer(std::string("GET /login HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::string got;
  beast::error_code ec;
  char b[1024];
  while (true) {
    const std::size_t n = plain.read_some(net::buffer(b), ec);
    if (ec) break;
    got.append(b, n);
  }
  EXPECT_EQ(got.find("emogate_login"), std::string::npos);
}

}  // namespace
}  // namespace emogate::web
