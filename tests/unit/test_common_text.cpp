// Pins the shared text helpers of src/common/text.h to the behaviour of the
// copies they replaced (OLE2 names, MS-OVBA records, BIFF/XLSB strings, LNK,
// OneNote, TNEF names, HTML and XML character references, password miner).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/text.h"

using namespace emogate;

namespace {

std::string enc(char32_t cp, Nul nul = Nul::keep) {
  std::string out;
  append_utf8(out, cp, nul);
  return out;
}

std::string u16(std::u16string_view s) {
  std::string out;
  for (char16_t c : s) {
    out += static_cast<char>(c & 0xFF);
    out += static_cast<char>(c >> 8);
  }
  return out;
}

}  // namespace

TEST(CommonText, AppendUtf8EncodesEveryLength) {
  EXPECT_EQ(enc(U'A'), "A");
  EXPECT_EQ(enc(0x7F), "\x7F");
  EXPECT_EQ(enc(0x80), "\xC2\x80");
  EXPECT_EQ(enc(0xE9), "\xC3\xA9");
  EXPECT_EQ(enc(0x7FF), "\xDF\xBF");
  EXPECT_EQ(enc(0x800), "\xE0\xA0\x80");
  EXPECT_EQ(enc(0x20AC), "\xE2\x82\xAC");
  EXPECT_EQ(enc(0xFFFF), "\xEF\xBF\xBF");
  EXPECT_EQ(enc(0x10000), "\xF0\x90\x80\x80");
  EXPECT_EQ(enc(0x1F600), "\xF0\x9F\x98\x80");
  EXPECT_EQ(enc(0x10FFFF), "\xF4\x8F\xBF\xBF");
}

TEST(CommonText, AppendUtf8NulIsKeptOrReplacedAsAsked) {
  EXPECT_EQ(enc(0, Nul::keep), std::string(1, '\0'));
  EXPECT_EQ(enc(0, Nul::replace), "\xEF\xBF\xBD");
  // Only NUL depends on the choice.
  EXPECT_EQ(enc(U'x', Nul::replace), "x");
  EXPECT_EQ(enc(0x1F600, Nul::replace), "\xF0\x9F\x98\x80");
}

TEST(CommonText, AppendUtf8ReplacesWhatHasNoUtf8Form) {
  for (Nul nul : {Nul::keep, Nul::replace}) {
    EXPECT_EQ(enc(0xD800, nul), "\xEF\xBF\xBD");
    EXPECT_EQ(enc(0xDBFF, nul), "\xEF\xBF\xBD");
    EXPECT_EQ(enc(0xDC00, nul), "\xEF\xBF\xBD");
    EXPECT_EQ(enc(0xDFFF, nul), "\xEF\xBF\xBD");
    EXPECT_EQ(enc(0x110000, nul), "\xEF\xBF\xBD");
    EXPECT_EQ(enc(0xFFFFFFFF, nul), "\xEF\xBF\xBD");
  }
  EXPECT_EQ(enc(0xD7FF), "\xED\x9F\xBF");
  EXPECT_EQ(enc(0xE000), "\xEE\x80\x80");
}

TEST(CommonText, Utf16PlainAndBmp) {
  EXPECT_EQ(utf16le_to_utf8(u16(u"Root Entry"), false), "Root Entry");
  EXPECT_EQ(utf16le_to_utf8(u16(u"caf\u00e9 \u20ac"), false), "caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(utf16le_to_utf8("", false), "");
  EXPECT_EQ(utf16le_to_utf8(u16(u"\x01" "CompObj"), false), "\x01" "CompObj");
}

TEST(CommonText, Utf16SurrogatePairsAboveBmp) {
  EXPECT_EQ(utf16le_to_utf8(u16(u"a\U0001F600b"), false), "a\xF0\x9F\x98\x80" "b");
  EXPECT_EQ(utf16le_to_utf8(u16(u"\U0010FFFF"), true), "\xF4\x8F\xBF\xBF");
}

TEST(CommonText, Utf16LoneSurrogatesBecomeReplacement) {
  const std::string repl = "\xEF\xBF\xBD";
  EXPECT_EQ(utf16le_to_utf8(u16(std::u16string{0xD800, u'x'}), false), repl + "x");
  EXPECT_EQ(utf16le_to_utf8(u16(std::u16string{u'x', 0xDC00}), false), "x" + repl);
  EXPECT_EQ(utf16le_to_utf8(u16(std::u16string{0xD83D}), false), repl);  // high at the end
  EXPECT_EQ(utf16le_to_utf8(u16(std::u16string{0xD83D, 0xD83D, 0xDE00}), false), repl + "\xF0\x9F\x98\x80");
  EXPECT_EQ(utf16le_to_utf8(u16(std::u16string{0xDE00, 0xD83D}), false), repl + repl);  // reversed pair
}

TEST(CommonText, Utf16OddTrailingByteIsDropped) {
  EXPECT_EQ(utf16le_to_utf8(u16(u"ab") + "c", false), "ab");
  EXPECT_EQ(utf16le_to_utf8("c", false), "");
  // A high surrogate followed by one byte only: no pair, replaced.
  EXPECT_EQ(utf16le_to_utf8(u16(std::u16string{0xD83D}) + std::string(1, '\0'), false), "\xEF\xBF\xBD");
}

TEST(CommonText, Utf16NulKeptOrStopsAsAsked) {
  const std::string s = u16(std::u16string{u'a', 0, u'b'});
  EXPECT_EQ(utf16le_to_utf8(s, false), std::string("a\0b", 3));
  EXPECT_EQ(utf16le_to_utf8(s, true), "a");
  EXPECT_EQ(utf16le_to_utf8(u16(std::u16string{0, u'b'}), true), "");
  // A NUL after a lone surrogate still ends the text.
  EXPECT_EQ(utf16le_to_utf8(u16(std::u16string{0xD800, 0, u'b'}), true), "\xEF\xBF\xBD");
}

TEST(CommonText, Latin1MapsEveryByte) {
  EXPECT_EQ(latin1_to_utf8("plain"), "plain");
  EXPECT_EQ(latin1_to_utf8("caf\xE9"), "caf\xC3\xA9");
  EXPECT_EQ(latin1_to_utf8("\x80\xFF"), "\xC2\x80\xC3\xBF");
  EXPECT_EQ(latin1_to_utf8(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(CommonText, AsciiCaseFoldingIgnoresLocaleAndHighBytes) {
  EXPECT_EQ(ascii_lower("Content-Type: TEXT/Html"), "content-type: text/html");
  EXPECT_EQ(ascii_lower("\xC3\x89" "A@[`{Z"), "\xC3\x89" "a@[`{z");
  EXPECT_EQ(ascii_lower('Q'), 'q');
  EXPECT_EQ(ascii_lower('\xC9'), '\xC9');
  EXPECT_EQ(ascii_upper("utf-8 iso-2022-jp \xC3\xA9`{"), "UTF-8 ISO-2022-JP \xC3\xA9`{");
  EXPECT_EQ(ascii_upper('q'), 'Q');
  EXPECT_EQ(ascii_upper('\xE9'), '\xE9');
  EXPECT_TRUE(istarts_with("Equation.3", "equation.3"));
  EXPECT_TRUE(istarts_with("_XLNM.Auto_Open", "_xlnm."));
  EXPECT_FALSE(istarts_with("Equ", "equation"));
  EXPECT_FALSE(istarts_with("xEquation", "equation"));
  EXPECT_TRUE(icontains("CMD.EXE /c", "cmd.exe"));
  EXPECT_FALSE(icontains("cmd.ex", "cmd.exe"));
}

TEST(CommonText, BaseNameSplitsOnTheSeparatorsAsked) {
  EXPECT_EQ(base_name("C:\\Users\\a\\invoice.exe"), "invoice.exe");
  EXPECT_EQ(base_name("dir/sub/file.doc"), "file.doc");
  EXPECT_EQ(base_name("mixed/dir\\file.js"), "file.js");
  EXPECT_EQ(base_name("plain.txt"), "plain.txt");
  EXPECT_EQ(base_name("trailing/"), "");
  EXPECT_EQ(base_name(""), "");
  // Host paths: only '/' separates; a backslash is part of the name.
  EXPECT_EQ(base_name("/tmp/a\\b.doc", "/"), "a\\b.doc");
  EXPECT_EQ(base_name("a\\b.doc", "/"), "a\\b.doc");
}

TEST(CommonText, JoinSeparatesItems) {
  EXPECT_EQ(join(std::vector<std::string>{}, ", "), "");
  EXPECT_EQ(join(std::vector<std::string>{"one"}, ", "), "one");
  EXPECT_EQ(join(std::vector<std::string>{"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(join(std::vector<std::string>{"", "x", ""}, ","), ",x,");
  EXPECT_EQ(join(std::vector<std::string_view>{"a", "b"}, ""), "ab");
}

TEST(CommonText, PercentEncodeKeepsWhatTheCallerKeeps) {
  const auto alnum = [](unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  EXPECT_EQ(percent_encode("ab 9/%\xff", alnum), "ab%209%2F%25%FF");
  EXPECT_EQ(percent_encode(std::string_view("\0x", 2), alnum), "%00x");
  EXPECT_EQ(percent_encode("", alnum), "");
  EXPECT_EQ(percent_encode("\x7f\x80", [](unsigned char) { return false; }), "%7F%80");
}
