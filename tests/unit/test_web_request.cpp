// The web view's request parsing: percent-decoding, query and form pairs
// with their bound, the path (no dot segments, no control characters),
// cookies, the language, and Request::param / params.
#include <gtest/gtest.h>

#include <string>

#include "web/request.h"

namespace emogate::web {
namespace {

TEST(WebRequest, UrlDecode) {
  std::string out;
  ASSERT_TRUE(url_decode("a%20b+c", out, true));
  EXPECT_EQ(out, "a b c");
  ASSERT_TRUE(url_decode("a%20b+c", out, false));
  EXPECT_EQ(out, "a b+c");
  ASSERT_TRUE(url_decode("%E8%ab%8B", out, true));
  EXPECT_EQ(out, "請");
  ASSERT_TRUE(url_decode("%00", out, true));
  EXPECT_EQ(out, std::string("\0", 1));
  EXPECT_FALSE(url_decode("%", out, true));
  EXPECT_FALSE(url_decode("%4", out, true));
  EXPECT_FALSE(url_decode("a%zz", out, true));
  EXPECT_FALSE(url_decode("%%41", out, true));
}

TEST(WebRequest, PairsDecodeAndRepeat) {
  std::multimap<std::string, std::string> m;
  ASSERT_TRUE(parse_pairs("sender=a%40example.jp&id=1&id=2&flag&&empty=&sp=a+b", 100, m));
  EXPECT_EQ(m.find("sender")->second, "a@example.jp");
  EXPECT_EQ(m.count("id"), 2u);
  EXPECT_EQ(m.find("flag")->second, "");
  EXPECT_EQ(m.find("empty")->second, "");
  EXPECT_EQ(m.find("sp")->second, "a b");
  EXPECT_EQ(m.size(), 6u);
}

TEST(WebRequest, PairsBoundedByFieldCount) {
  std::multimap<std::string, std::string> m;
  EXPECT_TRUE(parse_pairs("a=1&b=2&c=3", 3, m));
  m.clear();
  EXPECT_FALSE(parse_pairs("a=1&b=2&c=3&d=4", 3, m));
  // Empty pairs cost nothing, so a run of '&' is not refused for its length.
  m.clear();
  EXPECT_TRUE(parse_pairs(std::string(100000, '&') + "a=1", 1, m));
  EXPECT_EQ(m.size(), 1u);
  m.clear();
  EXPECT_FALSE(parse_pairs("a=%G1", 10, m));
  EXPECT_TRUE(parse_pairs("", 0, m));
}

TEST(WebRequest, PathRefusesDotSegmentsAndControls) {
  std::string p;
  ASSERT_TRUE(parse_path("/quarantine/20260101-000000-abcdef01", p));
  EXPECT_EQ(p, "/quarantine/20260101-000000-abcdef01");
  ASSERT_TRUE(parse_path("/a%20b", p));
  EXPECT_EQ(p, "/a b");
  EXPECT_TRUE(parse_path("/", p));
  EXPECT_FALSE(parse_path("", p));
  EXPECT_FALSE(parse_path("quarantine", p));
  EXPECT_FALSE(parse_path("http://host/x", p));
  EXPECT_FALSE(parse_path("/quarantine/../status", p));
  EXPECT_FALSE(parse_path("/quarantine/%2e%2e/x", p));
  EXPECT_FALSE(parse_path("/./x", p));
  EXPECT_FALSE(parse_path("/a%00b", p));
  EXPECT_FALSE(parse_path("/a%0d%0ab", p));
  EXPECT_FALSE(parse_path("/a%5cb", p));
  EXPECT_FALSE(parse_path("/a%", p));
  EXPECT_TRUE(parse_path("/a..b/.c", p));  // dots inside a name are fine
}

TEST(WebRequest, Cookies) {
  EXPECT_EQ(cookie_value("a=1; emogate_session=abc; b=2", "emogate_session"), "abc");
  EXPECT_EQ(cookie_value("emogate_session=\"q\"", "emogate_session"), "q");
  EXPECT_EQ(cookie_value("xemogate_session=abc", "emogate_session"), std::nullopt);
  EXPECT_EQ(cookie_value("", "a"), std::nullopt);
  EXPECT_EQ(cookie_value(";;;=;a", "a"), std::nullopt);
}

TEST(WebRequest, Language) {
  EXPECT_EQ(choose_lang("", "", ""), Lang::en);
  EXPECT_EQ(choose_lang("", "", "ja,en-US;q=0.9,en;q=0.8"), Lang::ja);
  EXPECT_EQ(choose_lang("", "", "en-US,en;q=0.9,ja;q=0.8"), Lang::en);
  EXPECT_EQ(choose_lang("", "", "ja-JP"), Lang::ja);
  EXPECT_EQ(choose_lang("", "", "fr, ja;q=0.5"), Lang::ja);
  EXPECT_EQ(choose_lang("", "", "en;q=0.2, JA;q=0.7"), Lang::ja);
  EXPECT_EQ(choose_lang("", "", "ja;q=0"), Lang::en);
  EXPECT_EQ(choose_lang("", "", "ja;q=2, en"), Lang::en);  // a bad q-value is ignored
  EXPECT_EQ(choose_lang("", "", "jav"), Lang::en);
  EXPECT_EQ(choose_lang("ja", "", "en"), Lang::ja);          // ?lang= wins
  EXPECT_EQ(choose_lang("", "ja", "en"), Lang::ja);          // then the remembered choice
  EXPECT_EQ(choose_lang("en", "ja", "ja"), Lang::en);
  EXPECT_EQ(choose_lang("xx", "", "ja"), Lang::ja);          // an unknown ?lang= is ignored
}

TEST(WebRequest, ParamPrefersTheForm) {
  Request r;
  r.query.emplace("id", "q1");
  r.form.emplace("id", "f1");
  r.form.emplace("id", "f2");
  r.query.emplace("page", "3");
  EXPECT_EQ(r.param("id"), "f1");
  EXPECT_EQ(r.param("page"), "3");
  EXPECT_EQ(r.param("none"), "");
  EXPECT_EQ(r.params("id"), (std::vector<std::string>{"f1", "f2", "q1"}));
  EXPECT_TRUE(r.params("none").empty());
}

}  // namespace
}  // namespace emogate::web
