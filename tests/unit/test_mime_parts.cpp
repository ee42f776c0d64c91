// Unit tests of the engine-free MIME pieces: reading a message through
// GMime (warnings sorted into problems, part classification, file names,
// transfer decoding, embedded messages), a text body's reading, and the
// flood guard's report of the limits it enforced.
// Trusted input: none (the messages are built here).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "formats/mime/gmime_message.h"
#include "formats/mime/header_guard.h"
#include "formats/mime/text_body.h"

using namespace emogate;

namespace {

GMimePart* leaf(const ParsedMessage& m, int index) {
  GMimeObject* body = m.body();
  if (body && GMIME_IS_MULTIPART(body)) body = g_mime_multipart_get_part(GMIME_MULTIPART(body), index);
  return body && GMIME_IS_PART(body) ? GMIME_PART(body) : nullptr;
}

std::string decode_all(GMimePart* part, std::set<std::string>& problems, bool* complete = nullptr) {
  std::string out;
  bool ok = decode_content(part, 1 << 20, [] { return false; }, "p", problems, [&](std::string_view c) {
    out.append(c);
    return true;
  });
  if (complete) *complete = ok;
  return out;
}

const std::string kMultipart =
    "From: a@example.com\r\nSubject: =?UTF-8?B?UmVjaG51bmc=?=\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    "--b\r\nContent-Type: TEXT/Plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "caf=E9 soft=\r\nbreak\r\n"
    "--b\r\nContent-Type: text/plain\r\nContent-Disposition: inline; filename=\"=?UTF-8?B?w6QudHh0?=\"\r\n\r\n"
    "named\r\n"
    "--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment\r\n\r\nQUJD*REVG\r\n"
    "--b\r\nContent-Type: text/html\r\nContent-Disposition: attachment\r\n\r\n<b>x</b>\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
    "no block here\r\n"
    "--b--\r\n";

}  // namespace

TEST(MimeParts, SubjectDecodedAndAbsentSubjectIsNone) {
  std::set<std::string> problems;
  ParsedMessage m(kMultipart, problems);
  ASSERT_NE(m.message(), nullptr);
  // The raw header value, so the space after the colon is kept.
  EXPECT_EQ(message_subject(m.message()), std::optional<std::string>(" Rechnung"));
  const std::string bare = "From: a@example.com\r\n\r\nhello\r\n";
  ParsedMessage b(bare, problems);
  ASSERT_NE(b.message(), nullptr);
  EXPECT_EQ(message_subject(b.message()), std::nullopt);
  EXPECT_TRUE(problems.empty()) << *problems.begin();
}

TEST(MimeParts, ClassifiesTextBodiesAndAttachments) {
  std::set<std::string> problems;
  ParsedMessage m(kMultipart, problems);
  LeafPart plain = classify_part(leaf(m, 0));
  EXPECT_EQ(plain.mime_type, "text/plain");  // lower-cased
  EXPECT_TRUE(plain.text_body);
  EXPECT_EQ(part_charset(leaf(m, 0)), "iso-8859-1");
  LeafPart named = classify_part(leaf(m, 1));
  EXPECT_FALSE(named.text_body);  // a named text part is an attachment
  EXPECT_EQ(named.filename, "\xc3\xa4.txt");  // encoded word in the parameter decoded
  EXPECT_EQ(part_charset(leaf(m, 1)), "");
  EXPECT_FALSE(classify_part(leaf(m, 2)).text_body);
  LeafPart html = classify_part(leaf(m, 3));
  EXPECT_EQ(html.mime_type, "text/html");
  EXPECT_FALSE(html.text_body);  // disposition attachment
}

TEST(MimeParts, DecodesTransferEncodingsAndReportsBrokenOnes) {
  std::set<std::string> problems;
  ParsedMessage m(kMultipart, problems);
  std::set<std::string> found;
  EXPECT_EQ(decode_all(leaf(m, 0), found), "caf\xe9 softbreak");
  EXPECT_TRUE(found.empty());
  EXPECT_EQ(decode_all(leaf(m, 2), found).substr(0, 3), "ABC");
  EXPECT_EQ(found, std::set<std::string>{"invalid base64 in p"});
  found.clear();
  bool complete = false;
  EXPECT_EQ(decode_all(leaf(m, 4), found, &complete), "");
  EXPECT_TRUE(complete);
  EXPECT_EQ(found, std::set<std::string>{"x-uuencode part without begin line in p"});
}

TEST(MimeParts, DecodeStopsWhenTheSinkOrTheDeadlineSaysSo) {
  std::set<std::string> problems;
  ParsedMessage m(kMultipart, problems);
  auto refuse = [](std::string_view) { return false; };
  EXPECT_FALSE(decode_content(leaf(m, 0), 1 << 20, [] { return false; }, "p", problems, refuse));
  int calls = 0;
  auto take = [&](std::string_view) { return ++calls, true; };
  EXPECT_FALSE(decode_content(leaf(m, 0), 1 << 20, [] { return true; }, "p", problems, take));
  EXPECT_EQ(calls, 0);
}

TEST(MimeParts, DecodedSizeHintBoundsBase64) {
  std::set<std::string> problems;
  ParsedMessage m(kMultipart, problems);
  std::uint64_t hint = decoded_size_hint(leaf(m, 2));
  EXPECT_GT(hint, 0u);
  EXPECT_LE(hint, std::string("QUJD*REVG\r\n").size() / 4 * 3 + 3);
}

TEST(MimeParts, ContentHeaderConflictsAreProblemsOtherRepeatsAreNot) {
  const std::string twice_to =
      "To: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\nSubject: t\r\n\r\nbody\r\n";
  std::set<std::string> problems;
  { ParsedMessage m(twice_to, problems); }
  EXPECT_TRUE(problems.empty()) << *problems.begin();
  const std::string twice_type =
      "Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Type: application/zip\r\n\r\nbody\r\n";
  { ParsedMessage m(twice_type, problems); }
  EXPECT_EQ(problems.count("conflicting Content-Type headers"), 1u);
}

TEST(MimeParts, EmbeddedMessageNameFromDispositionOrFallback) {
  const std::string outer =
      "Subject: outer\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
      "--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n"
      "Subject: inner\r\n\r\ninner body\r\n"
      "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: two\r\n\r\nsecond\r\n"
      "--b--\r\n";
  std::set<std::string> problems;
  ParsedMessage m(outer, problems);
  GMimeMultipart* mp = GMIME_MULTIPART(m.body());
  auto first = embedded_message(GMIME_MESSAGE_PART(g_mime_multipart_get_part(mp, 0)), "fallback.eml");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->name, "fwd.eml");
  EXPECT_NE(first->bytes.find("inner body"), std::string_view::npos);
  auto second = embedded_message(GMIME_MESSAGE_PART(g_mime_multipart_get_part(mp, 1)), "message-3.eml");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->name, "message-3.eml");
  EXPECT_NE(second->bytes.find("Subject: two"), std::string_view::npos);
}

TEST(MimeParts, UnparsableOrBodylessMessageIsAProblem) {
  std::set<std::string> problems;
  ParsedMessage m("", problems);
  EXPECT_TRUE(m.body() == nullptr);
  EXPECT_FALSE(problems.empty());
}

TEST(TextBody, PlainTextDecodedFromItsCharset) {
  TextBody b = read_text_body("caf\xe9", "iso-8859-1", false, 1 << 20);
  EXPECT_EQ(b.utf8, "caf\xc3\xa9");
  EXPECT_EQ(b.html_text, "");
  EXPECT_TRUE(b.uu.empty());
}

TEST(TextBody, HtmlReducedToText) {
  TextBody b = read_text_body("<p>Hello <b>there</b></p>", "", true, 1 << 20);
  EXPECT_EQ(b.utf8, "<p>Hello <b>there</b></p>");
  EXPECT_NE(b.html_text.find("Hello there"), std::string::npos);
  EXPECT_EQ(b.html_text.find('<'), std::string::npos);
}

TEST(TextBody, UuencodedBlocksWithNamesInTheBodyCharset) {
  // "begin 644 \xe4.txt" in Latin-1, one line holding "Cat".
  const std::string body = "see below\nbegin 644 \xe4.txt\n#0V%T\n`\nend\n";
  TextBody b = read_text_body(body, "iso-8859-1", false, 1 << 20);
  ASSERT_EQ(b.uu.size(), 1u);
  EXPECT_EQ(b.uu[0].name, "\xc3\xa4.txt");
  EXPECT_EQ(b.uu[0].data, "Cat");
  EXPECT_TRUE(b.uu[0].complete);
  // Without a "begin " line nothing is searched.
  EXPECT_TRUE(read_text_body("#0V%T\n`\nend\n", "", false, 1 << 20).uu.empty());
}

TEST(HeaderGuard, OverflowsNamedInOrderWithWhatWasCut) {
  HeaderGuardLimits lim{10, 100, 36};
  HeaderGuardResult none;
  EXPECT_TRUE(guard_overflows(none, lim).empty());
  HeaderGuardResult all;
  all.dropped_fields = 5;
  all.cut_fields = 2;
  all.boundaries_cut = true;
  all.cut_at = 1234;
  auto o = guard_overflows(all, lim);
  ASSERT_EQ(o.size(), 3u);
  EXPECT_STREQ(o[0].setting, "max_headers");
  EXPECT_EQ(o[0].detail, "more than 10 header fields; 5 not parsed");
  EXPECT_STREQ(o[1].setting, "max_header_size");
  EXPECT_EQ(o[1].detail, "2 header field(s) longer than 100 bytes cut short");
  EXPECT_STREQ(o[2].setting, "max_mime_parts");
  EXPECT_EQ(o[2].detail, "more than 36 boundary lines; the message is parsed up to byte 1234");
}
