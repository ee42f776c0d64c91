// The web view's request handling, apart from the network: authentication
// (a session cookie from a login with a local account, or a trusted reverse
// proxy's user header), the CSRF check of every POST, the language, the
// server's own pages (/login, /logout, /static/style.css, /status), the
// pages' routes, and the security headers of every response. The HTTP
// server (server.h) feeds it parsed requests one at a time; tests call it
// directly.
// Trusted input: the configuration. Everything in an HttpRequest is the
// client's (the peer address is the kernel's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emogate/config.h"
#include "web/auth.h"
#include "web/session.h"
#include "web/web.h"

namespace emogate::web {

// One request as the server read it.
struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", "HEAD", ...
  std::string target;  // "/path?query", undecoded
  std::string peer;    // the connecting address ("127.0.0.1", "::1")
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  bool tls = false;  // arrived over our own TLS

  // The first value of header `lower_name`; "" when absent.
  std::string_view header(std::string_view lower_name) const;
  std::size_t header_count(std::string_view lower_name) const;
};

// Cookie names.
inline constexpr std::string_view kSessionCookie = "emogate_session";
inline constexpr std::string_view kLoginCookie = "emogate_login";  // the login form's CSRF token
inline constexpr std::string_view kLangCookie = "emogate_lang";

class App {
 public:
  // `services.config` must stay valid; its [web] section gives every bound.
  App(Services& services, std::vector<Route> routes);

  // Local accounts: read from [web] users_file now, and again when the
  // file changes (checked at each login). "" or why the file was not read.
  std::string load_users();
  // Tests: accounts without a file.
  void set_users(Users users) { users_ = std::move(users); }

  // Never throws: a handler's exception becomes a 500 page (and a log line).
  Response handle(const HttpRequest& in);

  Sessions& sessions() { return sessions_; }

 private:
  struct Prepared;  // the parsed request, its authentication and cookies
  Response dispatch(Prepared& p, const HttpRequest& in);
  // `login_cookie`: the browser's login-form token, kept when well formed so
  // that a second /login load (another tab, a redirected favicon request)
  // does not invalidate the form already shown.
  Response login_page(const Request& r, bool secure, std::string_view login_cookie, std::string_view message_key,
                      int status);
  Response login(Prepared& p, const HttpRequest& in);
  Response logout(Prepared& p);
  Response run_route(const Request& r);
  void maybe_reload_users();
  std::string cookie_attributes(bool secure) const;

  Services& services_;
  const WebSettings& settings_;
  std::vector<Route> routes_;
  std::optional<Users> users_;
  std::int64_t users_mtime_ns_ = -1;
  Sessions sessions_;
  LoginLimiter limiter_;
  ProxyTrust proxies_;
};

// Adds the security headers (CSP, nosniff, Referrer-Policy, no-store,
// frame denial; HSTS over TLS) to `res`.
void add_security_headers(Response& res, bool tls);

}  // namespace emogate::web
