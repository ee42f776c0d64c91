// RTF \objdata extraction with the obfuscations RTF readers accept, OLE1
// object and Package decoding, and the extractor end to end.
#include <gtest/gtest.h>

#include "emogate/scanner.h"
#include "formats/rtf/objects.h"
#include "office_fixtures.h"
#include "ole2_builder.h"

using namespace emogate;
using namespace emogate::test;

namespace {

std::string hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::string lpstr(std::string_view s) { return u32(std::uint32_t(s.size() + 1)) + std::string(s) + '\0'; }

std::string ole1(std::string_view cls, std::string_view native) {
  return u32(0x0501) + u32(2) + lpstr(cls) + lpstr("") + lpstr("") +
         u32(std::uint32_t(native.size())) + std::string(native);
}

std::string package(std::string_view label, std::string_view path, std::string_view data) {
  return u16(2) + std::string(label) + '\0' + std::string(path) + '\0' + u16(0) + u16(3) +
         u32(std::uint32_t(path.size() + 1)) + std::string(path) + '\0' +
         u32(std::uint32_t(data.size())) + std::string(data);
}

}  // namespace

TEST(RtfObjects, ObfuscatedHexIsDecoded) {
  std::string payload("\x01\x05\x00\x00\x02\x00\x00\x00" "ABC", 11);
  std::string h = hex(payload);  // 22 hex digits
  // Whitespace and CRLF inside the hex, a control word with a parameter, an
  // ignorable group, a very long control word, \'hh escapes, then \bin raw
  // bytes, and an odd trailing nibble.
  std::string doc = "{\\rtf1{\\object\\objemb{\\*\\objdata " + h.substr(0, 5) + "\r\n " + h.substr(5, 5) +
                    "\\par0 " + h.substr(10, 4) + "{\\*\\foo}" + "\\" + std::string(300, 'x') + " " +
                    h.substr(14, 4) + "\\'ff" + h.substr(18, 2) + "\\bin2 \x7F{" + h.substr(20) + "f}}}";
  auto objs = rtf::objdata(doc);
  ASSERT_EQ(objs.size(), 1u);
  std::string want = payload.substr(0, 10) + "\x7F{" + payload.substr(10);
  EXPECT_EQ(objs[0], want);
}

TEST(RtfObjects, SeveralObjectsAndUnclosedOne) {
  std::string doc = "{\\rtf1{\\*\\objdata 4142}{\\*\\objdata 43}{\\*\\objdata 4445";
  auto objs = rtf::objdata(doc);
  ASSERT_EQ(objs.size(), 3u);
  EXPECT_EQ(objs[0], "AB");
  EXPECT_EQ(objs[1], "C");
  EXPECT_EQ(objs[2], "DE");
  EXPECT_EQ(rtf::objdata(doc, 1).size(), 1u);
}

TEST(RtfObjects, Ole1AndPackageParse) {
  std::string native = package("evil.hta", "C:\\Users\\a\\evil.hta", "<hta:application>");
  const std::string bytes = ole1("Package", native);  // parse results view into it
  auto o = rtf::parse_ole1(bytes);
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.format, 2u);
  EXPECT_EQ(o.class_name, "Package");
  EXPECT_EQ(o.native, native);
  auto p = rtf::parse_package(o.native);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.label, "evil.hta");
  EXPECT_EQ(p.source_path, "C:\\Users\\a\\evil.hta");
  EXPECT_EQ(p.data, "<hta:application>");
  EXPECT_FALSE(rtf::parse_ole1("\x01\x05\x00\x00\x02\x00\x00\x00\xff\xff\xff\xff").ok);
}

TEST(RtfObjects, FieldUrls) {
  std::string doc = R"({\field{\*\fldinst HYPERLINK "http://a.example/x"}}{\field{\*\fldinst { INCLUDEPICTURE \d "\\\\host\\share\\p.png" }}} HYPERLINK \l "bookmark")";
  auto urls = rtf::field_urls(doc);
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_EQ(urls[0], "http://a.example/x");
  EXPECT_EQ(urls[1], "\\\\host\\share\\p.png");
}

TEST(RtfExtractor, PackageBecomesNamedChildAndDangerousType) {
  std::string obj = ole1("Package", package("evil.hta", "C:\\t\\evil.hta", "<hta:application id=x>"));
  std::string doc = "{\\rtf1\\ansi {\\object\\objemb{\\*\\objclass Package}{\\*\\objdata\r\n" + hex(obj) + "}}}";
  auto rep = Scanner(Config{}).scan_file(doc, "doc.rtf");
  EXPECT_TRUE(has_finding(rep, FindingType::embedded_file, {.detail = "evil.hta"})) << to_json(rep);
  ASSERT_NE(find_object(rep, "doc.rtf/evil.hta"), nullptr) << to_json(rep);
  EXPECT_TRUE(has_finding(rep, FindingType::dangerous_type, {.detail = "hta"})) << to_json(rep);
  EXPECT_EQ(rep.verdict, Verdict::malicious);
}

TEST(RtfExtractor, PackageWithLyingSizeIsChildAndMalformed) {
  std::string pkg = package("evil.hta", "C:\\t\\evil.hta", "<hta:application id=x>");
  pkg.replace(pkg.size() - 22 - 4, 4, u32(1000000));  // data size far beyond the object
  std::string doc = "{\\rtf1{\\object{\\*\\objdata " + hex(ole1("Package", pkg)) + "}}}";
  auto rep = Scanner(Config{}).scan_file(doc, "doc.rtf");
  const Finding* f = find_finding(rep, FindingType::malformed, {.detail = "declares 1000000 bytes"});
  ASSERT_TRUE(f) << to_json(rep);
  const auto* o = find_object(rep, "doc.rtf/evil.hta");
  ASSERT_NE(o, nullptr) << to_json(rep);
  EXPECT_EQ(o->size, 22u);
  EXPECT_TRUE(has_finding(rep, FindingType::dangerous_type, {.detail = "hta"})) << to_json(rep);
}

TEST(RtfExtractor, EquationObjectIsMalicious) {
  std::string doc = "{\\rtf1{\\object{\\*\\objdata " + hex(ole1("Equation.3", "\x1c\x00\x00\x00")) + "}}}";
  auto rep = Scanner(Config{}).scan_file(doc, "eq.rtf");
  const Finding* f = find_finding(rep, FindingType::embedded_file, {.detail = "Equation.3"});
  ASSERT_TRUE(f) << to_json(rep);
  EXPECT_EQ(f->verdict, Verdict::malicious);
}

TEST(RtfExtractor, PlainRtfHasNoFindings) {
  auto rep = Scanner(Config{}).scan_file("{\\rtf1\\ansi Hello {\\b world}\\par}", "plain.rtf");
  EXPECT_TRUE(rep.findings.empty()) << to_json(rep);
}

TEST(EquationDetector, OleObjectWithEquationNativeStreamIsMalicious) {
  Ole2Builder b;
  b.add("Equation Native", std::string(64, '\x1c'));
  b.add("\x01" "CompObj", "x");
  auto rep = Scanner(Config{}).scan_file(b.build(), "oleObject1.bin");
  const Finding* f = find_finding(rep, FindingType::embedded_file, {.detail = "Equation Editor"});
  ASSERT_TRUE(f) << to_json(rep);
  EXPECT_EQ(f->path, "oleObject1.bin");
  EXPECT_EQ(f->verdict, Verdict::malicious);
}

// The equation module is the one place Equation Editor objects are flagged:
// an RTF Equation.3 object holding an OLE2 file with an "Equation Native"
// stream (the usual exploit) is one finding, on the object, not one for its
// class and another for its stream.
TEST(EquationDetector, RtfEquationObjectIsFlaggedOnce) {
  Ole2Builder b;
  b.add("Equation Native", std::string(64, '\x1c'));
  std::string doc = "{\\rtf1{\\object{\\*\\objdata " + hex(ole1("Equation.3", b.build())) + "}}}";
  auto rep = Scanner(Config{}).scan_file(doc, "eq.rtf");
  int n = 0;
  for (const auto& f : rep.findings)
    if (f.detail.find("Equation Editor") != std::string::npos) {
      ++n;
      EXPECT_EQ(f.path, "eq.rtf/object1.bin");
      EXPECT_EQ(f.verdict, Verdict::malicious);
    }
  EXPECT_EQ(n, 1) << to_json(rep);
}
