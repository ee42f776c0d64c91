// MIME stage: names, charsets, transfer encodings, nesting and broken input.
#include <gtest/gtest.h>
#include <iconv.h>

#include "engine/hash.h"
#include "fixtures.h"
#include "formats/mime/base64.h"
#include "formats/mime/charset.h"
#include "formats/mime/header_guard.h"
#include "formats/mime/html_text.h"
#include "formats/mime/uuencode.h"

using namespace emogate;
using namespace emogate::test;

namespace {

std::string encode(const std::string& utf8, const char* charset) {
  iconv_t cd = iconv_open(charset, "UTF-8");
  std::string out(utf8.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t inl = utf8.size(), outl = out.size();
  char* o = out.data();
  iconv(cd, &in, &inl, &o, &outl);
  iconv(cd, nullptr, nullptr, &o, &outl);
  iconv_close(cd);
  out.resize(out.size() - outl);
  return out;
}

Report scan(const std::string& msg, Config cfg = {}) {
  cfg.rules.paths.clear();
  Scanner s(cfg);
  return s.scan_message(msg);
}

const std::string kHead = "From: a@example.jp\r\nTo: b@example.jp\r\nSubject: test\r\n";

}  // namespace

TEST(Charset, Iso2022JpWithNecExtensions) {
  // ① and ㈱ live in JIS row 13, which plain ISO-2022-JP lacks (CP50221 has it).
  EXPECT_EQ(to_utf8("\x1b$B-!-j\x1b(B", "ISO-2022-JP"), "①㈱");
  std::string jis = encode("請求書のご確認", "ISO-2022-JP");
  ASSERT_NE(jis.find('\x1b'), std::string::npos);
  EXPECT_EQ(to_utf8(jis, "iso-2022-jp"), "請求書のご確認");
}

TEST(Charset, ShiftJisIsCp932) {
  std::string sjis = encode("①パスワード", "CP932");
  EXPECT_EQ(to_utf8(sjis, "Shift_JIS"), "①パスワード");
  EXPECT_EQ(to_utf8(encode("解凍", "EUC-JP"), "euc-jp"), "解凍");
}

TEST(Charset, GuessesWithoutLabelAndNeverFails) {
  EXPECT_EQ(to_utf8(encode("パスワード", "CP932"), ""), "パスワード");
  std::string garbage = "\xff\xfe\x80" "abc";
  std::string out = to_utf8(garbage, "utf-8");
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_TRUE(is_valid_utf8(to_utf8("abc", "x-no-such-charset")));
}

TEST(Charset, Rfc2047) {
  EXPECT_EQ(decode_rfc2047("=?UTF-8?B?6KuL5rGC5pu4LnppcA==?="), "請求書.zip");
  EXPECT_EQ(decode_rfc2047("=?ISO-8859-1?Q?caf=E9_cr=E8me?="), "café crème");
  // Adjacent words are joined, whitespace between them dropped.
  EXPECT_EQ(decode_rfc2047("=?UTF-8?B?6KuL?= =?UTF-8?B?5rGC5pu4?="), "請求書");
  std::string jis = encode("請求書", "ISO-2022-JP");
  EXPECT_EQ(decode_rfc2047("=?ISO-2022-JP?B?" + base64(jis, false) + "?= x"), "請求書 x");
}

TEST(Html, ReducesToText) {
  std::string t = html_to_text(
      "<html><head><style>p{}</style><script>var a='<b>';</script></head><body>"
      "<p>パスワード&#xFF1A;<b>Ab3&amp;dEf</b></p><br>second&nbsp;line<!-- hidden --></body></html>");
  EXPECT_NE(t.find("パスワード：Ab3&dEf"), std::string::npos) << t;
  EXPECT_NE(t.find("second line"), std::string::npos);
  EXPECT_EQ(t.find("hidden"), std::string::npos);
  EXPECT_EQ(t.find("var a"), std::string::npos);
  auto links = html_links("<a href=\"http://x.example/a?b=1&amp;c=2\">x</a><img src=http://y.example/i.png>");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0], "http://x.example/a?b=1&c=2");
}

TEST(Uuencode, DecodesBlocks) {
  // "Cat" uuencoded.
  auto blocks = find_uuencoded("hello\nbegin 644 cat.txt\n#0V%T\n`\nend\n", 4, 1000);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].name, "cat.txt");
  EXPECT_EQ(blocks[0].data, "Cat");
  EXPECT_TRUE(blocks[0].complete);
}

TEST(Mime, AttachmentNamesRfc2047And2231) {
  std::string jis = encode("請求書.zip", "ISO-2022-JP");
  std::string msg = multipart(kHead, {
      Part{"Content-Type: text/plain; charset=utf-8", "body"},
      attachment("=\"=?ISO-2022-JP?B?" + base64(jis, false) + "?=\"", "one"),
      attachment("*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.doc", "two"),
      attachment("*0*=UTF-8''%E8%AB%8B; filename*1*=%E6%B1%82.xls", "three"),
      attachment("=\"" + encode("見積.txt", "CP932") + "\"", "four"),
  });
  Report r = scan(msg);
  EXPECT_NE(find_object(r, "請求書.zip"), nullptr) << dump(r);
  EXPECT_NE(find_object(r, "請求書.doc"), nullptr) << dump(r);
  EXPECT_NE(find_object(r, "請求.xls"), nullptr) << dump(r);
  EXPECT_NE(find_object(r, "見積.txt"), nullptr) << dump(r);
}

TEST(Mime, JapaneseBodiesAndTransferEncodings) {
  std::string jis = encode("解凍パスワードは Ab3dEf9 です", "ISO-2022-JP");
  std::string msg = multipart(kHead, {
      Part{"Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit", jis},
      Part{"Content-Type: text/html; charset=Shift_JIS\r\nContent-Transfer-Encoding: base64",
           base64("<p>" + encode("①ご確認ください", "CP932") + "</p>")},
      Part{"Content-Type: application/octet-stream; name=q.bin\r\nContent-Transfer-Encoding: quoted-printable",
           "MZ=00=01=\r\nrest"},
  });
  Report r = scan(msg);
  const ObjectSummary* body = find_object(r, "body-1.txt");
  ASSERT_NE(body, nullptr) << dump(r);
  EXPECT_EQ(body->size, std::string("解凍パスワードは Ab3dEf9 です").size());
  ASSERT_NE(find_object(r, "body-2.html"), nullptr);
  ASSERT_NE(find_object(r, "body-2.html.txt"), nullptr);
  const ObjectSummary* q = find_object(r, "q.bin");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->size, 8u);  // "MZ\0\1rest"
  EXPECT_EQ(q->type, "pe");
  EXPECT_FALSE(has_finding(r, FindingType::malformed)) << dump(r);
}

TEST(Mime, UuencodedBlockInBodyAndXUuencodePart) {
  // "MZ" + 10 zero bytes, uuencoded by hand.
  std::string uu = "begin 644 payload.exe\r\n,35H``````````````\r\n`\r\nend\r\n";
  std::string msg = multipart(kHead, {
      Part{"Content-Type: text/plain", "see below\r\n" + uu},
      Part{"Content-Type: application/octet-stream; name=\"x.exe\"\r\nContent-Transfer-Encoding: x-uuencode", uu},
  });
  Report r = scan(msg);
  const ObjectSummary* p = find_object(r, "payload.exe");
  ASSERT_NE(p, nullptr) << dump(r);
  EXPECT_EQ(p->size, 12u);
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = "payload.exe"}));
  const ObjectSummary* x = find_object(r, "x.exe");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->size, 12u);
}

TEST(Mime, NestedMessageIsWalked) {
  std::string inner = multipart("From: c@example.com\r\nSubject: fwd\r\n",
                                {Part{"Content-Type: text/plain", "inner"},
                                 attachment("=\"tool.exe\"", fake_pe())});
  std::string msg = multipart(kHead, {
      Part{"Content-Type: text/plain", "outer"},
      Part{"Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd.eml\"", inner},
  });
  Report r = scan(msg);
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = "fwd.eml/tool.exe"})) << dump(r);
}

TEST(Mime, BrokenStructureIsMalformedButStillScanned) {
  std::string msg = kHead +
                    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                    "--b\r\nContent-Type: application/octet-stream; name=\"a.exe\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n" +
                    base64(fake_pe()) + "\r\n!!!$$$\r\n--b\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n";
  Report r = scan(msg);
  const Finding* m = find_finding(r, FindingType::malformed);
  ASSERT_NE(m, nullptr) << dump(r);
  EXPECT_NE(m->detail.find("invalid base64"), std::string::npos) << m->detail;
  EXPECT_NE(m->detail.find("multipart without boundary"), std::string::npos) << m->detail;
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = "a.exe"})) << dump(r);
}

TEST(Mime, GarbageHeadersAndAbsurdNesting) {
  std::string msg = "Subject: \xff\xfe\x81\r\nX-\x80\x81: \x01\x02\r\n";
  const int depth = 3000;
  msg += "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n";
  for (int i = 1; i < depth; ++i)
    msg += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n";
  msg += "--b" + std::to_string(depth - 1) + "\r\nContent-Type: text/plain\r\n\r\ndeep\r\n";
  Config cfg;
  Report r = scan(msg, cfg);
  EXPECT_TRUE(has_finding(r, FindingType::malformed) || has_finding(r, FindingType::limit_exceeded)) << dump(r);
  EXPECT_NE(r.verdict, Verdict::clean);
}

TEST(Mime, NotAMessageAtAll) {
  Report r = scan(std::string("\0\x01\x02\x03binary", 10));
  EXPECT_TRUE(r.errors.empty());
  Report empty = scan("");
  EXPECT_TRUE(empty.errors.empty());
}

TEST(Mime, PartLimit) {
  std::vector<Part> parts;
  for (int i = 0; i < 50; ++i) parts.push_back(Part{"Content-Type: text/plain", "p" + std::to_string(i)});
  Config cfg;
  cfg.limits.max_mime_parts = 10;
  Report r = scan(multipart(kHead, parts), cfg);
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "max_mime_parts"})) << dump(r);
}

TEST(Base64, DecodesAcrossChunksAndCountsInvalid) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 37));
  std::string enc = base64(data);  // wrapped at 76 with CRLF
  for (size_t split : {size_t{1}, size_t{3}, size_t{77}, enc.size() / 2}) {
    Base64Decoder d;
    std::string out(Base64Decoder::max_output(enc.size()) + 8, '\0');
    size_t n = d.step(std::string_view(enc).substr(0, split), out.data());
    n += d.step(std::string_view(enc).substr(split), out.data() + n);
    n += d.flush(out.data() + n);
    out.resize(n);
    EXPECT_EQ(out, data) << split;
    EXPECT_EQ(d.invalid(), 0u);
  }
  Base64Decoder bad;
  char buf[32];
  size_t n = bad.step("TW!Fu*", buf);  // "Man" with two stray bytes
  EXPECT_EQ(std::string(buf, n), "Man");
  EXPECT_EQ(bad.invalid(), 2u);
  Base64Decoder pad;
  n = pad.step("TQ==TWE=", buf);  // padded quanta: "M", then "Ma"
  EXPECT_EQ(std::string(buf, n), "MMa");
  Base64Decoder unpadded;
  n = unpadded.step("TWE", buf);
  n += unpadded.flush(buf + n);
  EXPECT_EQ(std::string(buf, n), "Ma");
}

// The four-at-a-time path must agree with the plain rules (skip whitespace,
// count other strays, '=' ends a quantum) on any mix and any chunking.
TEST(Base64, FastPathMatchesByteRules) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto reference = [&](const std::string& in, std::uint64_t& invalid) {
    std::string out;
    std::uint32_t acc = 0;
    int count = 0;
    auto flush = [&] {
      if (count == 2) out.push_back(static_cast<char>(acc >> 4));
      if (count == 3) out.push_back(static_cast<char>(acc >> 10)), out.push_back(static_cast<char>(acc >> 2));
      acc = 0, count = 0;
    };
    for (char c : in) {
      std::size_t v = alphabet.find(c);
      if (v != std::string::npos) {
        acc = acc << 6 | static_cast<std::uint32_t>(v);
        if (++count == 4) {
          out.push_back(static_cast<char>(acc >> 16)), out.push_back(static_cast<char>(acc >> 8));
          out.push_back(static_cast<char>(acc)), acc = 0, count = 0;
        }
      } else if (c == '=') {
        flush();
      } else if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
        ++invalid;
      }
    }
    flush();
    return out;
  };
  std::uint32_t seed = 12345;
  auto rnd = [&] { return seed = seed * 1103515245u + 12345u, seed >> 8; };
  for (int round = 0; round < 300; ++round) {
    std::string in;
    std::size_t len = rnd() % 400;
    // Every other round has long clean runs, as real mail does, so the
    // 32-character path meets every alphabet character and every offset.
    const std::uint32_t clean = round % 2 ? 85 : 99;
    for (std::size_t i = 0; i < len; ++i) {
      std::uint32_t k = rnd() % 100;
      if (k >= 85 && k < clean) k = 0;
      in.push_back(k < 85 ? alphabet[rnd() % 64] : k < 92 ? "\r\n \t"[rnd() % 4] : k < 96 ? '=' : static_cast<char>(rnd()));
    }
    std::uint64_t want_invalid = 0;
    std::string want = reference(in, want_invalid);
    Base64Decoder d;
    std::string out(Base64Decoder::max_output(in.size()) + 8, '\0');
    std::size_t n = 0, pos = 0;
    while (pos < in.size()) {
      std::size_t take = std::min<std::size_t>(in.size() - pos, 1 + rnd() % 97);
      n += d.step(std::string_view(in).substr(pos, take), out.data() + n);
      pos += take;
    }
    n += d.flush(out.data() + n);
    out.resize(n);
    ASSERT_EQ(out, want) << "round " << round;
    ASSERT_EQ(d.invalid(), want_invalid) << "round " << round;
  }
}

namespace {

const ObjectSummary* object_named(const Report& r, const std::string& name) {
  for (const auto& o : r.objects)
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace

TEST(HeaderFlood, TooManyHeadersAreDroppedAndTheRestIsScanned) {
  // The flood sits between the headers that give the structure.
  std::string flood;
  for (int i = 0; i < 30000; ++i) flood += "X-H: " + std::to_string(i) + "\r\n";
  std::string msg = multipart(kHead + flood, {Part{"Content-Type: text/plain", "hello"},
                                              attachment("=\"run.exe\"", fake_pe())});
  Report r = scan(msg);
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "max_headers"})) << dump(r);
  ASSERT_NE(object_named(r, "run.exe"), nullptr) << dump(r);
  EXPECT_EQ(object_named(r, "run.exe")->size, fake_pe().size());
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type));

  Config cfg;
  cfg.limits.max_headers = 40000;
  Report allowed = scan(msg, cfg);
  EXPECT_FALSE(has_finding(allowed, FindingType::limit_exceeded, {.limit = "max_headers"})) << dump(allowed);
}

TEST(HeaderFlood, FloodInsideAPartAndInsideAnAttachedMessage) {
  std::string flood;
  for (int i = 0; i < 12000; ++i) flood += "X-H: " + std::to_string(i) + "\r\n";
  std::string inner = "From: x@example.com\r\n" + flood + "Content-Type: text/plain\r\n\r\ninner body\r\n";
  std::string msg = multipart(kHead, {Part{"Content-Type: message/rfc822", inner}});
  HeaderGuardResult g = guard_headers(msg, HeaderGuardLimits{});
  EXPECT_TRUE(g.rewritten);
  EXPECT_EQ(g.dropped_fields, 12000u + 7u - 10000u);  // 7 other fields in the blocks
  EXPECT_NE(g.text.find("Content-Type: text/plain\r\n\r\ninner body"), std::string::npos);
  Report r = scan(msg);
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "max_headers"})) << dump(r);

  // Digest members have no Content-Type and are still messages.
  std::string digest = kHead + "MIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n" +
                       inner + "--d--\r\n";
  EXPECT_GT(guard_headers(digest, HeaderGuardLimits{}).dropped_fields, 0u);
}

TEST(HeaderFlood, InvalidLinesDoNotEndTheBlock) {
  // GMime skips a line it cannot read as a header and keeps parsing headers.
  std::string msg = kHead + "this is not a header\r\n";
  for (int i = 0; i < 200; ++i) msg += "X-H: 1\r\n";
  msg += "\r\nbody\r\n";
  HeaderGuardLimits lim;
  lim.max_headers = 100;
  HeaderGuardResult g = guard_headers(msg, lim);
  EXPECT_EQ(g.fields, 203u);
  EXPECT_EQ(g.dropped_fields, 103u);
  EXPECT_NE(g.text.find("\r\n\r\nbody\r\n"), std::string::npos);
}

TEST(HeaderFlood, LongFoldedHeaderIsCut) {
  std::string msg = kHead + "X-Long: start\r\n";
  for (int i = 0; i < 20000; ++i) msg += " continued-line-" + std::to_string(i) + "\r\n";
  msg += "Content-Type: text/plain\r\n\r\nbody text\r\n";
  Report r = scan(msg);
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "max_header_size"})) << dump(r);
  EXPECT_NE(object_named(r, "body-1.txt"), nullptr) << dump(r);
}

TEST(HeaderFlood, OrdinaryMessagesAreNotCopied) {
  std::string body;
  // Lines of a text body that look like headers are not in a header block.
  for (int i = 0; i < 20000; ++i) body += "http://example.com/" + std::to_string(i) + "\r\nTime: 12:00\r\n";
  std::string msg = multipart(kHead, {Part{"Content-Type: text/plain", body}, attachment("=\"a.bin\"", "x")});
  HeaderGuardLimits lim;
  lim.max_boundaries = 1 << 20;
  HeaderGuardResult g = guard_headers(msg, lim);
  EXPECT_FALSE(g.rewritten);
  EXPECT_LT(g.fields, 20u);
}

TEST(HeaderFlood, BoundaryLinesPastTheLimitCutTheMessage) {
  std::string msg = kHead + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 5000; ++i) msg += "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n";
  msg += "--b--\r\n";
  Report r = scan(msg);
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "max_mime_parts"})) << dump(r);
  HeaderGuardResult g = guard_headers(msg, HeaderGuardLimits{});
  EXPECT_TRUE(g.boundaries_cut);
  EXPECT_LT(g.text.size(), msg.size() / 2);
}

TEST(HeaderFlood, BoundariesAndBlocksAfterLongBodiesAreStillSeen) {
  // Body lines with dashes anywhere but at their start are no boundaries;
  // the header block after the next boundary is guarded as before.
  std::string head = kHead + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
  std::string msg = head + "--b\r\nContent-Type: text/plain\r\n\r\n";
  for (int i = 0; i < 3000; ++i) msg += "a--b - c -- d\r\nQUJD\n-x\r\n";
  msg += "--b\r\nContent-Type: text/plain\r\n";
  for (int i = 0; i < 150; ++i) msg += "X-H: 1\r\n";
  const std::size_t last = msg.size() + 5;  // after "\r\nx\r\n"
  msg += "\r\nx\r\n--b--\r\n";
  HeaderGuardLimits lim;
  lim.max_headers = 100;
  lim.max_boundaries = 3;
  HeaderGuardResult g = guard_headers(msg, lim);
  EXPECT_FALSE(g.boundaries_cut);
  EXPECT_EQ(g.fields, 150u + 2u + 5u);  // the flood, two Content-Types, the message's own
  EXPECT_EQ(g.dropped_fields, 57u);
  lim.max_boundaries = 2;
  g = guard_headers(msg, lim);
  EXPECT_TRUE(g.boundaries_cut);
  EXPECT_EQ(g.cut_at, last);
}

TEST(Mime, RepeatedAddressHeadersAreNotMalformed) {
  std::string msg = "From: a@example.jp\r\nTo: b@example.jp\r\nCc: c1@example.jp\r\nCc: c2@example.jp\r\n"
                    "Cc: c3@example.jp\r\nSubject: one\r\nSubject: two\r\n\r\nbody\r\n";
  Report r = scan(msg);
  EXPECT_FALSE(has_finding(r, FindingType::malformed)) << dump(r);
  std::string twice = kHead + "Content-Type: text/plain\r\nContent-Type: application/zip\r\n\r\nbody\r\n";
  Report r2 = scan(twice);
  const Finding* f = find_finding(r2, FindingType::malformed);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("conflicting Content-Type headers"), std::string::npos) << f->detail;
}

TEST(Mime, LastBase64LineWithBareLfInCrlfMessage) {
  std::string data = "hello world!1";  // 13 bytes: an unpadded last quantum
  std::string b64 = base64(data, false);
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  std::string msg = kHead + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n"
                    "--bb\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                    "--bb\r\nContent-Type: application/octet-stream\r\n"
                    "Content-Disposition: attachment; filename=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                    b64 + "\n--bb--\r\n";
  Report r = scan(msg);
  const ObjectSummary* o = object_named(r, "a.bin");
  ASSERT_NE(o, nullptr) << dump(r);
  EXPECT_EQ(o->size, data.size());
  // The same with a CRLF line end was always whole.
  std::string crlf = msg;
  crlf.replace(crlf.find(b64 + "\n") + b64.size(), 1, "\r\n");
  EXPECT_EQ(object_named(scan(crlf), "a.bin")->size, data.size());
}

// Base64 attachments are decoded straight into the object's buffer: the
// bytes are exact across many decoding steps (and a line break split by a
// step), and max_object_size still cuts the object at exactly its size.
TEST(Mime, Base64AttachmentDecodedInPlaceIsExactAndKeepsTheObjectLimit) {
  std::string data(700 * 1024 + 5, '\0');
  std::uint32_t x = 2463534242u;
  for (char& c : data) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>(x);
  }
  const std::string msg = multipart(kHead, {Part{"Content-Type: text/plain", "see the file"},
                                            attachment("=\"data.bin\"", data)});
  Report r = scan(msg);
  const ObjectSummary* o = find_object(r, "data.bin");
  ASSERT_NE(o, nullptr) << dump(r);
  EXPECT_EQ(o->size, data.size());
  EXPECT_EQ(o->sha256, sha256_hex(data));
  EXPECT_FALSE(o->truncated);

  Config small;
  small.limits.max_object_size = 256 * 1024 + 1;  // not a multiple of a step's output
  Report cut = scan(msg, small);
  const ObjectSummary* c = find_object(cut, "data.bin");
  ASSERT_NE(c, nullptr) << dump(cut);
  EXPECT_EQ(c->size, small.limits.max_object_size);
  EXPECT_EQ(c->sha256, sha256_hex(std::string_view(data).substr(0, small.limits.max_object_size)));
  EXPECT_TRUE(c->truncated);
  EXPECT_TRUE(has_finding(cut, FindingType::limit_exceeded, {.path = "data.bin", .limit = "max_object_size"}))
      << dump(cut);
}
