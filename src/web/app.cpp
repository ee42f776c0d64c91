// The web view's request handling apart from the network: parse, decide
// who is asking, check the CSRF token of every POST, answer the server's
// own paths and route the rest to the pages; add the security headers.
// Trusted input: the configuration. The request (target, headers, body,
// cookies) is the client's; a proxy's user header is believed only from
// [web] trusted_proxies.
#include "web/app.h"

#include <sys/stat.h>
#include <syslog.h>

#include <exception>

#include "common/text.h"
#include "milter/policy.h"
#include "web/html.h"
#include "web/request.h"
#include "web/status.h"

namespace emogate::web {

std::string_view HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return {};
}

std::size_t HttpRequest::header_count(std::string_view lower_name) const {
  std::size_t n = 0;
  for (const auto& h : headers) n += h.first == lower_name;
  return n;
}

void add_security_headers(Response& res, bool tls) {
  res.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  res.headers.emplace_back("Cache-Control", "no-store");
  res.headers.emplace_back("X-Frame-Options", "DENY");
  if (tls) res.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
}

struct App::Prepared {
  Request req;
  bool secure = false;   // cookies get "Secure" (our TLS, or a trusted proxy's https)
  bool proxy_auth = false;
  std::string session_id;  // the live session's id, "" when none
  std::vector<std::string> set_cookies;
};

App::App(Services& services, std::vector<Route> routes)
    : services_(services),
      settings_(services.config->web),
      routes_(std::move(routes)),
      sessions_(settings_.session_lifetime_s, settings_.session_idle_s, settings_.max_sessions),
      limiter_(settings_.login_max_failures, settings_.login_window_s, settings_.max_login_tracked),
      proxies_(settings_.trusted_proxies) {}

std::string App::load_users() {
  if (settings_.users_file.empty()) return {};
  struct stat st {};
  if (::stat(settings_.users_file.c_str(), &st) != 0) return settings_.users_file + ": cannot stat";
  std::string error;
  auto users = Users::load(settings_.users_file, error);
  if (!users) return error;
  users_ = std::move(*users);
  users_mtime_ns_ = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return {};
}

void App::maybe_reload_users() {
  if (settings_.users_file.empty()) return;
  struct stat st {};
  if (::stat(settings_.users_file.c_str(), &st) != 0) return;
  const std::int64_t m = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (m == users_mtime_ns_) return;
  if (std::string why = load_users(); !why.empty())
    syslog(LOG_MAIL | LOG_WARNING, "web: users file not reloaded (the old accounts stay): %s",
           policy::escape_text(why).c_str());
}

std::string App::cookie_attributes(bool secure) const {
  return std::string("; Path=/; HttpOnly; SameSite=Strict") + (secure ? "; Secure" : "");
}

Response App::handle(const HttpRequest& in) {
  Prepared p;
  Response res;
  try {
    res = dispatch(p, in);
  } catch (const std::exception& e) {
    syslog(LOG_MAIL | LOG_ERR, "web: error: %s %s: %s", policy::escape_text(in.method).c_str(),
           policy::escape_text(p.req.path).c_str(), policy::escape_text(e.what()).c_str());
    res = error_page(p.req, 500, tr(p.req.lang, "error.internal"));
  } catch (...) {
    res = error_page(p.req, 500, tr(p.req.lang, "error.internal"));
  }
  for (std::string& c : p.set_cookies) res.headers.emplace_back("Set-Cookie", std::move(c));
  add_security_headers(res, in.tls);
  return res;
}

Response App::dispatch(Prepared& p, const HttpRequest& in) {
  Request& r = p.req;
  const std::int64_t now = services_.now();
  r.remote = in.peer;
  const bool from_proxy = proxies_.trusted(in.peer);
  if (from_proxy) {
    // The client's address as the proxy saw it (its last hop), for the
    // login limiter and the log.
    std::string_view xff = in.header("x-forwarded-for");
    if (const std::size_t comma = xff.rfind(','); comma != std::string_view::npos) xff = xff.substr(comma + 1);
    while (!xff.empty() && xff.front() == ' ') xff.remove_prefix(1);
    while (!xff.empty() && xff.back() == ' ') xff.remove_suffix(1);
    if (outbound::parse_address(xff)) r.remote = std::string(xff);
  }
  p.secure = in.tls || (from_proxy && in.header("x-forwarded-proto") == "https");

  // The language first: every error page below is in it.
  const std::string_view cookies = in.header("cookie");
  const std::string_view target = in.target;
  const std::size_t qmark = target.find('?');
  const bool query_ok =
      qmark == std::string_view::npos || parse_pairs(target.substr(qmark + 1), settings_.max_form_fields, r.query);
  const std::string lang_cookie = cookie_value(cookies, kLangCookie).value_or("");
  const std::string query_lang = r.query.count("lang") ? r.query.find("lang")->second : "";
  r.lang = choose_lang(query_lang, lang_cookie, in.header("accept-language"));
  if (parse_lang(query_lang))
    p.set_cookies.push_back(std::string(kLangCookie) + "=" + std::string(lang_code(r.lang)) +
                            "; Max-Age=31536000" + cookie_attributes(p.secure));

  if (!query_ok || !parse_path(target.substr(0, qmark), r.path)) return error_page(r, 400, tr(r.lang, "error.bad_request"));
  r.method = in.method == "HEAD" ? "GET" : in.method;
  if (r.method != "GET" && r.method != "POST") {
    Response res = error_page(r, 405, tr(r.lang, "error.method"));
    res.headers.emplace_back("Allow", "GET, HEAD, POST");
    return res;
  }
  if (r.method == "POST") {
    const std::string ct = ascii_lower(in.header("content-type"));
    if (!in.body.empty() && ct.rfind("application/x-www-form-urlencoded", 0) != 0)
      return error_page(r, 415, tr(r.lang, "error.bad_request"));
    if (!parse_pairs(in.body, settings_.max_form_fields, r.form)) return error_page(r, 400, tr(r.lang, "error.bad_request"));
  }

  // Browsers ask for it on their own: a plain 404, never the login
  // redirect (whose /login load would replace the login form's token).
  if (r.path == "/favicon.ico") return error_page(r, 404, tr(r.lang, "error.not_found"));
  if (r.path == "/static/style.css" && r.method == "GET") {
    Response res;
    res.content_type = "text/css; charset=utf-8";
    res.body = std::string(style_css());
    return res;
  }

  // Who is asking: a trusted proxy's header, else our session cookie. The
  // header from any other address is ignored (anyone can send it).
  std::string proxy_user;
  if (!settings_.proxy_user_header.empty() && from_proxy) {
    const std::string name = ascii_lower(settings_.proxy_user_header);
    if (in.header_count(name) > 1) return error_page(r, 400, tr(r.lang, "error.bad_request"));
    proxy_user = std::string(in.header(name));
    if (!proxy_user.empty() && !valid_user_name(proxy_user)) return error_page(r, 403, tr(r.lang, "error.bad_request"));
  }
  const std::string sid = cookie_value(cookies, kSessionCookie).value_or("");
  const Session* s = sid.empty() ? nullptr : sessions_.find(sid, now);
  if (!proxy_user.empty()) {
    // The proxy vouches for the operator; a session of ours still carries
    // the CSRF token (a new one when the proxy's user changed).
    if (!s || s->user != proxy_user) {
      if (s) sessions_.remove(sid);
      s = &sessions_.create(proxy_user, now);
      p.set_cookies.push_back(std::string(kSessionCookie) + "=" + s->id + cookie_attributes(p.secure));
    }
    p.proxy_auth = true;
  }
  if (s) {
    r.operator_name = s->user;
    r.csrf_token = s->csrf;
    p.session_id = s->id;
  }

  if (r.path == "/login") {
    if (r.method == "POST") return login(p, in);
    if (!r.operator_name.empty()) return redirect("/quarantine");
    return login_page(r, p.secure, cookie_value(cookies, kLoginCookie).value_or(""),
                      r.query.count("bye") ? "login.logged_out" : "", 200);
  }
  if (r.operator_name.empty()) {
    if (r.method == "POST") return error_page(r, 403, tr(r.lang, "login.expired"));
    // Back here after the login: the target as the client sent it (still
    // percent-encoded, so it is fit for a Location header).
    const std::string next(target);
    return redirect(next == "/" ? "/login" : "/login?next=" + url_encode(next));
  }

  // Authenticated. Every POST carries the session's token.
  if (r.method == "POST") {
    const auto it = r.form.find("csrf");
    if (it == r.form.end() || !tokens_equal(it->second, r.csrf_token)) {
      log_action(r, "csrf_refused", r.path, "refused");
      return error_page(r, 403, tr(r.lang, "error.csrf"));
    }
  }
  if (r.path == "/logout") {
    if (r.method != "POST") return error_page(r, 405, tr(r.lang, "error.method"));
    return logout(p);
  }
  if (r.path == "/" && r.method == "GET") return redirect("/quarantine");
  if (r.path == "/status" && r.method == "GET") return status_page(r, services_, sessions_.size());
  return run_route(r);
}

Response App::run_route(const Request& r) {
  const Route* exact = nullptr;
  const Route* prefix = nullptr;
  bool other_method = false;
  for (const Route& route : routes_) {
    const bool is_prefix = !route.path.empty() && route.path.back() == '/';
    const bool matches = is_prefix ? r.path.size() > route.path.size() && r.path.compare(0, route.path.size(), route.path) == 0
                                   : r.path == route.path;
    if (!matches) continue;
    if (route.method != r.method) {
      other_method = true;
      continue;
    }
    if (!is_prefix) exact = &route;
    else if (!prefix || route.path.size() > prefix->path.size()) prefix = &route;
  }
  const Route* route = exact ? exact : prefix;
  if (route) return route->handler(r, services_);
  if (other_method) return error_page(r, 405, tr(r.lang, "error.method"));
  return error_page(r, 404, tr(r.lang, "error.not_found"));
}

Response App::login_page(const Request& r, bool secure, std::string_view login_cookie, std::string_view message_key,
                         int status) {
  Response res;
  res.status = status;
  std::string body;
  if (!message_key.empty()) {
    const bool bad = message_key != "login.logged_out";
    body += std::string("<p class=\"") + (bad ? "error" : "notice") + "\">" + html_escape(tr(r.lang, message_key)) + "</p>\n";
  }
  if (!users_ || users_->size() == 0) {
    body += "<p class=\"notice\">" + html_escape(tr(r.lang, "login.proxy_only")) + "</p>\n";
    res.body = page(r, tr(r.lang, "login.title"), body);
    return res;
  }
  // The login form's own CSRF token, in a cookie and in the form: a page
  // elsewhere cannot log the browser in as someone else.
  const std::string token = well_formed_token(login_cookie) ? std::string(login_cookie) : random_token();
  res.headers.emplace_back("Set-Cookie", std::string(kLoginCookie) + "=" + token +
                                             cookie_attributes(secure));
  std::string next = r.param("next");
  body += "<form method=\"post\" action=\"/login\" class=\"login\">\n";
  body += "<input type=\"hidden\" name=\"csrf\" value=\"" + token + "\">\n";
  if (!next.empty()) body += "<input type=\"hidden\" name=\"next\" value=\"" + html_escape(next) + "\">\n";
  body += "<label>" + html_escape(tr(r.lang, "login.user")) +
          " <input type=\"text\" name=\"user\" autocomplete=\"username\" required autofocus maxlength=\"64\" value=\"" +
          html_escape(r.form.count("user") ? r.form.find("user")->second : "") + "\"></label>\n";
  body += "<label>" + html_escape(tr(r.lang, "login.password")) +
          " <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\n";
  body += "<button type=\"submit\">" + html_escape(tr(r.lang, "login.submit")) + "</button>\n</form>\n";
  res.body = page(r, tr(r.lang, "login.title"), body);
  return res;
}

Response App::login(Prepared& p, const HttpRequest& in) {
  Request& r = p.req;
  const std::int64_t now = services_.now();
  const std::string form_token = r.param("csrf");
  const std::string cookie_token = cookie_value(in.header("cookie"), kLoginCookie).value_or("");
  if (r.form.find("csrf") == r.form.end() || !tokens_equal(form_token, cookie_token))
    return error_page(r, 403, tr(r.lang, "error.csrf"));
  maybe_reload_users();
  if (!users_ || users_->size() == 0) return login_page(r, p.secure, cookie_token, "", 403);
  const std::string user = r.form.count("user") ? r.form.find("user")->second : "";
  const std::string password = r.form.count("password") ? r.form.find("password")->second : "";
  const std::string addr_key = "addr:" + r.remote;
  const std::string user_key = "user:" + user.substr(0, 64);
  if (limiter_.blocked(addr_key, now) || limiter_.blocked(user_key, now)) {
    log_action(r, "login", user, "rate_limited");
    return login_page(r, p.secure, cookie_token, "login.rate_limited", 429);
  }
  // XXX: each attempt that passes the limiter costs one Argon2id
  // verification (64 MiB, tens of milliseconds) on the server's one thread;
  // guesses from many addresses can keep it busy for everyone.
  if (!valid_user_name(user) || !users_->verify(user, password)) {
    limiter_.failure(addr_key, now);
    limiter_.failure(user_key, now);
    log_action(r, "login", user, "failed");
    return login_page(r, p.secure, cookie_token, "login.failed", 403);
  }
  limiter_.success(user_key);
  if (!p.session_id.empty()) sessions_.remove(p.session_id);
  const Session& s = sessions_.create(user, now);
  p.set_cookies.push_back(std::string(kSessionCookie) + "=" + s.id + cookie_attributes(p.secure));
  p.set_cookies.push_back(std::string(kLoginCookie) + "=; Max-Age=0" + cookie_attributes(p.secure));
  r.operator_name = user;
  log_action(r, "login", user, "ok");
  const std::string next = r.param("next");
  return redirect(next.empty() ? "/quarantine" : next);
}

Response App::logout(Prepared& p) {
  log_action(p.req, "logout", p.req.operator_name, "ok");
  sessions_.remove(p.session_id);
  p.set_cookies.push_back(std::string(kSessionCookie) + "=; Max-Age=0" + cookie_attributes(p.secure));
  return redirect("/login?bye=1");
}

}  // namespace emogate::web
