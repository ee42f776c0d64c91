// Archive entries the libarchive walker must never lose: content behind a
// 512-byte zero block in every single-stream compressor, entries that are
// not regular files, links, names in Unicode fields and in CP932, and RAR 5
// encryption that libarchive reports as a format error. Fixtures are written
// with libarchive, with Debian's 7z and gcab (skipped when absent), or byte
// by byte (tests/unit/archive_builders.h).
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <locale.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "emogate/scanner.h"
#include "unit/archive_builders.h"
#include "unit/fixtures.h"
#include "unit/test_files.h"

using namespace emogate;
using namespace emogate::test;

namespace {

std::string exe() { return std::string("MZ\x90\x00", 4) + std::string(300, 'E'); }
std::string script() { return "WScript.Echo(\"x\");\r\n"; }

struct Entry {
  std::string name, data;
  unsigned type = AE_IFREG;
  std::string link = {};  // symlink target or hard link name
};

// Writes with libarchive under a UTF-8 LC_CTYPE (the 7z writer stores UTF-16).
std::string write_with(const std::function<void(archive*)>& setup, const std::vector<Entry>& entries) {
  locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  locale_t old = utf8 ? uselocale(utf8) : nullptr;
  archive* a = archive_write_new();
  setup(a);
  std::string buf(8u << 20, '\0');
  size_t used = 0;
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& f : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, f.name.c_str());
    archive_entry_set_filetype(e, f.type);
    archive_entry_set_perm(e, 0644);
    if (f.type == AE_IFLNK) archive_entry_set_symlink(e, f.link.c_str());
    else if (!f.link.empty()) archive_entry_set_hardlink(e, f.link.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(f.data.size()));
    archive_write_header(a, e);
    if (!f.data.empty()) archive_write_data(a, f.data.data(), f.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  if (old) uselocale(old);
  if (utf8) freelocale(utf8);
  buf.resize(used);
  return buf;
}

// Runs a shell command in a fresh directory; returns false when the tool is missing.
bool tool(const std::string& name) { return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0; }

std::filesystem::path scratch_dir(const std::string& tag) {
  auto d = std::filesystem::temp_directory_path() / ("emogate-test-" + tag + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace

// ---- single-stream compressors ----------------------------------------------

struct StreamCase {
  const char* label;
  const char* type;
  int (*filter)(archive*);
};

class ZeroBlockAhead : public ::testing::TestWithParam<StreamCase> {};

// 512 zero bytes are what tar calls an end-of-archive block: letting
// libarchive guess the content's format made the content vanish.
TEST_P(ZeroBlockAhead, ContentBehindZerosIsAChild) {
  const StreamCase& c = GetParam();
  for (std::size_t zeros : {511u, 512u, 4096u}) {
    std::string packed = write_with([&](archive* a) { archive_write_set_format_raw(a); c.filter(a); },
                                    {{"x", std::string(zeros, '\0') + exe()}});
    std::string name = std::string("invoice.exe.") + c.label;
    Report r = Scanner(Config{}).scan_file(packed, name);
    ASSERT_FALSE(r.objects.empty());
    EXPECT_EQ(r.objects[0].type, c.type) << dump(r);
    const ObjectSummary* child = find_object(r, name + "/invoice.exe");
    ASSERT_TRUE(child) << zeros << " zeros: " << dump(r);
    EXPECT_EQ(child->size, zeros + exe().size());
    EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = name + "/invoice.exe"})) << dump(r);
    EXPECT_NE(r.verdict, Verdict::clean);
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, ZeroBlockAhead,
    ::testing::Values(StreamCase{"gz", "gzip", archive_write_add_filter_gzip},
                      StreamCase{"bz2", "bzip2", archive_write_add_filter_bzip2},
                      StreamCase{"xz", "xz", archive_write_add_filter_xz},
                      StreamCase{"zst", "zstd", archive_write_add_filter_zstd},
                      StreamCase{"lz4", "lz4", archive_write_add_filter_lz4},
                      StreamCase{"lz", "lzip", archive_write_add_filter_lzip},
                      StreamCase{"Z", "compress", archive_write_add_filter_compress}),
    [](const auto& info) { return std::string(info.param.type); });

// A fixed VHD: a zero first sector, its only footer in the last 512 bytes.
TEST(StreamContent, FixedVhdInGzipIsADiskImage) {
  std::string footer = "conectix";
  footer.resize(512, '\0');
  std::string vhd = std::string(64 * 1024, '\0') + std::string(4096, 'D') + footer;
  std::string gz = write_with([](archive* a) { archive_write_set_format_raw(a); archive_write_add_filter_gzip(a); },
                              {{"x", vhd}});
  Report r = Scanner(Config{}).scan_file(gz, "invoice.vhd.gz");
  const ObjectSummary* child = find_object(r, "invoice.vhd.gz/invoice.vhd");
  ASSERT_TRUE(child) << dump(r);
  EXPECT_EQ(child->type, "vhd");
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = "invoice.vhd.gz/invoice.vhd", .detail = "by content"})) << dump(r);
  // The same bytes without the footer are no disk image.
  std::string plain = write_with([](archive* a) { archive_write_set_format_raw(a); archive_write_add_filter_gzip(a); },
                                 {{"x", std::string(64 * 1024, '\0') + std::string(4096, 'D')}});
  Report p = Scanner(Config{}).scan_file(plain, "data.bin.gz");
  ASSERT_TRUE(find_object(p, "data.bin.gz/data.bin")) << dump(p);
  EXPECT_EQ(p.verdict, Verdict::clean) << dump(p);
}

TEST(StreamContent, AllZeroGzipShowsItsLimit) {
  std::string gz = write_with([](archive* a) { archive_write_set_format_raw(a); archive_write_add_filter_gzip(a); },
                              {{"x", std::string(64u << 20, '\0')}});
  Report r = Scanner(Config{}).scan_file(gz, "zeros.gz");
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.path = "zeros.gz", .limit = "max_compression_ratio"})) << dump(r);
  EXPECT_NE(r.verdict, Verdict::clean);
}

TEST(StreamContent, TarInsideGzipIsStillWalked) {
  std::string tgz = write_with([](archive* a) { archive_write_set_format_ustar(a); archive_write_add_filter_gzip(a); },
                               {{"a/invoice.js", script()}, {"b.txt", "hello"}});
  Report r = Scanner(Config{}).scan_file(tgz, "bundle.tgz");
  EXPECT_TRUE(find_object(r, "bundle.tgz/bundle.tar/a/invoice.js")) << dump(r);
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = "bundle.tgz/bundle.tar/a/invoice.js"})) << dump(r);
}

// ---- entries that are not regular files --------------------------------------

// 7-Zip's -si stores the data it reads with the mode of standard input, a
// FIFO when that is a pipe (Debian's p7zip 16.02 does not; 7-Zip 22+ does).
// Built here from a p7zip archive with an uncompressed header whose Unix
// mode is changed from a regular file to a FIFO, CRCs fixed.
TEST(ArchiveEntries, SevenZipFifoEntryIsScanned) {
  if (!tool("7z")) GTEST_SKIP() << "7z (p7zip-full) not installed";
  auto dir = scratch_dir("fifo");
  std::ofstream(dir / "payload.exe") << exe();
  std::filesystem::permissions(dir / "payload.exe", std::filesystem::perms(0644));
  ASSERT_EQ(std::system(("cd '" + dir.string() + "' && 7z a -bd -mhc=off r.7z payload.exe >/dev/null").c_str()), 0);
  std::string z = slurp(dir / "r.7z");
  std::filesystem::remove_all(dir);
  const std::string regular("\x20\x80\xA4\x81", 4);  // FILE_ATTRIBUTE_ARCHIVE | unix ext | 0100644 << 16
  std::size_t at = z.rfind(regular);
  ASSERT_NE(at, std::string::npos);
  z[at + 3] = '\x11';  // 0010644: FIFO
  auto le = [&](std::size_t off, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(z[off + i]);
    return v;
  };
  auto store32 = [&](std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) z[off + i] = static_cast<char>(v >> (8 * i));
  };
  std::size_t next = 32 + static_cast<std::size_t>(le(12, 8));
  store32(28, crc32_of(z.substr(next, static_cast<std::size_t>(le(20, 8)))));
  store32(8, crc32_of(z.substr(12, 20)));
  Report r = Scanner(Config{}).scan_file(z, "fifo.7z");
  const ObjectSummary* child = find_object(r, "fifo.7z/payload.exe");
  ASSERT_TRUE(child) << dump(r);
  EXPECT_EQ(child->type, "pe");
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "fifo.7z", .detail = "FIFO"})) << dump(r);
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = "fifo.7z/payload.exe"})) << dump(r);
}

TEST(ArchiveEntries, DevicesAndSocketsInTarAreReported) {
  std::string tar = write_with([](archive* a) { archive_write_set_format_pax_restricted(a); },
                               {{"dev/chr", "", AE_IFCHR}, {"dev/blk", "", AE_IFBLK}, {"run/pipe", "", AE_IFIFO}});
  Report r = Scanner(Config{}).scan_file(tar, "odd.tar");
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "odd.tar", .detail = "character device"})) << dump(r);
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "odd.tar", .detail = "block device"})) << dump(r);
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "odd.tar", .detail = "a FIFO"})) << dump(r);
}

TEST(ArchiveEntries, RegularSevenZipEntryIsNotMalformed) {
  std::string z = write_with([](archive* a) { archive_write_set_format_7zip(a); }, {{"report.txt", "hello"}});
  Report r = Scanner(Config{}).scan_file(z, "ok.7z");
  EXPECT_TRUE(find_object(r, "ok.7z/report.txt")) << dump(r);
  EXPECT_EQ(r.verdict, Verdict::clean) << dump(r);
}

// A RAR whose Unix attributes carry no file type: libarchive cannot type the
// entry, which used to be skipped (the archive was clean with no objects).
TEST(ArchiveEntries, UntypedRarEntryIsScannedAndReported) {
  std::string rar = rar4({{"invoice.exe", {}, exe(), 3, 0644}});
  Report r = Scanner(Config{}).scan_file(rar, "damaged.rar");
  const ObjectSummary* child = find_object(r, "damaged.rar/invoice.exe");
  ASSERT_TRUE(child) << dump(r);
  EXPECT_EQ(child->type, "pe");
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "damaged.rar", .detail = "unknown type"})) << dump(r);
  // A regular Unix entry is fine.
  Report ok = Scanner(Config{}).scan_file(rar4({{"notes.txt", {}, "hello", 3, 0100644}}), "ok.rar");
  EXPECT_TRUE(find_object(ok, "ok.rar/notes.txt")) << dump(ok);
  EXPECT_EQ(ok.verdict, Verdict::clean) << dump(ok);
}

TEST(ArchiveEntries, LinksAreReportedNotFollowed) {
  std::string tar = write_with([](archive* a) { archive_write_set_format_pax_restricted(a); },
                               {{"docs/readme.txt", "hello"},
                                {"docs/latest", "", AE_IFLNK, "readme.txt"},
                                {"docs/copy.txt", "", AE_IFREG, "docs/readme.txt"},
                                {"docs/passwd", "", AE_IFLNK, "../../etc/passwd"}});
  Report r = Scanner(Config{}).scan_file(tar, "docs.tar");
  EXPECT_TRUE(find_object(r, "docs.tar/docs/readme.txt")) << dump(r);
  EXPECT_FALSE(find_object(r, "docs.tar/docs/latest")) << dump(r);
  const Finding* inside = nullptr;
  const Finding* outside = nullptr;
  for (const auto& f : r.findings) {
    if (f.detail.find("\"docs/latest\" is a symbolic link to \"readme.txt\"") != std::string::npos) inside = &f;
    if (f.detail.find("\"docs/passwd\" is a symbolic link to \"../../etc/passwd\" outside") != std::string::npos) outside = &f;
  }
  ASSERT_TRUE(inside) << dump(r);
  EXPECT_EQ(inside->verdict, Verdict::clean);
  ASSERT_TRUE(outside) << dump(r);
  EXPECT_NE(outside->verdict, Verdict::clean);
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "docs.tar", .detail = "\"docs/copy.txt\" is a hard link to \"docs/readme.txt\""}))
      << dump(r);
}

// ---- names ---------------------------------------------------------------------

const std::string kSeikyu = "請求書";                                   // UTF-8
const std::string kSeikyuCp932 = "\x90\xBF\x8B\x81\x8F\x91";            // 請求書 in CP932
const std::u16string kSeikyu16 = u"請求書.js";

void expect_named_script(const Report& r, const std::string& path) {
  EXPECT_TRUE(find_object(r, path)) << dump(r);
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = path, .detail = "JScript"})) << dump(r);
  EXPECT_FALSE(has_finding(r, FindingType::malformed, {.detail = "name"})) << dump(r);
}

TEST(ArchiveNames, SevenZipUnicodeName) {
  std::string z = write_with([](archive* a) { archive_write_set_format_7zip(a); }, {{kSeikyu + ".js", script()}});
  expect_named_script(Scanner(Config{}).scan_file(z, "a.7z"), "a.7z/" + kSeikyu + ".js");
}

TEST(ArchiveNames, Rar4UnicodeAndCp932Names) {
  expect_named_script(Scanner(Config{}).scan_file(rar4({{"????.js", kSeikyu16, script()}}), "u.rar"),
                      "u.rar/" + kSeikyu + ".js");
  expect_named_script(Scanner(Config{}).scan_file(rar4({{kSeikyuCp932 + ".js", {}, script()}}), "s.rar"),
                      "s.rar/" + kSeikyu + ".js");
}

TEST(ArchiveNames, Rar5Utf8Name) {
  expect_named_script(Scanner(Config{}).scan_file(rar5({{kSeikyu + ".js", script()}}), "u5.rar"),
                      "u5.rar/" + kSeikyu + ".js");
}

TEST(ArchiveNames, LzhCp932AndUtf16Names) {
  expect_named_script(Scanner(Config{}).scan_file(lzh_level0(kSeikyuCp932 + ".js", script()), "s.lzh"),
                      "s.lzh/" + kSeikyu + ".js");
  expect_named_script(Scanner(Config{}).scan_file(lzh_level2_utf16(kSeikyu16, script()), "u.lzh"),
                      "u.lzh/" + kSeikyu + ".js");
}

TEST(ArchiveNames, TarCp932Name) {
  std::string tar = write_with([](archive* a) { archive_write_set_format_ustar(a); },
                               {{kSeikyuCp932 + ".js", script()}});
  expect_named_script(Scanner(Config{}).scan_file(tar, "s.tar"), "s.tar/" + kSeikyu + ".js");
}

// CP932 "表" is 0x95 0x5C: its trail byte is a backslash, which must not
// split the name into a folder.
TEST(ArchiveNames, CabCp932NameWithBackslashTrailByte) {
  if (!tool("gcab")) GTEST_SKIP() << "gcab not installed";
  auto dir = scratch_dir("cab");
  std::string raw = "\x95\x5C.js";
  std::ofstream(dir / raw) << script();
  ASSERT_EQ(std::system(("cd '" + dir.string() + "' && gcab -c t.cab \"$(printf '\\225\\134.js')\"").c_str()), 0);
  std::string cab = slurp(dir / "t.cab");
  std::filesystem::remove_all(dir);
  // gcab marks non-ASCII names as UTF-8; Windows makecab stores CP932 bytes
  // without that flag, which is what this clears.
  std::uint32_t files = static_cast<unsigned char>(cab[16]) | static_cast<unsigned char>(cab[17]) << 8;
  ASSERT_LT(files + 16, cab.size());
  cab[files + 14] = static_cast<char>(cab[files + 14] & 0x7F);
  expect_named_script(Scanner(Config{}).scan_file(cab, "t.cab"), "t.cab/表.js");
}

TEST(ArchiveNames, UndecodableNameKeepsItsExtension) {
  Report r = Scanner(Config{}).scan_file(rar4({{"\xFF\xFE\xFD.js", {}, script()}}), "x.rar");
  EXPECT_TRUE(find_object(r, "x.rar/%FF%FE%FD.js")) << dump(r);
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = "x.rar/%FF%FE%FD.js", .detail = "JScript"})) << dump(r);
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "x.rar", .detail = "neither UTF-8 nor CP932"})) << dump(r);
  // libarchive's LHa reader refuses a name it cannot convert: the entry is
  // lost, and the archive is reported, never clean.
  Report l = Scanner(Config{}).scan_file(lzh_level0("\xFF\xFE\xFD.js", script()), "x.lzh");
  EXPECT_TRUE(has_finding(l, FindingType::malformed, {.path = "x.lzh", .detail = "cannot be converted"})) << dump(l);
}

// ---- RAR 5 encryption ------------------------------------------------------------

TEST(Rar5Encryption, EncryptedMemberIsEncryptedArchive) {
  std::string rar = rar5({{"notes.txt", "hello"}, {kSeikyu + ".exe", exe(), true}});
  Report r = Scanner(Config{}).scan_file(rar, "locked.rar");
  EXPECT_TRUE(has_finding(r, FindingType::encrypted_archive, {.path = "locked.rar", .detail = kSeikyu + ".exe"})) << dump(r);
  EXPECT_TRUE(find_object(r, "locked.rar/notes.txt")) << dump(r);
  // Without the encryption record: no encrypted_archive.
  Report plain = Scanner(Config{}).scan_file(rar5({{"notes.txt", "hello"}}), "plain.rar");
  EXPECT_FALSE(has_finding(plain, FindingType::encrypted_archive)) << dump(plain);
  EXPECT_EQ(plain.verdict, Verdict::clean) << dump(plain);
}

TEST(Rar5Encryption, EncryptedHeadersAreEncryptedArchive) {
  Report r = Scanner(Config{}).scan_file(rar5({}, true), "hidden.rar");
  EXPECT_TRUE(has_finding(r, FindingType::encrypted_archive, {.path = "hidden.rar", .detail = "names hidden"})) << dump(r);
}

// ISO 9660 gives directories a size (their extent) but no data: no finding.
TEST(ArchiveEntries, IsoDirectoriesAreNotMalformed) {
  std::string iso = write_with([](archive* a) { archive_write_set_format_iso9660(a); },
                               {{"sub", "", AE_IFDIR}, {"sub/a.txt", "hello"}});
  Report r = Scanner(Config{}).scan_file(iso, "t.iso");
  EXPECT_TRUE(find_object(r, "t.iso/sub/a.txt")) << dump(r);
  EXPECT_FALSE(has_finding(r, FindingType::malformed)) << dump(r);
}

// A CAB whose data block is damaged: libarchive's reader crashed when asked
// to skip to the next entry after the read error (found by fuzz_libarchive).
TEST(ArchiveEntries, DamagedCabDataStopsTheWalk) {
  const std::string cab(
      "\x4d\x53\x43\x46\x00\x00\x00\x00\x59\x00\x00\x00\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x00\x00\x00"
      "\x03\x01\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x42\x00\x00\x00\x01\x00\x00\x00\x0f\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x83\xb2\x5d\x20\x79\x00\x5c\x2e\x6a\x73\x00\x5d\x71\x58\x3f\x33\x0f\x00"
      "\x0f\x53\x57\x00\x63\x72\x69\x70\x74\x2e\x45\x63\x68\x6f\x28\x31\x29",
      89);
  Report r = Scanner(Config{}).scan_file(cab, "broken.cab");
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "broken.cab", .detail = "not read"})) << dump(r);
  EXPECT_NE(r.verdict, Verdict::clean);
}
