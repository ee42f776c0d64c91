// The web view's contract between the HTTP server (server.*, auth.*,
// session.*) and the pages (pages/*.cpp): what a page handler is given, what
// it returns, and the few helpers every page must use. The server has
// already authenticated the operator, checked the CSRF token of every POST,
// parsed the query and the form, and chosen the language before a handler
// runs; a handler never sees an unauthenticated or forged request.
// Trusted input: the configuration. Every other string a page prints (from
// mail, from the stores, from the request) goes through html_escape().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emogate/config.h"

namespace emogate {
class QuarantineStore;
namespace state {
class StateStore;
}
}  // namespace emogate

namespace emogate::web {

enum class Lang { en, ja };

struct Request {
  std::string method;  // "GET" or "POST"
  std::string path;    // decoded path without the query, e.g. "/quarantine/ID"
  std::multimap<std::string, std::string> query;  // decoded ?a=b pairs
  std::multimap<std::string, std::string> form;   // decoded POST body pairs
  std::string operator_name;  // the authenticated operator (local account or proxy header)
  Lang lang = Lang::en;       // from Accept-Language (or ?lang=)
  std::string csrf_token;     // the session's token, for the forms a page prints
  std::string remote;         // peer address, for the log

  // The first value of `name` in the form, else in the query; "" when absent.
  std::string param(std::string_view name) const;
  // Every value of `name` in the form, then in the query (e.g. checkboxes).
  std::vector<std::string> params(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  // Extra headers, e.g. Location for a redirect after POST,
  // Content-Disposition: attachment for a download. The server adds the
  // security headers (CSP, nosniff, frame-ancestors, cache) itself.
  std::vector<std::pair<std::string, std::string>> headers;
};

// What the pages read and act on. Owned by the server; one per process.
// The stores are shared by the server's threads: handlers are called one at
// a time (the server serialises them), so they need no locking of their own.
struct Services {
  const Config* config = nullptr;
  QuarantineStore* quarantine = nullptr;  // never null
  state::StateStore* state = nullptr;     // null when the state store cannot be opened
  std::string state_error;                // why `state` is null
  std::function<std::int64_t()> now;      // unix seconds (tests set it)
  // Pages may keep their own caches or indexes here (e.g. the quarantine
  // list's index), created on first use.
  std::map<std::string, std::shared_ptr<void>> extras;
};

using Handler = std::function<Response(const Request&, Services&)>;

struct Route {
  std::string method;  // "GET" or "POST"
  std::string path;    // exact path, or a prefix when it ends with '/'
  Handler handler;
};

// Builds what the pages keep in Services::extras (the quarantine list's
// index: reading every entry once takes seconds with 100,000 of them) so
// that the first request does not pay for it. Optional: the server may
// call it once before serving; the pages build it on first use anyway.
// Never throws (a store it cannot read is reported by the list page).
void warm_pages(Services& s);

// The pages' routes (pages/routes.cpp); the server adds /login, /logout,
// /static/ and /status itself and answers 404 for anything else.
std::vector<Route> page_routes();

// ---- helpers every page uses (html.cpp) -------------------------------

// The one HTML-escaping function: & < > " ' and every control character;
// invalid UTF-8 becomes U+FFFD. Safe in element text and quoted attributes.
std::string html_escape(std::string_view text);
// A value for a URL query or path segment (percent-encoding).
std::string url_encode(std::string_view text);

// A UI text: `key` names it in code, `en` and `ja` are what is shown.
struct Text {
  std::string_view key, en, ja;
};
// The pages' texts (pages/texts.cpp); the server's own live in html.cpp.
const std::vector<Text>& page_texts();
// The UI text for `key` in `lang`, from the server's texts and page_texts()
// (the key itself when no text has it: a test catches that). "{tz}" in a
// text becomes time_zone_label(), as it is when the texts are first used.
std::string_view tr(Lang lang, std::string_view key);

// The zone the pages show times in: `zone` ([web] time_zone, checked by the
// config) from now on, or the host's local time when it is empty. Call
// before the first page is made and before any thread starts.
void use_time_zone(const std::string& zone);
// Its name for labels: $TZ when set, else the zone /etc/localtime (or
// /etc/timezone) names, "local time" when neither says; "UTC" for UTC
// under any of its names and without /etc/localtime.
std::string time_zone_label();

// A whole page: doctype, <head> with the stylesheet (/static/style.css),
// the navigation (quarantine, PPAP holds, incidents, status, logout with
// the operator's name), the title (escaped) and `body_html` as given
// (already built with html_escape). No inline script anywhere.
std::string page(const Request& r, std::string_view title, std::string_view body_html);

// The hidden CSRF input every POST form must carry.
std::string csrf_field(const Request& r);

// A 303 redirect to `location` (a path of ours), for after a POST.
Response redirect(std::string location);
// An error page with `status` and an escaped message.
Response error_page(const Request& r, int status, std::string_view message);

// One syslog line (facility mail) for an operator's action:
// "web: operator=NAME remote=ADDR action=release id=ID outcome=ok ...".
void log_action(const Request& r, std::string_view action, std::string_view object,
                std::string_view outcome);

}  // namespace emogate::web
