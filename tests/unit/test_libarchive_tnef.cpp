// Containers through libarchive (archives written with libarchive in the
// test) and TNEF winmail.dat (built by hand from MS-OXTNEF), whole engine.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "emogate/scanner.h"
#include "unit/findings.h"
#include "unit/tnef_fixtures.h"
#include "unit/zip_fixtures.h"

using namespace emogate;
using test::msg_props_binary;
using test::tnef_attr;
using test::tnef_with;

namespace {

struct File {
  std::string name, data;
};

// format/filter setters, e.g. archive_write_set_format_7zip.
std::string write_archive(const std::function<void(archive*)>& setup, const std::vector<File>& files) {
  archive* a = archive_write_new();
  setup(a);
  std::string buf(4u << 20, '\0');
  size_t used = 0;
  if (archive_write_open_memory(a, buf.data(), buf.size(), &used) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a));
  for (const auto& f : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, f.name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(f.data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, f.data.data(), f.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  buf.resize(used);
  return buf;
}

std::string exe() { return std::string("MZ\x90\x00", 4) + std::string(300, 'E'); }

const ObjectSummary* object_path(const Report& r, const std::string& suffix) {
  auto it = std::find_if(r.objects.begin(), r.objects.end(), [&](const ObjectSummary& o) {
    return o.path.size() >= suffix.size() && o.path.compare(o.path.size() - suffix.size(), suffix.size(), suffix) == 0;
  });
  return it == r.objects.end() ? nullptr : &*it;
}

// The object whose path ends in `suffix` has a dangerous_type finding.
bool flagged_exe(const Report& r, const std::string& suffix) {
  const ObjectSummary* o = object_path(r, suffix);
  return o && test::has_finding(r, FindingType::dangerous_type, {.path = o->path});
}

}  // namespace

struct FormatCase {
  const char* label;
  const char* type;
  std::function<void(archive*)> setup;
};

class LibarchiveFormats : public ::testing::TestWithParam<FormatCase> {};

TEST_P(LibarchiveFormats, MembersBecomeChildren) {
  const FormatCase& c = GetParam();
  std::string bytes = write_archive(c.setup, {{"dir/invoice.exe", exe()}, {"note.txt", "hello"}});
  Report r = Scanner(Config{}).scan_file(bytes, std::string("archive.") + c.label);
  ASSERT_FALSE(r.objects.empty());
  EXPECT_EQ(r.objects[0].type, c.type) << to_json(r);
  ASSERT_TRUE(object_path(r, "dir/invoice.exe")) << to_json(r);
  EXPECT_EQ(object_path(r, "dir/invoice.exe")->type, "pe");
  EXPECT_TRUE(object_path(r, "note.txt"));
  EXPECT_TRUE(flagged_exe(r, "dir/invoice.exe"));
}

INSTANTIATE_TEST_SUITE_P(
    All, LibarchiveFormats,
    ::testing::Values(
        FormatCase{"tar", "tar", [](archive* a) { archive_write_set_format_pax_restricted(a); }},
        FormatCase{"tgz", "gzip", [](archive* a) { archive_write_set_format_ustar(a); archive_write_add_filter_gzip(a); }},
        FormatCase{"tbz2", "bzip2", [](archive* a) { archive_write_set_format_ustar(a); archive_write_add_filter_bzip2(a); }},
        FormatCase{"txz", "xz", [](archive* a) { archive_write_set_format_ustar(a); archive_write_add_filter_xz(a); }},
        FormatCase{"7z", "7z", [](archive* a) { archive_write_set_format_7zip(a); }},
        FormatCase{"iso", "iso", [](archive* a) { archive_write_set_format_iso9660(a); }}),
    [](const auto& info) { return std::string(info.param.label); });

TEST(Libarchive, BareGzipStreamIsOneChildNamedAfterIt) {
  std::string gz = write_archive(
      [](archive* a) { archive_write_set_format_raw(a); archive_write_add_filter_gzip(a); }, {{"x", exe()}});
  Report r = Scanner(Config{}).scan_file(gz, "setup.exe.gz");
  ASSERT_TRUE(object_path(r, "setup.exe.gz/setup.exe")) << to_json(r);
  EXPECT_TRUE(flagged_exe(r, "setup.exe"));
}

TEST(Libarchive, GzipBombStopsAtTheRatioLimit) {
  std::string gz = write_archive([](archive* a) { archive_write_set_format_raw(a); archive_write_add_filter_gzip(a); },
                                 {{"x", "MZ" + std::string(64u << 20, '\0') + "X"}});
  Report r = Scanner(Config{}).scan_file(gz, "bomb.gz");
  EXPECT_TRUE(test::has_finding(r, FindingType::limit_exceeded)) << to_json(r);
}

TEST(Libarchive, CorruptArchiveIsMalformed) {
  std::string t = write_archive([](archive* a) { archive_write_set_format_7zip(a); }, {{"a.txt", std::string(5000, 'a')}});
  for (std::size_t i = 40; i < t.size(); i += 7) t[i] = static_cast<char>(t[i] ^ 0x5A);
  Report r = Scanner(Config{}).scan_file(t, "broken.7z");
  EXPECT_TRUE(test::has_finding(r, FindingType::malformed)) << to_json(r);
}

TEST(Tnef, CompressedRtfBodyIsDecompressed) {
  // MS-OXRTFCP "LZFu": a reference into the preset dictionary ("{\rtf1"),
  // seven literals, then the end marker (a reference to the write position).
  std::string lz;
  lz += '\x01';
  lz += std::string("\x00\x04", 2);          // offset 0, length 6
  lz += " hello}";
  lz += '\x01';
  lz += std::string("\x0D\xC0", 2);          // offset 220 = write position: end
  std::string rtf;
  emogate::test::put32(rtf, static_cast<std::uint32_t>(lz.size() + 12));
  emogate::test::put32(rtf, 13);
  rtf += "LZFu";
  emogate::test::put32(rtf, 0);
  rtf += lz;
  std::string s;
  emogate::test::put32(s, 0x223E9F78);
  emogate::test::put16(s, 0x0001);
  tnef_attr(s, 1, 0x00069003, msg_props_binary(0x1009, rtf));  // attMsgProps: PR_RTF_COMPRESSED
  Report r = Scanner(Config{}).scan_file(s, "winmail.dat");
  const ObjectSummary* body = object_path(r, "winmail.dat/body.rtf");
  ASSERT_TRUE(body) << to_json(r);
  EXPECT_EQ(body->type, "rtf");
  EXPECT_EQ(body->size, 13u);  // "{\rtf1 hello}"
}

TEST(Tnef, AttachmentsBecomeChildren) {
  Report r = Scanner(Config{}).scan_file(tnef_with("invoice.exe", exe()), "winmail.dat");
  ASSERT_FALSE(r.objects.empty());
  EXPECT_EQ(r.objects[0].type, "tnef") << to_json(r);
  ASSERT_TRUE(object_path(r, "winmail.dat/invoice.exe")) << to_json(r);
  EXPECT_TRUE(flagged_exe(r, "winmail.dat/invoice.exe"));
}

TEST(Tnef, GarbageAfterSignatureDoesNotCrash) {
  std::string s = tnef_with("a.txt", "hello");
  for (std::size_t cut = 6; cut < s.size(); cut += 3) Scanner(Config{}).scan_file(s.substr(0, cut), "winmail.dat");
  std::string bogus = s;
  bogus[20] = '\xFF';
  bogus[21] = '\xFF';
  Report r = Scanner(Config{}).scan_file(bogus, "winmail.dat");
  EXPECT_TRUE(test::has_finding(r, FindingType::malformed, {.detail = "checksum"})) << to_json(r);
}

// Real winmail.dat files (Apache POI and MimeKit test data) with the
// attachment names their projects' tests expect.
TEST(Tnef, ThirdPartyCorpus) {
  const char* env = std::getenv("EMOGATE_SHARED");
  std::filesystem::path root = std::filesystem::path(env ? env : EMOGATE_SOURCE_DIR "/../shared") / "corpus";
  struct Case {
    const char* file;
    std::vector<std::string> names;
  };
  const Case cases[] = {
      {"apache-poi/hmef/quick-winmail.dat", {"quick.doc", "quick.html", "quick.pdf", "quick.txt", "body.rtf"}},
      {"mimekit/tnef/MAPI_ATTACH_DATA_OBJ.tnef", {"VIA_Nytt_1402.doc", "VIA_Nytt_1402.pdf", "body.rtf"}},
      {"mimekit/tnef/body.tnef", {"body.html"}},
      {"mimekit/tnef/two-files.tnef", {"AUTHORS", "README"}},
      {"mimekit/tnef/data-before-name.tnef", {"boot.ini", "body.rtf"}},
  };
  Scanner scanner{Config{}};
  int seen = 0;
  for (const auto& c : cases) {
    std::ifstream in(root / c.file, std::ios::binary);
    if (!in) continue;
    ++seen;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Report r = scanner.scan_file(bytes, "winmail.dat");
    for (const auto& n : c.names) EXPECT_TRUE(object_path(r, "winmail.dat/" + n)) << c.file << ": " << n;
  }
  std::ifstream garbage(root / "mimekit/tnef/garbage-at-end.tnef", std::ios::binary);
  if (garbage) {
    std::string bytes((std::istreambuf_iterator<char>(garbage)), std::istreambuf_iterator<char>());
    Report r = scanner.scan_file(bytes, "winmail.dat");
    EXPECT_TRUE(test::has_finding(r, FindingType::malformed));
  }
  if (seen == 0) GTEST_SKIP() << "no corpus at " << root;
}

TEST(Libarchive, MixedNesting) {
  std::string zip = emogate::test::make_zip({{"payload.exe", exe(), ZIP_EM_NONE, ""}});
  std::string seven = write_archive([](archive* a) { archive_write_set_format_7zip(a); }, {{"inner.zip", zip}});
  std::string tgz = write_archive([](archive* a) { archive_write_set_format_ustar(a); archive_write_add_filter_gzip(a); },
                                  {{"docs/bundle.7z", seven}});
  Report r = Scanner(Config{}).scan_file(tgz, "mail.tgz");
  EXPECT_TRUE(flagged_exe(r, "mail.tgz/mail.tar/docs/bundle.7z/inner.zip/payload.exe")) << to_json(r);
}

namespace {

constexpr std::size_t kSector = 2048;

// An ECMA-167 volume structure descriptor: type 0, identifier, version 1.
void volume_descriptor(std::string& image, std::size_t sector, std::string_view id) {
  image.replace(sector * kSector, 7, std::string("\0", 1) + std::string(id) + "\x01");
}

// A UDF image without an ISO 9660 bridge, as mkudffs writes them: the
// volume recognition sequence from sector 16, the anchor volume descriptor
// pointer (tag 2) at sector 256, and a file's data further on.
std::string pure_udf_image() {
  std::string image(300 * kSector, '\0');
  volume_descriptor(image, 16, "BEA01");
  volume_descriptor(image, 17, "NSR02");
  volume_descriptor(image, 18, "TEA01");
  image[256 * kSector] = 2;
  image.replace(280 * kSector, exe().size(), exe());
  return image;
}

bool unreadable(const Report& r, const std::string& type) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const Finding& f) {
    return f.type == FindingType::malformed && f.detail.starts_with("unreadable " + type);
  });
}

}  // namespace

// libarchive has no UDF reader. A UDF image is still an archive to the
// engine and is opened with the ISO 9660 reader alone, which cannot read
// it: "unreadable udf", never an empty archive (with every format enabled
// the tar reader took the zero first sector for an empty tar).
TEST(Libarchive, PureUdfImageIsUnreadableNotEmpty) {
  Report r = Scanner(Config{}).scan_file(pure_udf_image(), "scan.img");
  ASSERT_FALSE(r.objects.empty());
  EXPECT_EQ(r.objects[0].type, "udf");
  EXPECT_TRUE(unreadable(r, "udf")) << to_json(r);
  EXPECT_TRUE(flagged_exe(r, "scan.img")) << to_json(r);  // dangerous_type: UDF disk image
  EXPECT_NE(r.verdict, Verdict::clean);
}

// A bridge image carries both: ISO 9660 descriptors first, UDF ones after
// the set terminator. It is typed ISO and its files come out.
TEST(Libarchive, UdfBridgeImageOpensAsIso) {
  std::string iso = write_archive([](archive* a) { archive_write_set_format_iso9660(a); },
                                  {{"dir/invoice.exe", exe()}, {"note.txt", "hello"}});
  // libarchive writes PVD, Joliet SVD and terminator in sectors 16-18, a
  // note of its options in 19 and path tables padded to whole sectors
  // after it: the UDF descriptors go into the note and the padding.
  ASSERT_EQ(iso.compare(18 * kSector, 6, "\xff" "CD001"), 0);
  for (std::size_t s : {21u, 23u}) ASSERT_EQ(iso.substr(s * kSector, kSector), std::string(kSector, '\0')) << s;
  volume_descriptor(iso, 19, "BEA01");
  volume_descriptor(iso, 21, "NSR02");
  volume_descriptor(iso, 23, "TEA01");
  Report r = Scanner(Config{}).scan_file(iso, "scan.iso");
  ASSERT_FALSE(r.objects.empty());
  EXPECT_EQ(r.objects[0].type, "iso");
  EXPECT_TRUE(object_path(r, "scan.iso/dir/invoice.exe")) << to_json(r);
  EXPECT_TRUE(object_path(r, "scan.iso/note.txt")) << to_json(r);
  EXPECT_FALSE(unreadable(r, "iso")) << to_json(r);
}
