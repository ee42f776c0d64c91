// The helpers every page uses (web.h): the one HTML-escaping function, URL
// encoding, the UI texts in English and Japanese, the page layout with its
// navigation, the CSRF field, redirects, error pages and the operator's
// action line to syslog; also the compiled-in stylesheet.
// Trusted input: none. Text handed to html_escape may be any bytes (invalid
// UTF-8, control and bidi characters from hostile mail); the operator's name,
// remote address and action values reaching syslog are escaped as in the
// mail log.
#include <syslog.h>

#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_map>

#include "common/text.h"
#include "milter/policy.h"
#include "web/html.h"
#include "web/web.h"

namespace emogate::web {
namespace {

// The next code point of `s` at `i` (advancing `i`), or -1 for an invalid
// sequence (one byte is consumed then): overlong forms, surrogates, values
// above U+10FFFF and truncated sequences are invalid.
long next_code_point(std::string_view s, std::size_t& i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  std::size_t len = 0;
  long cp = 0, min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    ++i;
    return -1;
  }
  if (i + len > s.size()) {
    ++i;
    return -1;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return -1;
  }
  i += len;
  return cp;
}

// Characters that reorder the text around them (bidi embeddings, overrides
// and isolates): "invoice<U+202E>fdp.exe" reads as "invoiceexe.pdf". Shown
// as their code point instead.
bool is_bidi_control(long cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
         cp == 0x061C;
}

const std::vector<Text>& server_texts() {
  static const std::vector<Text> texts = {
      {"app.name", "emogate", "emogate"},
      {"nav.quarantine", "Quarantine", "隔離メール"},
      {"nav.ppap", "PPAP holds", "PPAP 保留"},
      {"nav.incidents", "Incidents", "インシデント"},
      {"nav.status", "Status", "状態"},
      {"nav.logout", "Log out", "ログアウト"},
      {"nav.signed_in_as", "Signed in as", "ログイン中:"},
      {"nav.language", "Language", "言語"},
      {"login.title", "Log in", "ログイン"},
      {"login.user", "User name", "ユーザー名"},
      {"login.password", "Password", "パスワード"},
      {"login.submit", "Log in", "ログイン"},
      {"login.failed", "Wrong user name or password.", "ユーザー名またはパスワードが違います。"},
      {"login.rate_limited", "Too many failed logins. Try again later.",
       "ログインの失敗が多すぎます。しばらくしてから再度お試しください。"},
      {"login.proxy_only", "Log in through the reverse proxy.", "リバースプロキシ経由でログインしてください。"},
      {"login.expired", "Your session has expired. Please log in again.",
       "セッションの有効期限が切れました。再度ログインしてください。"},
      {"login.logged_out", "You have logged out.", "ログアウトしました。"},
      {"error.title", "Error", "エラー"},
      {"error.not_found", "No such page.", "ページが見つかりません。"},
      {"error.csrf", "The form has expired or did not come from this site. Reload the page and try again.",
       "フォームの有効期限が切れたか、このサイトからの送信ではありません。ページを再読み込みしてやり直してください。"},
      {"error.method", "Method not allowed.", "このメソッドは使えません。"},
      {"error.bad_request", "Bad request.", "不正なリクエストです。"},
      {"error.internal", "Internal error; see the log.", "内部エラーです。ログを確認してください。"},
      {"status.title", "Status", "状態"},
      {"status.version", "Version", "バージョン"},
      {"status.daemon", "Milter daemon", "milter デーモン"},
      {"status.metrics_unavailable", "unavailable (metrics endpoint not reachable)",
       "取得できません (メトリクスに接続できません)"},
      {"status.metrics_off", "not configured ([metrics] listen is empty)",
       "未設定 ([metrics] listen が空です)"},
      {"status.rules_age", "Rules age", "ルールの経過時間"},
      {"status.lists_age", "Lists age", "リストの経過時間"},
      {"status.workers", "Workers", "ワーカー"},
      {"status.queue_depth", "Queue depth", "キューの長さ"},
      {"status.messages", "Messages scanned", "スキャン済みメッセージ"},
      {"status.quarantine", "Quarantine", "隔離"},
      {"status.quarantine_count", "Messages in quarantine", "隔離中のメッセージ"},
      {"status.quarantine_dir", "Directory", "ディレクトリ"},
      {"status.state_store", "State store", "状態ストア"},
      {"status.backend", "Backend", "バックエンド"},
      {"status.ping", "Ping", "疎通確認"},
      {"status.ok", "ok", "正常"},
      {"status.unknown", "unknown", "不明"},
      {"status.seconds", "s", "秒"},
      {"status.web", "Web view", "Web 画面"},
      {"status.sessions", "Active sessions", "有効なセッション"},
  };
  return texts;
}

// A path of ours for an href: each segment percent-encoded, '/' kept.
std::string url_encode_path(std::string_view path) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    out += url_encode(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

std::function<void(const std::string&)>& action_sink() {
  static std::function<void(const std::string&)> sink;
  return sink;
}

}  // namespace

// Classes the pages may use: table.list (a list; th sorts nothing, tr:hover
// highlights), table.kv (key/value rows, th on the left), .filters (a form
// of inputs in a row), .pager, .actions (buttons under a message), .danger
// (a destructive button), .notice / .error (a message box), .muted, .badge
// with .quarantined .awaiting .timedout .released .malicious .suspicious
// .clean, pre.raw (headers, wrapped), ul.tree (the findings tree), .inline
// (a form inside a line), .num (right-aligned figures).
std::string_view style_css() {
  static const std::string_view css = R"css(/* emogate web view */
:root {
  --fg: #1d2329; --muted: #5f6b76; --line: #d5dbe1; --bg: #ffffff; --panel: #f4f6f8;
  --accent: #1f5f99; --danger: #a4262c; --ok: #2d6a2f; --warn: #8a5a00;
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body {
  margin: 0; color: var(--fg); background: var(--bg); line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", "Hiragino Kaku Gothic ProN", "Hiragino Sans",
    "BIZ UDPGothic", Meiryo, "Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "Takao PGothic", sans-serif;
}
:lang(ja) { line-break: strict; word-break: normal; overflow-wrap: anywhere; }
a { color: var(--accent); }
header.top {
  display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.5rem;
  padding: 0.5rem 1.25rem; background: #22313f; color: #ecf0f3;
}
header.top a { color: #ecf0f3; text-decoration: none; }
header.top .brand { font-weight: 700; letter-spacing: 0.03em; }
header.top nav ul { display: flex; gap: 0.25rem; list-style: none; margin: 0; padding: 0; }
header.top nav li a { display: block; padding: 0.3rem 0.7rem; border-radius: 3px; }
header.top nav li a:hover, header.top nav li.here a { background: #3a4f63; }
header.top .who { margin-left: auto; font-size: 0.9rem; }
header.top .who button { margin-left: 0.5rem; }
header.top .lang { font-size: 0.85rem; }
header.top .lang a { text-decoration: underline; }
main { padding: 1rem 1.25rem 3rem; max-width: 1400px; }
h1 { font-size: 1.35rem; margin: 0.3rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
table.list tbody tr:nth-child(even) { background: #fafbfc; }
table.list tbody tr:hover { background: #eef4fa; }
table.list td { overflow-wrap: anywhere; }
table.list td.time, table.list td.verdict, table.list td.state { overflow-wrap: normal; white-space: nowrap; }
table.list td.findings { overflow-wrap: normal; }
table.kv { width: auto; min-width: 50%; }
table.kv th { width: 12rem; }
td.num, th.num, .num { text-align: right; font-variant-numeric: tabular-nums; }
form.inline { display: inline; margin: 0; }
.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: flex-end;
  padding: 0.75rem; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; }
.filters label { display: flex; flex-direction: column; font-size: 0.85rem; color: var(--muted); }
input[type=text], input[type=password], input[type=search], input[type=date], select {
  font: inherit; padding: 0.3rem 0.45rem; border: 1px solid #aab4be; border-radius: 3px; background: #fff; }
button, input[type=submit] {
  font: inherit; padding: 0.3rem 0.9rem; border: 1px solid var(--accent); border-radius: 3px;
  background: var(--accent); color: #fff; cursor: pointer; }
button:hover { filter: brightness(1.1); }
button.danger { background: var(--danger); border-color: var(--danger); }
button.secondary { background: #fff; color: var(--accent); }
header.top button { background: transparent; border-color: #8fa3b6; color: #ecf0f3; padding: 0.1rem 0.6rem; }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 1rem 0; padding: 0.75rem;
  border: 1px solid var(--line); border-radius: 4px; background: var(--panel); }
.pager { display: flex; gap: 1rem; align-items: center; margin: 0.75rem 0; }
.notice, .error { padding: 0.6rem 0.9rem; border-radius: 4px; margin: 0.75rem 0; }
.notice { background: #e8f3e8; border: 1px solid #a9cfa9; color: var(--ok); }
.error { background: #fbeaea; border: 1px solid #e2a9ab; color: var(--danger); }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 3px; font-size: 0.85rem;
  border: 1px solid var(--line); background: var(--panel); white-space: nowrap; }
.badge.malicious { background: #fbeaea; border-color: #e2a9ab; color: var(--danger); }
.badge.suspicious, .badge.awaiting { background: #fdf3e1; border-color: #e8c98b; color: var(--warn); }
.badge.clean, .badge.released { background: #e8f3e8; border-color: #a9cfa9; color: var(--ok); }
.badge.quarantined { background: #eef4fa; border-color: #a9c3dd; color: var(--accent); }
.badge.timedout { color: var(--muted); }
pre, code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "BIZ UDGothic", "Noto Sans Mono CJK JP",
  monospace; font-size: 0.9rem; }
pre.raw { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--panel); padding: 0.75rem;
  border: 1px solid var(--line); border-radius: 4px; max-height: 30rem; overflow: auto; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 1.2rem; }
ul.tree { padding-left: 0; }
ul.tree li { position: relative; padding: 0.1rem 0 0.1rem 0.9rem; border-left: 1px solid var(--line); }
ul.tree li::before { content: ""; position: absolute; left: 0; top: 0.85rem; width: 0.7rem;
  border-top: 1px solid var(--line); }
/* The pages' own classes. */
.flash { padding: 0.6rem 0.9rem; border-radius: 4px; margin: 0.75rem 0; }
.flash-ok { background: #e8f3e8; border: 1px solid #a9cfa9; color: var(--ok); }
.flash-error { background: #fbeaea; border: 1px solid #e2a9ab; color: var(--danger); }
.verdict-malicious { color: var(--danger); font-weight: 600; }
.verdict-suspicious { color: var(--warn); font-weight: 600; }
.verdict-clean { color: var(--ok); }
li.finding.verdict-malicious, li.finding.verdict-suspicious, li.finding.verdict-clean { font-weight: normal; }
li.finding.verdict-malicious::marker { color: var(--danger); }
tr.state-released td { color: var(--muted); }
tr.broken td { background: #fdf3e1; }
.empty { color: var(--muted); font-style: italic; }
code.hash { font-size: 0.8rem; overflow-wrap: anywhere; color: var(--muted); }
dl.envelope { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0 1rem; }
dl.envelope dt { font-weight: 600; color: var(--muted); }
dl.envelope dd { margin: 0; overflow-wrap: anywhere; }
table.headers td { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85rem; overflow-wrap: anywhere;
  white-space: pre-wrap; }
ul.finding-list { margin: 0.2rem 0; padding-left: 1.2rem; }
form.login { max-width: 22rem; display: flex; flex-direction: column; gap: 0.75rem; margin-top: 1rem; }
form.login label { display: flex; flex-direction: column; gap: 0.2rem; }
)css";
  return css;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t i = 0;
  while (i < text.size()) {
    const long cp = next_code_point(text, i);
    switch (cp) {
      case '&': out += "&amp;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      case '"': out += "&quot;"; continue;
      case '\'': out += "&#39;"; continue;
      case '\t':
      case '\n': out += static_cast<char>(cp); continue;
      default: break;
    }
    if (cp < 0) {
      append_utf8(out, 0xFFFD, Nul::replace);
    } else if (cp < 0x20) {
      append_utf8(out, static_cast<char32_t>(0x2400 + cp), Nul::replace);  // U+2400 block: ␀ ␛ ␍ ...
    } else if (cp == 0x7F) {
      append_utf8(out, 0x2421, Nul::replace);  // ␡
    } else if (cp >= 0x80 && cp <= 0x9F) {
      append_utf8(out, 0xFFFD, Nul::replace);  // C1 controls
    } else if (is_bidi_control(cp)) {
      static const char* hex = "0123456789ABCDEF";
      out += "[U+";
      for (int shift = 12; shift >= 0; shift -= 4) out += hex[(cp >> shift) & 0xF];
      out += ']';
    } else {
      append_utf8(out, static_cast<char32_t>(cp), Nul::replace);
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  return percent_encode(text, [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
  });
}

void use_time_zone(const std::string& zone) {
  if (!zone.empty()) ::setenv("TZ", zone.c_str(), 1);
  ::tzset();
}

std::string time_zone_label() {
  std::string zone;
  if (const char* tz = std::getenv("TZ"); tz && *tz) {
    zone = tz[0] == ':' ? tz + 1 : tz;
  } else {
    std::error_code ec;
    if (!std::filesystem::exists("/etc/localtime", ec)) return "UTC";  // what the C library then uses
    const std::string target = std::filesystem::read_symlink("/etc/localtime", ec).string();
    if (const auto at = target.find("zoneinfo/"); !ec && at != std::string::npos) {
      zone = target.substr(at + 9);
    } else {
      std::ifstream f("/etc/timezone");
      std::getline(f, zone);
    }
    if (zone.empty()) return "local time";
  }
  for (const char* utc : {"UTC", "Etc/UTC", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu", "UCT", "Etc/UCT"})
    if (zone == utc) return "UTC";
  return zone;
}

std::string_view tr(Lang lang, std::string_view key) {
  // Built once, from both tables; the server's texts win on a clash.
  static const std::unordered_map<std::string_view, Text> index = [] {
    static std::deque<std::string> filled;  // texts with the zone put in
    const std::string zone = time_zone_label();
    const auto fill = [&](std::string_view text) -> std::string_view {
      const auto at = text.find("{tz}");
      if (at == std::string_view::npos) return text;
      filled.push_back(std::string(text.substr(0, at)) + zone + std::string(text.substr(at + 4)));
      return filled.back();
    };
    std::unordered_map<std::string_view, Text> m;
    for (const auto* table : {&server_texts(), &page_texts()})
      for (const Text& t : *table) m.emplace(t.key, Text{t.key, fill(t.en), fill(t.ja)});
    return m;
  }();
  const auto it = index.find(key);
  if (it == index.end()) return key;
  return lang == Lang::ja ? it->second.ja : it->second.en;
}

std::string csrf_field(const Request& r) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + html_escape(r.csrf_token) + "\">";
}

std::string page(const Request& r, std::string_view title, std::string_view body_html) {
  const Lang l = r.lang;
  const auto nav_link = [&](std::string_view href, std::string_view key) {
    const bool here = r.path == href || (r.path.size() > href.size() && r.path.compare(0, href.size(), href) == 0 &&
                                         r.path[href.size()] == '/');
    return std::string("<li") + (here ? " class=\"here\"" : "") + "><a href=\"" + std::string(href) + "\">" +
           html_escape(tr(l, key)) + "</a></li>";
  };
  std::string out;
  out.reserve(body_html.size() + 2048);
  out += "<!DOCTYPE html>\n<html lang=\"";
  out += l == Lang::ja ? "ja" : "en";
  out += "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape(title) + " - emogate</title>\n";
  out += "<link rel=\"stylesheet\" href=\"/static/style.css\">\n</head>\n<body>\n";
  out += "<header class=\"top\">\n<span class=\"brand\">emogate</span>\n";
  if (!r.operator_name.empty()) {
    out += "<nav><ul>";
    out += nav_link("/quarantine", "nav.quarantine");
    out += nav_link("/ppap", "nav.ppap");
    out += nav_link("/incidents", "nav.incidents");
    out += nav_link("/status", "nav.status");
    out += "</ul></nav>\n<div class=\"who\">";
    out += html_escape(tr(l, "nav.signed_in_as")) + " <strong>" + html_escape(r.operator_name) + "</strong>";
    if (!r.csrf_token.empty()) {
      // A proxy-authenticated operator has no session of ours to end.
      out += " <form method=\"post\" action=\"/logout\" class=\"inline\">" + csrf_field(r) +
             "<button type=\"submit\">" + html_escape(tr(l, "nav.logout")) + "</button></form>";
    }
    out += "</div>\n";
  }
  // This page again in the other language, with its query (filters, page)
  // kept.
  std::string here = url_encode_path(r.path) + "?";
  for (const auto& [k, v] : r.query)
    if (k != "lang") here += url_encode(k) + "=" + url_encode(v) + "&";
  out += "<div class=\"lang\">";
  out += "<a href=\"" + html_escape(here) + "lang=en\" hreflang=\"en\" lang=\"en\">English</a> | ";
  out += "<a href=\"" + html_escape(here) + "lang=ja\" hreflang=\"ja\" lang=\"ja\">日本語</a>";
  out += "</div>\n</header>\n<main>\n<h1>" + html_escape(title) + "</h1>\n";
  out += body_html;
  out += "\n</main>\n</body>\n</html>\n";
  return out;
}

Response redirect(std::string location) {
  // Only a path of ours: "//host" or "https://..." would leave the site.
  if (location.empty() || location[0] != '/' || (location.size() > 1 && (location[1] == '/' || location[1] == '\\')) ||
      location.find_first_of("\r\n") != std::string::npos) {
    location = "/";
  }
  Response res;
  res.status = 303;
  res.content_type = "text/plain; charset=utf-8";
  res.headers.emplace_back("Location", std::move(location));
  return res;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

Response error_page(const Request& r, int status, std::string_view message) {
  Response res;
  res.status = status;
  const std::string title = std::string(tr(r.lang, "error.title")) + " " + std::to_string(status);
  res.body = page(r, title, "<p class=\"error\">" + html_escape(message) + "</p>");
  return res;
}

std::string format_action_line(const Request& r, std::string_view action, std::string_view object,
                               std::string_view outcome) {
  const auto v = [](std::string_view s) {
    return s.empty() ? std::string("-") : policy::escape_text(s, " =");
  };
  return "web: operator=" + v(r.operator_name) + " remote=" + v(r.remote) + " action=" + v(action) + " id=" + v(object) +
         " outcome=" + v(outcome);
}

void set_action_sink(std::function<void(const std::string&)> sink) { action_sink() = std::move(sink); }

void log_action(const Request& r, std::string_view action, std::string_view object, std::string_view outcome) {
  const std::string line = format_action_line(r, action, object, outcome);
  syslog(LOG_MAIL | LOG_INFO, "%s", line.c_str());
  if (action_sink()) action_sink()(line);
}

}  // namespace emogate::web
