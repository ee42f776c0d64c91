// Hostile archives through the whole engine: bombs, padding, absurd names,
// broken directories. Each must end in limit_exceeded or malformed, having
// read no more than the limit that stopped it.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "emogate/scanner.h"
#include "unit/findings.h"
#include "unit/sanitized.h"
#include "unit/zip_fixtures.h"

using namespace emogate;
using namespace emogate::test;

namespace {

constexpr std::uint64_t kMiB = 1u << 20;
// Sanitizer builds run several times slower: a smaller bomb keeps them short.
constexpr std::uint64_t kBigZeros = kSanitized ? 256 * kMiB : 2048 * kMiB;

// The padding tests are about how much is read, not how fast: no deadline
// may stop them first on a loaded machine.
Config no_deadline() {
  Config c;
  c.limits.scan_timeout_ms = 3600 * 1000;
  return c;
}

// How many MiB of zero padding the extractor read and dropped before a
// limit stopped it, from the limit finding's "the last N.M MiB read were
// zero padding"; -1 when the finding does not say.
double padding_read_mib(const Report& r) {
  static const std::string kLast = "the last ";
  for (const Finding& f : r.findings) {
    auto at = f.detail.find(kLast);
    if (f.type != FindingType::limit_exceeded || at == std::string::npos ||
        f.detail.find("MiB read were zero padding", at) == std::string::npos)
      continue;
    return std::stod(f.detail.substr(at + kLast.size()));
  }
  return -1;
}

// Where the first limit stops reading a member of `compressed` bytes: its
// object size or its compression ratio, whichever comes first (plus the
// chunk in flight).
double read_bound_mib(const Limits& l, std::uint64_t compressed) {
  const double ratio_cap = static_cast<double>(compressed) * l.max_compression_ratio;
  return std::min(static_cast<double>(l.max_object_size), ratio_cap) / kMiB + 1;
}

std::string ole_doc() {
  std::string d("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
  for (int i = 0; i < 3000; ++i) d += "WordDocument body text " + std::to_string(i);
  return d;
}

const ObjectSummary* object_named(const Report& r, const std::string& name) {
  auto it = std::find_if(r.objects.begin(), r.objects.end(), [&](const ObjectSummary& o) { return o.name == name; });
  return it == r.objects.end() ? nullptr : &*it;
}

}  // namespace

// An all-zero member stops at the first limit after reading no more than
// that limit's worth of zeros: the bytes read are bounded, not the whole
// member inflated.
TEST(HostileArchives, TwoGiBOfZerosStopsFast) {
  std::string z = zero_padded_zip("zeros.bin", "", kBigZeros);
  const Config cfg = no_deadline();
  Report r = Scanner(cfg).scan_file(z, "zeros.zip");
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.detail = "zero padding and not kept"})) << to_json(r);
  const double read = padding_read_mib(r);
  EXPECT_GT(read, 0) << to_json(r);
  EXPECT_LE(read, read_bound_mib(cfg.limits, z.size())) << to_json(r);
  EXPECT_LT(read, static_cast<double>(kBigZeros / kMiB) / 2) << to_json(r);
  const ObjectSummary* o = object_named(r, "zeros.bin");
  ASSERT_TRUE(o);
  EXPECT_LE(o->size, kMiB);
  EXPECT_TRUE(o->truncated);
}

TEST(HostileArchives, ZeroPaddedDocumentKeepsItsPrefix) {
  std::string doc = ole_doc();
  std::string z = zero_padded_zip("invoice.doc", doc, 600 * kMiB);
  const Config cfg = no_deadline();
  Report r = Scanner(cfg).scan_file(z, "invoice.zip");
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "max_compression_ratio", .detail = "member \"invoice.doc\""})) << to_json(r);
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.detail = "zero padding and not kept"})) << to_json(r);
  const double read = padding_read_mib(r);
  EXPECT_GT(read, 0) << to_json(r);
  EXPECT_LE(read, read_bound_mib(cfg.limits, z.size())) << to_json(r);
  const ObjectSummary* o = object_named(r, "invoice.doc");
  ASSERT_TRUE(o) << to_json(r);
  EXPECT_EQ(o->type, "ole2");
  EXPECT_GE(o->size, doc.size());
  EXPECT_LE(o->size, doc.size() + kMiB);
}

TEST(HostileArchives, ZeroRunInsideAFileIsKept) {
  // Zeros followed by data are content, not padding: written out in full.
  // (Stored, because deflated 3 MiB of zeros would exceed the ratio limit.)
  std::string body = "head" + std::string(3u << 20, '\0') + "tail";
  std::string z = make_zip({{"disk.img", body, ZIP_EM_NONE, "", true}});
  Report r = Scanner(Config{}).scan_file(z, "x.zip");
  const ObjectSummary* o = object_named(r, "disk.img");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->size, body.size());
  EXPECT_FALSE(has_finding(r, FindingType::limit_exceeded));
  // Trailing zeros that reach no limit are content too.
  std::string tail = "head" + std::string(3u << 20, '\0');
  Report r2 = Scanner(Config{}).scan_file(make_zip({{"tail.img", tail, ZIP_EM_NONE, "", true}}), "y.zip");
  const ObjectSummary* o2 = object_named(r2, "tail.img");
  ASSERT_TRUE(o2);
  EXPECT_EQ(o2->size, tail.size());
  EXPECT_FALSE(o2->truncated);
}

TEST(HostileArchives, OverlappingEntriesBomb) {
  std::vector<RawEntry> e = {{"kernel", std::string(5000, 'K')}};
  for (int i = 0; i < 200; ++i) e.push_back({"copy" + std::to_string(i), "", 0});
  Report r = Scanner(Config{}).scan_file(raw_zip(e), "bomb.zip");
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "overlapping_entries", .detail = "200 entries"})) << to_json(r);
  EXPECT_FALSE(object_named(r, "copy5"));
  EXPECT_TRUE(object_named(r, "kernel"));
}

TEST(HostileArchives, SixtyFiveThousandTinyEntries) {
  std::vector<RawEntry> e;
  for (int i = 0; i < 65535; ++i) e.push_back({"f" + std::to_string(i), "x"});
  Config cfg = no_deadline();
  cfg.limits.max_objects = 500;
  Report r = Scanner(cfg).scan_file(raw_zip(e), "many.zip");
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "max_objects"})) << r.findings.size();
  EXPECT_LE(r.objects.size(), 501u);
}

TEST(HostileArchives, AbsurdNamesAreSanitisedAndReported) {
  std::string nul("a\0b.txt", 7);
  Report r = Scanner(Config{}).scan_file(
      raw_zip({{"../../etc/passwd", "1"}, {"/abs/path.txt", "2"}, {nul, "3"}, {std::string(4096, 'N'), "4"},
               {"C:\\Windows\\evil.exe", "5"}}),
      "names.zip");
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.detail = "\"..\" traversal"})) << to_json(r);
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.detail = "absolute path"}));
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.detail = "control bytes"}));
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.detail = "name of 4096 bytes"}));
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.detail = "drive letter"}));
  for (const auto& o : r.objects) {
    EXPECT_EQ(o.path.find(".."), std::string::npos) << o.path;
    EXPECT_LT(o.path.size(), 600u);
  }
  EXPECT_TRUE(object_named(r, "etc/passwd"));
  EXPECT_TRUE(object_named(r, "Windows/evil.exe"));
}

TEST(HostileArchives, TruncatedDirectoryAndTrailingData) {
  std::vector<RawEntry> e;
  for (int i = 0; i < 20; ++i) e.push_back({"f" + std::to_string(i) + ".txt", "data " + std::to_string(i)});
  std::string z = raw_zip(e);
  Scanner s(Config{});
  Report trailing = s.scan_file(z + "GARBAGE-AFTER-END", "t.zip");
  EXPECT_TRUE(has_finding(trailing, FindingType::malformed, {.detail = "17 bytes after the end record"})) << to_json(trailing);

  std::size_t end = z.size() - 22;
  std::string cut = z.substr(0, end - 200) + z.substr(end);  // directory loses its tail
  Report broken = s.scan_file(cut, "cut.zip");
  EXPECT_TRUE(has_finding(broken, FindingType::malformed)) << to_json(broken);

  Report headless = s.scan_file(z.substr(0, z.size() - 10), "headless.zip");
  EXPECT_TRUE(has_finding(headless, FindingType::malformed)) << to_json(headless);
}

// Bytes in front of a ZIP (a script stub, junk) do not hide its members:
// the structure is reported and every member is still analysed, including
// an encrypted one opened with the static list.
TEST(HostileArchives, StubInFrontStillOpens) {
  std::string z = make_zip({{"readme.txt", "see attached", ZIP_EM_NONE, ""},
                            {"setup.exe", std::string("MZ\x90\x00", 4) + std::string(300, 'A'), ZIP_EM_NONE, ""},
                            {"locked.txt", "quarterly", ZIP_EM_AES_256, "infected"}});
  Scanner s(Config{});
  Report r = s.scan_file("#!/bin/sh\nexit 0\n# junk junk junk\n" + z, "bundle.bin");
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.detail = "bytes before the archive"})) << to_json(r);
  const Finding* exe = nullptr;
  for (const auto& f : r.findings)
    if (f.type == FindingType::dangerous_type) exe = &f;
  ASSERT_NE(exe, nullptr) << to_json(r);
  EXPECT_EQ(exe->path, "bundle.bin/setup.exe");
  EXPECT_TRUE(has_finding(r, FindingType::archive_decrypted, {.detail = "locked.txt"})) << to_json(r);
  EXPECT_NE(object_named(r, "readme.txt"), nullptr);
}

TEST(HostileArchives, NestingStopsAtDepthLimit) {
  std::string z = make_zip({{"core.txt", "x", ZIP_EM_NONE, ""}});
  for (int i = 0; i < 20; ++i) z = make_zip({{"level" + std::to_string(i) + ".zip", z, ZIP_EM_NONE, ""}});
  Report r = Scanner(Config{}).scan_file(z, "nest.zip");
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "max_depth"})) << to_json(r);
}

TEST(HostileArchives, LargeMemberSpillsAndIsStillAnalysed) {
  std::string exe = std::string("MZ\x90\x00", 4) + std::string(3u << 20, 'P');
  Config cfg;
  cfg.limits.max_object_memory = 1u << 20;  // the member goes to a temp file
  Report r = Scanner(cfg).scan_file(make_zip({{"big.exe", exe, ZIP_EM_NONE, "", true}}), "big.zip");
  const ObjectSummary* o = object_named(r, "big.exe");
  ASSERT_TRUE(o) << to_json(r);
  EXPECT_EQ(o->size, exe.size());
  EXPECT_EQ(o->type, "pe");
  EXPECT_FALSE(o->truncated);
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type)) << to_json(r);
}

namespace {
// Patches the first member's CRC or uncompressed size in both its local
// header and its central directory entry.
std::string patch_first_member(std::string z, std::size_t local_field, std::size_t central_field, std::uint32_t v) {
  auto put = [&](std::size_t at) {
    for (int i = 0; i < 4; ++i) z[at + i] = static_cast<char>(v >> (8 * i));
  };
  put(z.find("PK\x03\x04") + local_field);
  put(z.find("PK\x01\x02") + central_field);
  return z;
}
}  // namespace

// Plain members are inflated whole (libdeflate) when their declaration is
// sane; a wrong CRC is still analysed and reported, a size that lies goes
// back to libzip's streaming path, and either way the content is seen.
TEST(HostileArchives, PlainMembersAndTheirDeclarations) {
  const std::string exe = std::string("MZ\x90\x00", 4) + std::string(5000, 'A');
  Scanner s(Config{});
  for (bool store : {true, false}) {
    std::string z = make_zip({{"setup.exe", exe, ZIP_EM_NONE, "", store}});
    SCOPED_TRACE(store ? "stored" : "deflated");
    Report good = s.scan_file(z, "a.zip");
    EXPECT_FALSE(has_finding(good, FindingType::malformed)) << to_json(good);
    const ObjectSummary* m = object_named(good, "setup.exe");
    ASSERT_NE(m, nullptr) << to_json(good);
    EXPECT_EQ(m->size, exe.size());
    EXPECT_TRUE(has_finding(good, FindingType::dangerous_type));

    Report bad_crc = s.scan_file(patch_first_member(z, 14, 16, 0x12345678), "a.zip");
    EXPECT_TRUE(has_finding(bad_crc, FindingType::malformed, {.detail = "CRC error"})) << to_json(bad_crc);
    EXPECT_TRUE(has_finding(bad_crc, FindingType::dangerous_type)) << to_json(bad_crc);

    // Declared 100 bytes: the whole member is still read and analysed.
    Report short_size = s.scan_file(patch_first_member(z, 22, 24, 100), "a.zip");
    EXPECT_TRUE(has_finding(short_size, FindingType::dangerous_type)) << to_json(short_size);
    const ObjectSummary* all = object_named(short_size, "setup.exe");
    if (!store) {
      ASSERT_NE(all, nullptr) << to_json(short_size);
      EXPECT_EQ(all->size, exe.size());
    }
  }
}
