// A web view App over a temporary quarantine with one local account
// ("alice", password "correct horse"), a test clock and two test routes
// (GET /quarantine, POST /quarantine/release, which counts its calls), and
// helpers that play the browser: requests with cookies, logging in through
// the login form.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "emogate/config.h"
#include "quarantine/store.h"
#include "unit/test_files.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/request.h"

namespace emogate::test {

inline const std::string kAlicePassword = "correct horse";

// The value a Set-Cookie of `res` gives cookie `name` ("" when none).
inline std::string set_cookie(const web::Response& res, std::string_view name) {
  for (const auto& [k, v] : res.headers) {
    if (k != "Set-Cookie" || v.compare(0, name.size() + 1, std::string(name) + "=") != 0) continue;
    return v.substr(name.size() + 1, v.find(';') - name.size() - 1);
  }
  return "";
}

inline std::string header_of(const web::Response& res, std::string_view name) {
  for (const auto& [k, v] : res.headers)
    if (k == name) return v;
  return "";
}

struct WebFixture {
  TempDir dir;
  Config config;
  std::unique_ptr<QuarantineStore> quarantine;
  web::Services services;
  std::int64_t clock = 1'700'000'000;
  int release_calls = 0;
  std::string last_operator;
  std::unique_ptr<web::App> app;

  explicit WebFixture(const std::string& web_toml = "users_file = \"/nonexistent/users\"\n") {
    config = parse_config("[web]\n" + web_toml, "test.toml");
    quarantine = std::make_unique<QuarantineStore>((dir.path / "q").string());
    quarantine->ensure_dir();
    services.config = &config;
    services.quarantine = quarantine.get();
    services.now = [this] { return clock; };
    std::vector<web::Route> routes;
    routes.push_back({"GET", "/quarantine", [this](const web::Request& r, web::Services&) {
                        last_operator = r.operator_name;
                        web::Response res;
                        res.body = web::page(r, "list", "<form method=\"post\">" + web::csrf_field(r) + "</form>");
                        return res;
                      }});
    routes.push_back({"POST", "/quarantine/release", [this](const web::Request& r, web::Services&) {
                        ++release_calls;
                        last_operator = r.operator_name;
                        return web::redirect("/quarantine");
                      }});
    routes.push_back({"GET", "/boom", [](const web::Request&, web::Services&) -> web::Response {
                        throw std::runtime_error("handler failed");
                      }});
    app = std::make_unique<web::App>(services, std::move(routes));
    web::Users users;
    users.set("alice", web::hash_password(kAlicePassword));
    app->set_users(std::move(users));
  }

  web::Response get(const std::string& target, const std::string& cookies = "", const std::string& peer = "127.0.0.1",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    web::HttpRequest in;
    in.method = "GET";
    in.target = target;
    in.peer = peer;
    in.headers = std::move(headers);
    if (!cookies.empty()) in.headers.emplace_back("cookie", cookies);
    return app->handle(in);
  }

  web::Response post(const std::string& target, const std::string& body, const std::string& cookies = "",
                     const std::string& peer = "127.0.0.1",
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    web::HttpRequest in;
    in.method = "POST";
    in.target = target;
    in.peer = peer;
    in.body = body;
    in.headers = std::move(headers);
    in.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    if (!cookies.empty()) in.headers.emplace_back("cookie", cookies);
    return app->handle(in);
  }

  // Fills in and sends the login form as a browser would; returns the
  // POST's response.
  web::Response login(const std::string& user, const std::string& password, const std::string& peer = "127.0.0.1") {
    const web::Response form = get("/login", "", peer);
    const std::string token = set_cookie(form, web::kLoginCookie);
    return post("/login", "csrf=" + token + "&user=" + web::url_encode(user) + "&password=" + web::url_encode(password),
                std::string(web::kLoginCookie) + "=" + token, peer);
  }

  // Logs alice in; returns the session cookie's value.
  std::string session() { return set_cookie(login("alice", kAlicePassword), web::kSessionCookie); }

  // The CSRF token a page of the session carries.
  std::string csrf_of(const std::string& sid) {
    const web::Response page = get("/quarantine", std::string(web::kSessionCookie) + "=" + sid);
    const std::string marker = "name=\"csrf\" value=\"";
    const std::size_t at = page.body.find(marker);
    if (at == std::string::npos) return "";
    return page.body.substr(at + marker.size(), 64);
  }
};

}  // namespace emogate::test
