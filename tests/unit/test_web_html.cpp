// The web view's helpers: the one HTML-escaping function against every
// dangerous character, invalid UTF-8 and script payloads; URL encoding; the
// UI texts; the page layout (no inline script or style); redirects that stay
// on the site; error pages; the operator's action line.
#include <gtest/gtest.h>

#include <string>

#include "web/html.h"
#include "web/web.h"

namespace emogate::web {
namespace {

TEST(WebHtml, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(html_escape("&<>\"'"), "&amp;&lt;&gt;&quot;&#39;");
  EXPECT_EQ(html_escape("a & b"), "a &amp; b");
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");  // already-escaped text is escaped again
}

TEST(WebHtml, ScriptAndAttributePayloadsStayText) {
  const std::string subject = "<script>alert(1)</script>";
  const std::string escaped = html_escape(subject);
  EXPECT_EQ(escaped, "&lt;script&gt;alert(1)&lt;/script&gt;");
  const std::string attr = html_escape("x\" onload=\"alert(1)");
  EXPECT_EQ(attr.find('"'), std::string::npos);
  EXPECT_EQ(attr, "x&quot; onload=&quot;alert(1)");
  const std::string single = html_escape("x' onerror='alert(1)");
  EXPECT_EQ(single.find('\''), std::string::npos);
  // An image tag in a file name: no '<' survives.
  EXPECT_EQ(html_escape("invoice<img src=x onerror=alert(1)>.zip").find('<'), std::string::npos);
}

TEST(WebHtml, ControlCharactersBecomeVisible) {
  EXPECT_EQ(html_escape(std::string("a\0b", 3)), "a\u2400b");  // ␀
  EXPECT_EQ(html_escape("a\x1b[31mb"), "a\u241b[31mb");       // ␛ (terminal escape)
  EXPECT_EQ(html_escape("a\rb"), "a\u240db");
  EXPECT_EQ(html_escape("a\x7f"), "a\u2421");
  EXPECT_EQ(html_escape("\xc2\x85"), "\uFFFD");  // U+0085, a C1 control
  EXPECT_EQ(html_escape("a\tb\nc"), "a\tb\nc");  // tab and newline stay
}

TEST(WebHtml, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(html_escape("\xff"), "\uFFFD");
  EXPECT_EQ(html_escape("a\xc3"), "a\uFFFD");             // truncated
  EXPECT_EQ(html_escape("\xc0\xbc"), "\uFFFD\uFFFD");     // overlong '<'
  EXPECT_EQ(html_escape("\xe0\x80\xbc"), "\uFFFD\uFFFD\uFFFD");  // overlong '<', 3 bytes
  EXPECT_EQ(html_escape("\xed\xa0\x80"), "\uFFFD\uFFFD\uFFFD");  // a surrogate
  EXPECT_EQ(html_escape("\xf4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");  // above U+10FFFF
  // An invalid lead byte does not swallow the '<' after it.
  EXPECT_EQ(html_escape("\xe3<script>"), "\uFFFD&lt;script&gt;");
}

TEST(WebHtml, JapaneseIsKept) {
  EXPECT_EQ(html_escape("請求書 <至急>"), "請求書 &lt;至急&gt;");
  EXPECT_EQ(html_escape("😀"), "😀");
}

TEST(WebHtml, BidiOverridesAreShownAsCodePoints) {
  // "invoice" RLO "fdp.exe" would read as "invoiceexe.pdf".
  EXPECT_EQ(html_escape("invoice\u202Efdp.exe"), "invoice[U+202E]fdp.exe");
  EXPECT_EQ(html_escape("\u2066x\u2069"), "[U+2066]x[U+2069]");
}

TEST(WebHtml, UrlEncodeLeavesOnlyUnreserved) {
  EXPECT_EQ(url_encode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(url_encode("a b&c=d/e?f#g\"<"), "a%20b%26c%3Dd%2Fe%3Ff%23g%22%3C");
  EXPECT_EQ(url_encode("請"), "%E8%AB%8B");
  EXPECT_EQ(url_encode(std::string("\0", 1)), "%00");
}

TEST(WebHtml, TextsInBothLanguages) {
  EXPECT_EQ(tr(Lang::en, "nav.quarantine"), "Quarantine");
  EXPECT_EQ(tr(Lang::ja, "nav.quarantine"), "隔離メール");
  EXPECT_EQ(tr(Lang::ja, "no.such.key"), "no.such.key");
}

TEST(WebHtml, PageEscapesTitleAndHasNoInlineScriptOrStyle) {
  Request r;
  r.path = "/quarantine";
  r.operator_name = "alice<b>";
  r.csrf_token = "tok\"en";
  r.lang = Lang::ja;
  const std::string html = page(r, "<script>alert(1)</script>", "<p>body</p>");
  EXPECT_NE(html.find("<html lang=\"ja\">"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(html.find("style="), std::string::npos);
  EXPECT_EQ(html.find("onclick="), std::string::npos);
  EXPECT_EQ(html.find("javascript:"), std::string::npos);
  EXPECT_NE(html.find("alice&lt;b&gt;"), std::string::npos);
  EXPECT_NE(html.find("name=\"csrf\" value=\"tok&quot;en\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/static/style.css\""), std::string::npos);
  EXPECT_NE(html.find("<p>body</p>"), std::string::npos);
  for (const char* nav : {"/quarantine", "/ppap", "/incidents", "/status", "/logout"})
    EXPECT_NE(html.find(nav), std::string::npos) << nav;
  EXPECT_NE(html.find("<li class=\"here\"><a href=\"/quarantine\">"), std::string::npos);
}

TEST(WebHtml, LanguageLinksKeepTheQuery) {
  Request r;
  r.path = "/quarantine";
  r.query.emplace("sender", "a&b@example.jp");
  r.query.emplace("lang", "en");
  const std::string html = page(r, "t", "");
  EXPECT_NE(html.find("href=\"/quarantine?sender=a%26b%40example.jp&amp;lang=ja\""), std::string::npos) << html;
}

TEST(WebHtml, PageWithoutOperatorHasNoNavigation) {
  Request r;
  r.path = "/login";
  const std::string html = page(r, "Log in", "");
  EXPECT_EQ(html.find("/logout"), std::string::npos);
  EXPECT_EQ(html.find("/quarantine"), std::string::npos);
}

TEST(WebHtml, CsrfField) {
  Request r;
  r.csrf_token = "abc";
  EXPECT_EQ(csrf_field(r), "<input type=\"hidden\" name=\"csrf\" value=\"abc\">");
}

TEST(WebHtml, RedirectStaysOnTheSite) {
  const auto location = [](std::string to) {
    const Response res = redirect(std::move(to));
    EXPECT_EQ(res.status, 303);
    for (const auto& [k, v] : res.headers)
      if (k == "Location") return v;
    return std::string("(none)");
  };
  EXPECT_EQ(location("/quarantine/20260101-000000-abcdef01"), "/quarantine/20260101-000000-abcdef01");
  EXPECT_EQ(location("/quarantine?page=2"), "/quarantine?page=2");
  EXPECT_EQ(location("//evil.example/"), "/");
  EXPECT_EQ(location("/\\evil.example/"), "/");
  EXPECT_EQ(location("https://evil.example/"), "/");
  EXPECT_EQ(location("/a\r\nSet-Cookie: x=1"), "/");
  EXPECT_EQ(location(""), "/");
}

TEST(WebHtml, ErrorPageEscapesItsMessage) {
  Request r;
  const Response res = error_page(r, 404, "no <b>such</b> entry");
  EXPECT_EQ(res.status, 404);
  EXPECT_NE(res.body.find("no &lt;b&gt;such&lt;/b&gt; entry"), std::string::npos);
}

TEST(WebHtml, ActionLineEscapesWhatTheOperatorAndMailChose) {
  Request r;
  r.operator_name = "alice";
  r.remote = "127.0.0.1";
  EXPECT_EQ(format_action_line(r, "release", "20260101-000000-abcdef01", "ok"),
            "web: operator=alice remote=127.0.0.1 action=release id=20260101-000000-abcdef01 outcome=ok");
  // A forged field or a second line cannot be slipped in.
  const std::string line = format_action_line(r, "login", "bob outcome=ok\nweb: operator=root", "failed");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find(" outcome=ok"), std::string::npos);
  std::string seen;
  set_action_sink([&](const std::string& l) { seen = l; });
  log_action(r, "delete", "x", "ok");
  set_action_sink(nullptr);
  EXPECT_EQ(seen, "web: operator=alice remote=127.0.0.1 action=delete id=x outcome=ok");
}

TEST(WebHtml, StylesheetIsCompiledIn) {
  EXPECT_NE(style_css().find("font-family"), std::string_view::npos);
  EXPECT_NE(style_css().find("Noto Sans CJK JP"), std::string_view::npos);
}

}  // namespace
}  // namespace emogate::web
