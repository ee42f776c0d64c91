// OLE2 extractor through the engine: streams as children, malformed for
// damaged files, packaged files unwrapped, PowerPoint storages inflated.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>

#include "emogate/scanner.h"
#include "unit/ovba_builder.h"

using namespace emogate;
using emogate::test::Ole2Builder;

namespace {

const Finding* find(const Report& r, FindingType t) {
  for (const auto& f : r.findings)
    if (f.type == t) return &f;
  return nullptr;
}
bool has_object(const Report& r, const std::string& path) {
  return std::any_of(r.objects.begin(), r.objects.end(), [&](const ObjectSummary& o) { return o.path == path; });
}

}  // namespace

TEST(Ole2Extractor, StreamsBecomeChildren) {
  Ole2Builder b(4);
  b.add("Workbook", std::string(7000, 'w')).add("\x05SummaryInformation", "abc").add("ObjectPool/_1/Contents", "xyz");
  Scanner s{Config{}};
  Report r = s.scan_file(b.build(), "book.xls");
  EXPECT_TRUE(has_object(r, "book.xls/Workbook"));
  EXPECT_TRUE(has_object(r, "book.xls/SummaryInformation"));  // control characters dropped from names
  EXPECT_TRUE(has_object(r, "book.xls/ObjectPool/_1/Contents"));
  EXPECT_EQ(find(r, FindingType::malformed), nullptr);
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(Ole2Extractor, TruncatedFileIsMalformedButRead) {
  Ole2Builder b(3);
  b.add("Small", "tiny stream").add("Big", std::string(20000, 'B'));
  std::string file = b.build();
  file.resize(b.sector_offset(b.start["Big"]) + 2048);
  Scanner s{Config{}};
  Report r = s.scan_file(file, "cut.doc");
  const Finding* f = find(r, FindingType::malformed);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("Big: truncated"), std::string::npos) << f->detail;
  EXPECT_TRUE(has_object(r, "cut.doc/Small"));
  for (const auto& o : r.objects)
    if (o.path == "cut.doc/Big") EXPECT_EQ(o.size, 2048u);
}

TEST(Ole2Extractor, PackagedFileIsUnwrapped) {
  std::string payload = "MZ\x90" + std::string(300, 'P');
  std::string native;
  Ole2Builder::put32(native, 0);  // total size (not trusted)
  native += std::string("\x02\x00", 2) + "evil.exe" + '\0' + "C:\\Users\\x\\evil.exe" + '\0';
  native += std::string("\x00\x00\x03\x00", 4);
  std::string temp = "C:\\Temp\\evil.exe";
  Ole2Builder::put32(native, static_cast<std::uint32_t>(temp.size() + 1));
  native += temp + '\0';
  Ole2Builder::put32(native, static_cast<std::uint32_t>(payload.size()));
  native += payload;
  Ole2Builder b(3);
  b.add("\x01Ole10Native", native);
  Scanner s{Config{}};
  Report r = s.scan_file(b.build(), "oleObject1.bin");
  const Finding* f = find(r, FindingType::embedded_file);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("'evil.exe'"), std::string::npos) << f->detail;
  EXPECT_TRUE(has_object(r, "oleObject1.bin/evil.exe"));
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
  const Finding* f = find(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "deck.ppt/PowerPoint Document/ExOleObjStg1");
  EXPECT_EQ(f->verdict, Verdict::malicious);
}
