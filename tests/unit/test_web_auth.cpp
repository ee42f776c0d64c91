// The web view's gatekeeping, through the App as the server drives it:
// login (wrong password, the login form's own token, rate limiting per
// address and per name), sessions (cookie flags, idle and absolute expiry,
// logout), CSRF on every POST before the handler runs, the reverse proxy's
// user header (believed only from trusted_proxies), security headers on
// every response; the users file and the [web] settings the server refuses.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "unit/test_files.h"
#include "unit/web_fixture.h"
#include "web/auth.h"
#include "web/server.h"
#include "web/session.h"

namespace emogate::web {
namespace {

using test::header_of;
using test::set_cookie;
using test::WebFixture;

std::string cookie(std::string_view name, const std::string& value) { return std::string(name) + "=" + value; }

TEST(WebAuth, UnauthenticatedRequestsGoToLogin) {
  WebFixture f;
  const Response res = f.get("/quarantine?sender=a%40b");
  EXPECT_EQ(res.status, 303);
  EXPECT_EQ(header_of(res, "Location"), "/login?next=%2Fquarantine%3Fsender%3Da%2540b");
  EXPECT_EQ(f.last_operator, "");
  // A POST without a session never reaches its handler.
  EXPECT_EQ(f.post("/quarantine/release", "id=x").status, 403);
  EXPECT_EQ(f.release_calls, 0);
}

TEST(WebAuth, WrongPasswordIsRefused) {
  WebFixture f;
  const Response res = f.login("alice", "wrong horse");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(set_cookie(res, kSessionCookie), "");
  EXPECT_NE(res.body.find(std::string(tr(Lang::en, "login.failed"))), std::string::npos);
  EXPECT_EQ(f.login("mallory", test::kAlicePassword).status, 403);
  EXPECT_EQ(f.login("alice", "").status, 403);
}

TEST(WebAuth, RightPasswordOpensASession) {
  WebFixture f;
  const Response res = f.login("alice", test::kAlicePassword);
  EXPECT_EQ(res.status, 303);
  EXPECT_EQ(header_of(res, "Location"), "/quarantine");
  std::string set;
  for (const auto& [k, v] : res.headers)
    if (k == "Set-Cookie" && v.starts_with("emogate_session=")) set = v;
  EXPECT_NE(set.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("; SameSite=Strict"), std::string::npos);
  EXPECT_EQ(set.find("; Secure"), std::string::npos);  // plain HTTP on loopback
  const std::string sid = set_cookie(res, kSessionCookie);
  EXPECT_EQ(sid.size(), 64u);
  EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, sid)).status, 200);
  EXPECT_EQ(f.last_operator, "alice");
  // A made-up session id is nobody.
  EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, std::string(64, 'a'))).status, 303);
}

TEST(WebAuth, SessionCookieIsSecureBehindTls) {
  WebFixture f;
  HttpRequest in;
  in.method = "GET";
  in.target = "/login";
  in.peer = "127.0.0.1";
  in.tls = true;
  const Response form = f.app->handle(in);
  EXPECT_EQ(header_of(form, "Strict-Transport-Security"), "max-age=31536000");
  const std::string token = set_cookie(form, kLoginCookie);
  in.method = "POST";
  in.target = "/login";
  in.body = "csrf=" + token + "&user=alice&password=correct+horse";
  in.headers = {{"cookie", cookie(kLoginCookie, token)}, {"content-type", "application/x-www-form-urlencoded"}};
  const Response res = f.app->handle(in);
  ASSERT_EQ(res.status, 303);
  std::string set;
  for (const auto& [k, v] : res.headers)
    if (k == "Set-Cookie" && v.starts_with("emogate_session=")) set = v;
  EXPECT_NE(set.find("; Secure"), std::string::npos) << set;
}

TEST(WebAuth, LoginFormNeedsItsOwnToken) {
  WebFixture f;
  // No token at all, or a token that is not the browser's cookie: a page
  // elsewhere cannot log the browser in.
  EXPECT_EQ(f.post("/login", "user=alice&password=correct+horse").status, 403);
  const std::string token = set_cookie(f.get("/login"), kLoginCookie);
  EXPECT_EQ(f.post("/login", "csrf=" + token + "&user=alice&password=correct+horse").status, 403);
  EXPECT_EQ(f.post("/login", "csrf=" + std::string(64, '0') + "&user=alice&password=correct+horse",
                   cookie(kLoginCookie, token))
                .status,
            403);
}

// A browser loads /login again before it posts the form (another tab; its
// own favicon request, which must not be sent to the login page at all):
// the form already shown still logs in.
TEST(WebAuth, SecondLoginPageKeepsTheFormsToken) {
  WebFixture f;
  const Response first = f.get("/login");
  const std::string token = set_cookie(first, kLoginCookie);
  ASSERT_EQ(token.size(), 64u);
  EXPECT_NE(first.body.find("value=\"" + token + "\""), std::string::npos);
  const Response favicon = f.get("/favicon.ico", cookie(kLoginCookie, token));
  EXPECT_EQ(favicon.status, 404);
  EXPECT_TRUE(set_cookie(favicon, kLoginCookie).empty());
  const Response second = f.get("/login", cookie(kLoginCookie, token));
  EXPECT_EQ(set_cookie(second, kLoginCookie), token);
  EXPECT_EQ(f.post("/login", "csrf=" + token + "&user=alice&password=correct+horse", cookie(kLoginCookie, token)).status,
            303);
  // A cookie that random_token() could not have made is replaced.
  const Response odd = f.get("/login", cookie(kLoginCookie, "x"));
  EXPECT_EQ(set_cookie(odd, kLoginCookie).size(), 64u);
}

TEST(WebAuth, RateLimitPerAddress) {
  WebFixture f("users_file = \"/nonexistent/users\"\nlogin_max_failures = 3\nlogin_window = \"10m\"\n");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(f.login("bob" + std::to_string(i), "guess", "192.0.2.1").status, 403);
  // Blocked now, even with alice's right password, from that address...
  const Response blocked = f.login("alice", test::kAlicePassword, "192.0.2.1");
  EXPECT_EQ(blocked.status, 429);
  EXPECT_EQ(set_cookie(blocked, kSessionCookie), "");
  // ...but not from another one.
  EXPECT_EQ(f.login("alice", test::kAlicePassword, "192.0.2.2").status, 303);
  // The window ends.
  f.clock += 600;
  EXPECT_EQ(f.login("alice", test::kAlicePassword, "192.0.2.1").status, 303);
}

TEST(WebAuth, RateLimitPerUserName) {
  WebFixture f("users_file = \"/nonexistent/users\"\nlogin_max_failures = 3\nlogin_window = \"10m\"\n");
  for (int i = 0; i < 3; ++i) f.login("alice", "guess", "192.0.2." + std::to_string(10 + i));
  EXPECT_EQ(f.login("alice", test::kAlicePassword, "192.0.2.99").status, 429);
  f.clock += 599;
  EXPECT_EQ(f.login("alice", test::kAlicePassword, "192.0.2.99").status, 429);
  f.clock += 1;
  EXPECT_EQ(f.login("alice", test::kAlicePassword, "192.0.2.99").status, 303);
}

TEST(WebAuth, SessionIdleExpiry) {
  WebFixture f("users_file = \"/nonexistent/users\"\nsession_idle = \"30m\"\nsession_lifetime = \"8h\"\n");
  const std::string sid = f.session();
  f.clock += 1799;
  EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, sid)).status, 200);
  f.clock += 1799;  // each request restarts the idle time
  EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, sid)).status, 200);
  f.clock += 1800;
  EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, sid)).status, 303);
  f.clock -= 1800;  // gone for good, not just late
  EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, sid)).status, 303);
}

TEST(WebAuth, SessionAbsoluteExpiry) {
  WebFixture f("users_file = \"/nonexistent/users\"\nsession_idle = \"30m\"\nsession_lifetime = \"2h\"\n");
  const std::string sid = f.session();
  for (int i = 0; i < 4; ++i) {
    f.clock += 1500;
    EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, sid)).status, 200) << i;
  }
  f.clock += 1200;  // 7200 s after login, though used 20 minutes ago
  EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, sid)).status, 303);
}

TEST(WebAuth, LogoutEndsTheSession) {
  WebFixture f;
  const std::string sid = f.session();
  const std::string csrf = f.csrf_of(sid);
  ASSERT_EQ(csrf.size(), 64u);
  EXPECT_EQ(f.get("/logout", cookie(kSessionCookie, sid)).status, 405);  // GET changes nothing
  EXPECT_EQ(f.post("/logout", "", cookie(kSessionCookie, sid)).status, 403);  // nor a forged POST
  EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, sid)).status, 200);
  const Response out = f.post("/logout", "csrf=" + csrf, cookie(kSessionCookie, sid));
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(f.get("/quarantine", cookie(kSessionCookie, sid)).status, 303);
  EXPECT_EQ(f.app->sessions().size(), 0u);
}

TEST(WebAuth, SessionsAreBounded) {
  Sessions s(3600, 3600, 2);
  const std::string a = s.create("a", 100).id;
  const std::string b = s.create("b", 101).id;
  ASSERT_NE(s.find(a, 102), nullptr);  // a is now the most recently used
  const std::string c = s.create("c", 103).id;
  EXPECT_EQ(s.size(), 2u);
  EXPECT_NE(s.find(a, 104), nullptr);
  EXPECT_EQ(s.find(b, 104), nullptr);
  EXPECT_NE(s.find(c, 104), nullptr);
  EXPECT_NE(a, c);
}

TEST(WebCsrf, PostWithoutOrWithWrongTokenIsForbidden) {
  WebFixture f;
  const std::string sid = f.session();
  const std::string csrf = f.csrf_of(sid);
  ASSERT_EQ(csrf.size(), 64u);
  const std::string c = cookie(kSessionCookie, sid);
  EXPECT_EQ(f.post("/quarantine/release", "id=x", c).status, 403);
  EXPECT_EQ(f.post("/quarantine/release", "id=x&csrf=", c).status, 403);
  EXPECT_EQ(f.post("/quarantine/release", "id=x&csrf=" + std::string(64, '0'), c).status, 403);
  EXPECT_EQ(f.post("/quarantine/release", "id=x&csrf=" + csrf.substr(0, 63), c).status, 403);
  // In the query string it does not count: the token belongs in the form.
  EXPECT_EQ(f.post("/quarantine/release?csrf=" + csrf, "id=x", c).status, 403);
  EXPECT_EQ(f.release_calls, 0);
  const Response ok = f.post("/quarantine/release", "id=x&csrf=" + csrf, c);
  EXPECT_EQ(ok.status, 303);
  EXPECT_EQ(f.release_calls, 1);
  EXPECT_EQ(f.last_operator, "alice");
}

TEST(WebCsrf, AnotherSessionsTokenIsForbidden) {
  WebFixture f;
  const std::string mine = f.session();
  const std::string theirs = f.session();
  ASSERT_NE(mine, theirs);
  const std::string their_token = f.csrf_of(theirs);
  EXPECT_EQ(f.post("/quarantine/release", "csrf=" + their_token, cookie(kSessionCookie, mine)).status, 403);
  EXPECT_EQ(f.release_calls, 0);
}

TEST(WebCsrf, OnlyFormBodiesArePosted) {
  WebFixture f;
  const std::string sid = f.session();
  const std::string csrf = f.csrf_of(sid);
  HttpRequest in;
  in.method = "POST";
  in.target = "/quarantine/release";
  in.peer = "127.0.0.1";
  in.body = "csrf=" + csrf;
  in.headers = {{"cookie", cookie(kSessionCookie, sid)}, {"content-type", "text/plain"}};
  EXPECT_EQ(f.app->handle(in).status, 415);
  EXPECT_EQ(f.release_calls, 0);
}

TEST(WebProxy, HeaderIgnoredFromAnUntrustedAddress) {
  WebFixture f("trusted_proxies = [\"10.0.0.1\", \"2001:db8::/64\"]\nproxy_user_header = \"X-Remote-User\"\n");
  const Response res = f.get("/quarantine", "", "10.0.0.2", {{"x-remote-user", "mallory"}});
  EXPECT_EQ(res.status, 303);
  EXPECT_EQ(f.last_operator, "");
  EXPECT_EQ(f.get("/quarantine", "", "127.0.0.1", {{"x-remote-user", "mallory"}}).status, 303);
  EXPECT_EQ(f.last_operator, "");
}

TEST(WebProxy, HeaderBelievedFromATrustedProxy) {
  WebFixture f("trusted_proxies = [\"10.0.0.1\", \"2001:db8::/64\"]\nproxy_user_header = \"X-Remote-User\"\n");
  const Response res = f.get("/quarantine", "", "10.0.0.1", {{"x-remote-user", "carol"}});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(f.last_operator, "carol");
  EXPECT_EQ(f.get("/quarantine", "", "2001:db8::5", {{"x-remote-user", "dave"}}).status, 200);
  EXPECT_EQ(f.last_operator, "dave");
  // Still no POST without the token of the session the proxy's user got.
  const std::string sid = set_cookie(res, kSessionCookie);
  ASSERT_FALSE(sid.empty());
  EXPECT_EQ(f.post("/quarantine/release", "id=x", cookie(kSessionCookie, sid), "10.0.0.1",
                   {{"x-remote-user", "carol"}})
                .status,
            403);
  // Two user headers are ambiguous; a strange name is refused.
  EXPECT_EQ(f.get("/quarantine", "", "10.0.0.1", {{"x-remote-user", "carol"}, {"x-remote-user", "root"}}).status, 400);
  EXPECT_EQ(f.get("/quarantine", "", "10.0.0.1", {{"x-remote-user", "carol\" onload=\"x"}}).status, 403);
  // Another proxy user does not inherit carol's session.
  const Response other =
      f.get("/quarantine", cookie(kSessionCookie, sid), "10.0.0.1", {{"x-remote-user", "erin"}});
  EXPECT_EQ(f.last_operator, "erin");
  EXPECT_NE(set_cookie(other, kSessionCookie), sid);
}

TEST(WebApp, SecurityHeadersOnEveryResponse) {
  WebFixture f;
  const std::string sid = f.session();
  for (const Response& res : {f.get("/login"), f.get("/quarantine"), f.get("/static/style.css"), f.get("/nope"),
                              f.get("/quarantine", cookie(kSessionCookie, sid)),
                              f.get("/nope", cookie(kSessionCookie, sid)), f.get("/a/../b"),
                              f.get("/boom", cookie(kSessionCookie, sid))}) {
    EXPECT_EQ(header_of(res, "Content-Security-Policy"),
              "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
              "base-uri 'none'");
    EXPECT_EQ(header_of(res, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(header_of(res, "Referrer-Policy"), "no-referrer");
    EXPECT_EQ(header_of(res, "Cache-Control"), "no-store");
  }
}

TEST(WebApp, RoutingAndErrors) {
  WebFixture f;
  const std::string c = cookie(kSessionCookie, f.session());
  EXPECT_EQ(f.get("/nope", c).status, 404);
  EXPECT_EQ(f.get("/quarantine/release", c).status, 405);  // a POST route
  EXPECT_EQ(f.get("/quarantine/../status", c).status, 400);
  EXPECT_EQ(f.get("/boom", c).status, 500);
  const Response css = f.get("/static/style.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  const Response root = f.get("/", c);
  EXPECT_EQ(header_of(root, "Location"), "/quarantine");
  HttpRequest put;
  put.method = "PUT";
  put.target = "/quarantine";
  put.peer = "127.0.0.1";
  EXPECT_EQ(f.app->handle(put).status, 405);
}

TEST(WebApp, LanguageFromHeaderAndQuery) {
  WebFixture f;
  const std::string c = cookie(kSessionCookie, f.session());
  EXPECT_NE(f.get("/quarantine", c, "127.0.0.1", {{"accept-language", "ja,en;q=0.8"}}).body.find("<html lang=\"ja\">"),
            std::string::npos);
  const Response en = f.get("/quarantine?lang=en", c, "127.0.0.1", {{"accept-language", "ja"}});
  EXPECT_NE(en.body.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_EQ(set_cookie(en, kLangCookie), "en");
  EXPECT_NE(f.get("/quarantine", c + "; " + cookie(kLangCookie, "en"), "127.0.0.1", {{"accept-language", "ja"}})
                .body.find("<html lang=\"en\">"),
            std::string::npos);
}

TEST(WebApp, StatusPageSaysWhatIsUnavailable) {
  WebFixture f;
  f.services.state_error = "cannot open <db>";
  const Response res = f.get("/status", cookie(kSessionCookie, f.session()));
  ASSERT_EQ(res.status, 200);
  EXPECT_NE(res.body.find(EMOGATE_VERSION), std::string::npos);
  EXPECT_NE(res.body.find("cannot open &lt;db&gt;"), std::string::npos);
  EXPECT_NE(res.body.find(std::string(tr(Lang::en, "status.metrics_off"))), std::string::npos);
}

TEST(WebUsers, FileIsWrittenPrivatelyAndVerifies) {
  test::TempDir d;
  const std::string path = (d.path / "users").string();
  ASSERT_EQ(set_user(path, "alice", "s3cret"), "");
  ASSERT_EQ(set_user(path, "bob", "hunter2"), "");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = test::slurp(path);
  EXPECT_NE(text.find("alice:$argon2id$"), std::string::npos);
  EXPECT_EQ(text.find("s3cret"), std::string::npos);
  std::string error;
  auto users = Users::load(path, error);
  ASSERT_TRUE(users) << error;
  EXPECT_TRUE(users->verify("alice", "s3cret"));
  EXPECT_FALSE(users->verify("alice", "hunter2"));
  EXPECT_FALSE(users->verify("carol", "s3cret"));
  ASSERT_EQ(set_user(path, "alice", "changed"), "");
  users = Users::load(path, error);
  EXPECT_FALSE(users->verify("alice", "s3cret"));
  EXPECT_TRUE(users->verify("alice", "changed"));
  EXPECT_EQ(remove_user(path, "bob"), "");
  EXPECT_NE(remove_user(path, "bob"), "");
  EXPECT_NE(set_user(path, "bad name", "x"), "");
  EXPECT_NE(set_user(path, "eve", ""), "");
}

TEST(WebUsers, MalformedFileNamesTheLine) {
  test::TempDir d;
  std::string error;
  EXPECT_FALSE(Users::load(d.write("u1", "# accounts\nalice:$argon2id$v=19$m=65536,t=2,p=1$x$y\nbob:plaintext\n"), error));
  EXPECT_NE(error.find(":3:"), std::string::npos) << error;
  EXPECT_FALSE(Users::load(d.write("u2", "al ice:$argon2id$x\n"), error));
  EXPECT_NE(error.find(":1:"), std::string::npos) << error;
  EXPECT_FALSE(Users::load((d.path / "missing").string(), error));
}

TEST(WebUsers, LimiterForgetsExpiredWindowsFirst) {
  LoginLimiter l(2, 100, 2);
  l.failure("a", 0);
  l.failure("a", 1);
  EXPECT_TRUE(l.blocked("a", 50));
  l.failure("b", 60);
  l.failure("c", 150);  // table full: a's window (0..100) has ended and goes, b's has not
  EXPECT_EQ(l.tracked(), 2u);
  EXPECT_FALSE(l.blocked("a", 150));
  l.failure("b", 70);
  EXPECT_TRUE(l.blocked("b", 100));
  EXPECT_FALSE(l.blocked("b", 160));
}

TEST(WebUsers, TokensAreRandomAndComparedWhole) {
  const std::string a = random_token(), b = random_token();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(tokens_equal(a, a));
  EXPECT_FALSE(tokens_equal(a, b));
  EXPECT_FALSE(tokens_equal(a, a.substr(0, 32)));
  EXPECT_FALSE(tokens_equal("", ""));
}

ConfigError web_config_error(const std::string& text) {
  try {
    parse_config(text, "web.toml");
  } catch (const ConfigError& e) {
    return e;
  }
  return ConfigError("", 0, "no error");
}

TEST(WebConfig, RefusesNonLoopbackWithoutTls) {
  const ConfigError e = web_config_error("[web]\nusers_file = \"/x\"\nlisten = \"0.0.0.0:9358\"\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(std::string(e.what()).find("TLS"), std::string::npos) << e.what();
  EXPECT_EQ(web_config_error("[web]\nlisten = \"192.0.2.1:443\"\n").line, 2);
  EXPECT_EQ(web_config_error("[web]\nlisten = \"[2001:db8::1]:443\"\n").line, 2);
  // Loopback without TLS, and any address with TLS, load.
  EXPECT_NO_THROW(parse_config("[web]\nlisten = \"[::1]:9358\"\n", "web.toml"));
  const Config c = parse_config(
      "[web]\nlisten = \"0.0.0.0:443\"\ncertificate = \"/etc/ssl/web.pem\"\nprivate_key = \"/etc/ssl/web.key\"\n",
      "web.toml");
  EXPECT_EQ(c.web.listen, "0.0.0.0:443");
}

TEST(WebConfig, RefusesHalfConfiguredSettings) {
  EXPECT_EQ(web_config_error("[web]\ncertificate = \"/c.pem\"\n").line, 2);
  EXPECT_EQ(web_config_error("[web]\nlisten = \"nohost\"\n").line, 2);
  EXPECT_EQ(web_config_error("[web]\nproxy_user_header = \"X-Remote-User\"\n").line, 2);
  EXPECT_EQ(web_config_error("[web]\ntrusted_proxies = [\"10.0.0.0/33\"]\n").line, 2);
  EXPECT_EQ(web_config_error("[web]\ntrusted_proxies = [\"10.0.0.1\"]\nproxy_user_header = \"X Remote\"\n").line, 3);
  EXPECT_EQ(web_config_error("[web]\nmax_sessions = 0\n").line, 2);
}

TEST(WebConfig, RefusesToStartWithoutAuthentication) {
  const Config none = parse_config("[web]\nlisten = \"127.0.0.1:9358\"\n", "web.toml");
  const auto problems = web_problems(none);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(std::string(problems[0].what()).find("no default password"), std::string::npos);
  test::TempDir d;
  const std::string users = d.write("users", "");
  EXPECT_TRUE(web_problems(parse_config("[web]\nusers_file = \"" + users + "\"\n", "web.toml")).empty());
  const auto missing = web_problems(parse_config("[web]\n\nusers_file = \"/nonexistent/users\"\n", "web.toml"));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].line, 3);
  EXPECT_TRUE(web_problems(parse_config(
                               "[web]\ntrusted_proxies = [\"127.0.0.1\"]\nproxy_user_header = \"X-Remote-User\"\n",
                               "web.toml"))
                  .empty());
}

}  // namespace
}  // namespace emogate::web
