// OLE2 extractor through the engine: streams as children, malformed for
// damaged files, packaged files unwrapped, PowerPoint storages inflated.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>

#include "emogate/scanner.h"
#include "unit/office_fixtures.h"
#include "unit/ovba_builder.h"

using namespace emogate;
using emogate::test::find_finding;
using emogate::test::find_object;
using emogate::test::has_finding;
using emogate::test::Ole2Builder;

namespace {


// An \x01Ole10Native stream: total size (not trusted), then the OLE1
// Package packaging evil.exe with the given data-size field.
std::string ole10native(const std::string& payload, std::uint32_t declared) {
  std::string native;
  Ole2Builder::put32(native, 0);
  native += std::string("\x02\x00", 2) + "evil.exe" + '\0' + "C:\\Users\\x\\evil.exe" + '\0';
  native += std::string("\x00\x00\x03\x00", 4);
  std::string temp = "C:\\Temp\\evil.exe";
  Ole2Builder::put32(native, static_cast<std::uint32_t>(temp.size() + 1));
  native += temp + '\0';
  Ole2Builder::put32(native, declared);
  return native + payload;
}

}  // namespace

TEST(Ole2Extractor, StreamsBecomeChildren) {
  Ole2Builder b(4);
  b.add("Workbook", std::string(7000, 'w')).add("\x05SummaryInformation", "abc").add("ObjectPool/_1/Contents", "xyz");
  Scanner s{Config{}};
  Report r = s.scan_file(b.build(), "book.xls");
  EXPECT_TRUE(find_object(r, "book.xls/Workbook"));
  EXPECT_TRUE(find_object(r, "book.xls/SummaryInformation"));  // control characters dropped from names
  EXPECT_TRUE(find_object(r, "book.xls/ObjectPool/_1/Contents"));
  EXPECT_EQ(find_finding(r, FindingType::malformed), nullptr);
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(Ole2Extractor, TruncatedFileIsMalformedButRead) {
  Ole2Builder b(3);
  b.add("Small", "tiny stream").add("Big", std::string(20000, 'B'));
  std::string file = b.build();
  file.resize(b.sector_offset(b.start["Big"]) + 2048);
  Scanner s{Config{}};
  Report r = s.scan_file(file, "cut.doc");
  const Finding* f = find_finding(r, FindingType::malformed);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("Big: truncated"), std::string::npos) << f->detail;
  EXPECT_TRUE(find_object(r, "cut.doc/Small"));
  for (const auto& o : r.objects)
    if (o.path == "cut.doc/Big") { EXPECT_EQ(o.size, 2048u); }
}

TEST(Ole2Extractor, PackagedFileIsUnwrapped) {
  std::string payload = "MZ\x90" + std::string(300, 'P');
  Ole2Builder b(3);
  b.add("\x01Ole10Native", ole10native(payload, static_cast<std::uint32_t>(payload.size())));
  Scanner s{Config{}};
  Report r = s.scan_file(b.build(), "oleObject1.bin");
  const Finding* f = find_finding(r, FindingType::embedded_file);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("'evil.exe'"), std::string::npos) << f->detail;
  EXPECT_TRUE(find_object(r, "oleObject1.bin/evil.exe"));
}

// A stream larger than max_object_size is cut there and says so, whether it
// is read whole (small) or streamed (over max_object_memory).
TEST(Ole2Extractor, StreamOverMaxObjectSizeIsLimitExceeded) {
  Config c;
  c.limits.max_object_size = 4096;
  c.limits.max_object_memory = 64 << 10;
  Ole2Builder b(3);
  b.add("Small", std::string(10000, 's')).add("Large", std::string(100000, 'L'));
  Report r = Scanner{c}.scan_file(b.build(), "big.doc");
  for (const std::string name : {"Small", "Large"}) {
    EXPECT_TRUE(test::has_finding(r, FindingType::limit_exceeded, {.path = "big.doc/" + name, .limit = "max_object_size"}))
        << name << ": " << to_json(r);
    for (const auto& o : r.objects)
      if (o.path == "big.doc/" + name) { EXPECT_EQ(o.size, 4096u); }
  }
}

// A data-size field larger than the stream: what the stream holds is still
// the child, and the lie is reported.
TEST(Ole2Extractor, PackageWithLyingSizeIsUnwrappedAndMalformed) {
  std::string payload = "MZ\x90" + std::string(300, 'P');
  Ole2Builder b(3);
  b.add("\x01Ole10Native", ole10native(payload, 0x7FFFFFF0u));
  Scanner s{Config{}};
  Report r = s.scan_file(b.build(), "oleObject1.bin");
  const Finding* f = find_finding(r, FindingType::malformed);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("declares 2147483632 bytes of data but holds 303"), std::string::npos) << f->detail;
  ASSERT_TRUE(find_object(r, "oleObject1.bin/evil.exe"));
  const ObjectSummary* payload_obj = nullptr;
  for (const auto& o : r.objects)
    if (o.path == "oleObject1.bin/evil.exe") payload_obj = &o;
  ASSERT_NE(payload_obj, nullptr);
  EXPECT_EQ(payload_obj->size, payload.size());
  EXPECT_NE(find_finding(r, FindingType::dangerous_type), nullptr);
}

TEST(Ole2Extractor, PowerPointCompressedStorage) {
  emogate::test::VbaProjectBuilder p;
  p.add("Module1", "Sub Auto_Open()\r\nShell \"x\"\r\nEnd Sub\r\n");
  Ole2Builder inner(3);
  p.add_to(inner, "VBA");
  const std::string storage = inner.build();
  uLongf n = compressBound(storage.size());
  std::string z(n, '\0');
  ASSERT_EQ(compress(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(storage.data()), storage.size()), Z_OK);
  z.resize(n);
  std::string rec;
  rec += std::string("\x10\x00\x11\x10", 4);  // instance 1 (compressed), type 0x1011
  Ole2Builder::put32(rec, static_cast<std::uint32_t>(z.size() + 4));
  Ole2Builder::put32(rec, static_cast<std::uint32_t>(storage.size()));
  rec += z;
  std::string other = std::string("\x0F\x00\xE8\x03", 4) + std::string(4, '\0');  // empty DocumentContainer
  Ole2Builder b(3);
  b.add("PowerPoint Document", other + rec).add("Current User", std::string(40, 'u'));
  Scanner s{Config{}};
  Report r = s.scan_file(b.build(), "deck.ppt");
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "deck.ppt/PowerPoint Document/ExOleObjStg1");
  EXPECT_EQ(f->verdict, Verdict::malicious);
}

// ---- Office 2007+ theme packages inside binary document streams ----

namespace {

using emogate::test::biff;
using emogate::test::u16;
using emogate::test::u32;

// A theme package as Office 2007+ writes it into .xls/.doc/.ppt: content
// types, relationships, a theme manager and theme1.xml. `filler` makes the
// package big enough for BIFF to continue it over several records.
std::string theme_package(std::size_t filler = 0, const std::string& extra_name = {},
                          const std::string& extra = {}) {
  std::string noise;
  std::uint32_t x = 12345;
  for (std::size_t i = 0; i < filler; ++i) {
    x = x * 1103515245u + 12345u;
    noise += "0123456789abcdef"[(x >> 16) & 15];
  }
  std::vector<std::pair<std::string, std::string>> files = {
      {"[Content_Types].xml",
       R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">)"
       R"(<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>)"
       R"(<Default Extension="xml" ContentType="application/xml"/>)"
       R"(<Override PartName="/theme/theme/themeManager.xml" ContentType="application/vnd.openxmlformats-officedocument.themeManager+xml"/>)"
       R"(<Override PartName="/theme/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/></Types>)"},
      {"_rels/.rels",
       R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
       R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="theme/theme/themeManager.xml"/></Relationships>)"},
      {"theme/theme/themeManager.xml",
       R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><a:themeManager xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"/>)"},
      {"theme/theme/theme1.xml",
       R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme">)"
       R"(<a:themeElements><a:clrScheme name="Office"><a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1></a:clrScheme>)"
       "<a:fontScheme name=\"Office\"/><a:fmtScheme name=\"Office\"/></a:themeElements><!-- " + noise + " --></a:theme>"},
      {"theme/theme/_rels/themeManager.xml.rels",
       R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
       R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" Target="theme1.xml"/></Relationships>)"}};
  if (!extra_name.empty()) files.emplace_back(extra_name, extra);
  return emogate::test::zip_bytes(files);
}

// BIFF8 workbook globals with a THEME record (0x0896: FrtHeader,
// dwThemeVersion 0, package) continued in ContinueFrt12 records (0x087F),
// as Excel splits records longer than 8,224 bytes; then one worksheet.
std::string biff8_with_theme(const std::string& zip) {
  auto bof = [](std::uint16_t dt) { return biff(0x0809, u16(0x0600) + u16(dt) + std::string(12, '\0')); };
  auto frt = [](std::uint16_t rt) { return u16(rt) + std::string(10, '\0'); };
  std::string theme;
  const std::size_t first = 8224 - 16;
  theme += biff(0x0896, frt(0x0896) + u32(0) + zip.substr(0, first));
  for (std::size_t at = first; at < zip.size(); at += 8224 - 12)
    theme += biff(0x087F, frt(0x087F) + zip.substr(at, 8224 - 12));
  const std::string eof = biff(0x000A, "");
  const std::string sheet_name = "Sheet1";
  std::string globals_head = bof(0x0005) + biff(0x0042, u16(1252)) + theme;
  const std::string boundsheet_len_probe =
      biff(0x0085, u32(0) + u16(0) + std::string(1, char(sheet_name.size())) + std::string(1, '\0') + sheet_name);
  const std::uint32_t sheet_at = static_cast<std::uint32_t>(globals_head.size() + boundsheet_len_probe.size() + eof.size());
  const std::string boundsheet =
      biff(0x0085, u32(sheet_at) + u16(0) + std::string(1, char(sheet_name.size())) + std::string(1, '\0') + sheet_name);
  const std::string number = biff(0x0203, u16(0) + u16(0) + u16(15) + std::string(8, '\0'));
  return globals_head + boundsheet + eof + bof(0x0010) + number + eof;
}

// PowerPoint record header: version/instance, type, length.
std::string ppt_rec(std::uint16_t ver_inst, std::uint16_t type, const std::string& body) {
  return u16(ver_inst) + u16(type) + u32(static_cast<std::uint32_t>(body.size())) + body;
}


const ObjectSummary* object(const Report& r, const std::string& path) {
  for (const auto& o : r.objects)
    if (o.path == path) return &o;
  return nullptr;
}

}  // namespace

TEST(Ole2Theme, ExcelThemeRecordIsNotAZipBehindAStub) {
  const std::string zip = theme_package(30000);
  ASSERT_GT(zip.size(), 8224u * 2) << "the package must span several BIFF records";
  Ole2Builder b(3);
  b.add("Workbook", biff8_with_theme(zip)).add("\x05SummaryInformation", std::string(200, '\0'));
  Report r = Scanner{Config{}}.scan_file(b.build(), "book.xls");
  EXPECT_FALSE(has_finding(r, FindingType::malformed)) << to_json(r);
  EXPECT_EQ(r.verdict, Verdict::clean) << to_json(r);
  const ObjectSummary* wb = object(r, "book.xls/Workbook");
  ASSERT_NE(wb, nullptr);
  EXPECT_EQ(wb->type, "binary");
  // The reassembled package is scanned on its own, part by part.
  const ObjectSummary* theme = object(r, "book.xls/Workbook/theme.zip");
  ASSERT_NE(theme, nullptr) << to_json(r);
  EXPECT_EQ(theme->size, zip.size());
  EXPECT_NE(object(r, "book.xls/Workbook/theme.zip/theme/theme/theme1.xml"), nullptr) << to_json(r);
}

TEST(Ole2Theme, WordTableStreamThemeIsScannedNotMalformed) {
  const std::string zip = theme_package(2000);
  std::string fib = u16(0xA5EC) + u16(0x00C1) + u16(0) + u16(0x0409) + u16(0) + u16(0x0200);  // fWhichTblStm
  fib += std::string(1024, '\0');
  Ole2Builder b(3);
  b.add("WordDocument", fib)
      .add("1Table", std::string(3000, '\x01') + zip + std::string(700, '\x02'))
      .add("\x05SummaryInformation", std::string(200, '\0'));
  Report r = Scanner{Config{}}.scan_file(b.build(), "letter.doc");
  EXPECT_FALSE(has_finding(r, FindingType::malformed)) << to_json(r);
  EXPECT_FALSE(has_finding(r, FindingType::encrypted_document)) << to_json(r);
  EXPECT_EQ(r.verdict, Verdict::clean) << to_json(r);
  EXPECT_EQ(object(r, "letter.doc/1Table")->type, "binary");
  const ObjectSummary* theme = object(r, "letter.doc/1Table/package1.zip");
  ASSERT_NE(theme, nullptr) << to_json(r);
  EXPECT_EQ(theme->size, zip.size());
}

TEST(Ole2Theme, PowerPointThemePerMasterAreEachScanned) {
  // RoundTripTheme12Atom (0x040E) in two masters, other records around them.
  const std::string z1 = theme_package(500), z2 = theme_package(800);
  const std::string master1 = ppt_rec(0x000F, 0x03F8, ppt_rec(0, 0x03EF, std::string(24, '\0')) + ppt_rec(0, 0x040E, z1));
  const std::string master2 = ppt_rec(0x000F, 0x03F8, ppt_rec(0, 0x040E, z2) + ppt_rec(0, 0x0FBA, std::string(40, 'n')));
  const std::string doc = ppt_rec(0x000F, 0x03E8, ppt_rec(0x0001, 0x03E9, std::string(40, '\0'))) + master1 + master2 +
                          ppt_rec(0, 0x0FF5, std::string(28, '\0'));
  Ole2Builder b(3);
  b.add("PowerPoint Document", doc).add("Current User", std::string(40, 'u'));
  Report r = Scanner{Config{}}.scan_file(b.build(), "deck.ppt");
  EXPECT_FALSE(has_finding(r, FindingType::malformed)) << to_json(r);
  EXPECT_EQ(r.verdict, Verdict::clean) << to_json(r);
  ASSERT_NE(object(r, "deck.ppt/PowerPoint Document/package1.zip"), nullptr) << to_json(r);
  ASSERT_NE(object(r, "deck.ppt/PowerPoint Document/package2.zip"), nullptr) << to_json(r);
  EXPECT_EQ(object(r, "deck.ppt/PowerPoint Document/package1.zip")->size, z2.size());  // found from the end
  EXPECT_EQ(object(r, "deck.ppt/PowerPoint Document/package2.zip")->size, z1.size());
}

// The embedded package is scanned, not waved through: what it carries is
// judged like any other file.
TEST(Ole2Theme, WhatAnEmbeddedPackageCarriesIsStillFound) {
  const std::string zip = theme_package(100, "theme/theme/run.js", "WScript.Shell.Run('cmd')");
  Ole2Builder b(3);
  b.add("Workbook", biff8_with_theme(zip));
  Report r = Scanner{Config{}}.scan_file(b.build(), "book.xls");
  EXPECT_FALSE(has_finding(r, FindingType::malformed)) << to_json(r);
  const Finding* f = find_finding(r, FindingType::dangerous_type);
  ASSERT_NE(f, nullptr) << to_json(r);
  EXPECT_EQ(f->path, "book.xls/Workbook/theme.zip/theme/theme/run.js");
}

// A stream that is a ZIP from its first byte is typed as one (an embedded
// .xlsx in a Package stream), with the usual structure checks.
TEST(Ole2Theme, StreamThatIsAZipIsStillAnArchive) {
  const std::string zip = theme_package(100);
  Ole2Builder b(3);
  b.add("Package", zip + "trailing junk");
  Report r = Scanner{Config{}}.scan_file(b.build(), "oleObject1.bin");
  const ObjectSummary* p = object(r, "oleObject1.bin/Package");
  ASSERT_NE(p, nullptr);
  EXPECT_NE(p->type, "binary");
  const Finding* f = find_finding(r, FindingType::malformed);
  ASSERT_NE(f, nullptr) << to_json(r);
  EXPECT_NE(f->detail.find("bytes after the end record"), std::string::npos) << f->detail;
}
