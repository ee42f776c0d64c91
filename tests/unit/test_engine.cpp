// Engine: dispatch by true type, the object tree, limits and temp files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/blob.h"
#include "engine/typing.h"
#include "fixtures.h"
#include "unit/block_zip.h"

using namespace emogate;
using namespace emogate::test;

namespace {

Config test_config() {
  Config c;
  c.rules.paths.clear();
  return c;
}

std::string nest_zips(int levels, const std::string& innermost) {
  std::string data = innermost;
  std::string name = "payload.exe";
  for (int i = 0; i < levels; ++i) {
    data = make_zip({{name, data}});
    name = "level" + std::to_string(levels - i) + ".zip";
  }
  return data;
}

}  // namespace

TEST(Typing, SignaturesDecideNotNames) {
  std::string ole("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
  ole.resize(1024, '\0');
  EXPECT_EQ(identify(ole).type, "ole2");
  EXPECT_EQ(identify(make_zip({{"a.txt", "x"}})).type, "zip");
  EXPECT_EQ(identify(make_zip({{"[Content_Types].xml", "<Types/>"}, {"word/document.xml", "<w/>"}})).type, "ooxml");
  EXPECT_EQ(identify("{\\rtf1\\ansi hello}").type, "rtf");
  EXPECT_EQ(identify(fake_pe()).type, "pe");
  EXPECT_EQ(identify("%PDF-1.7\n").type, "pdf");
  EXPECT_EQ(identify("<html><body>x</body></html>").type, "html");
  EXPECT_EQ(identify("just some words\n").type, "text");
  EXPECT_EQ(identify("").type, "empty");
  TypeInfo png = identify(std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16));
  EXPECT_EQ(png.type, "image");
  EXPECT_EQ(png.mime, "image/png");
  EXPECT_EQ(identify("<?xml version=\"1.0\"?><a/>").mime, "text/xml");
  // Binary is binary and text is text without libmagic's database.
  std::string records(4096, '\0');
  for (size_t i = 0; i < records.size(); i += 3) records[i] = static_cast<char>(i * 7);
  EXPECT_EQ(identify(records).type, "binary");
  EXPECT_EQ(identify(records).mime, "application/octet-stream");
  EXPECT_EQ(identify("plain words here\n").type, "text");
  EXPECT_EQ(identify("a,b,c\n1,2,3\n4,5,6\n").mime, "text/csv");
}

// Text never reaches libmagic's database: HTML and saved messages are
// recognised by our own checks, and look-alikes stay text.
TEST(Typing, TextWithoutTheDatabase) {
  EXPECT_EQ(identify("\n  <!DOCTYPE html><html>x</html>").type, "html");
  EXPECT_EQ(identify("<script>alert(1)</script>").type, "html");
  const std::string eml =
      "Received: from a by b; Mon, 2 Mar 2026 10:00:00 +0900\r\n"
      "From: =?UTF-8?B?5bGx55Sw?= <a@example.jp>\r\nSubject: hello\r\n"
      "\tcontinued\r\n\r\nbody\r\n";
  TypeInfo mail = identify(eml);
  EXPECT_EQ(mail.type, "email");
  EXPECT_EQ(mail.mime, "message/rfc822");
  EXPECT_EQ(identify("Subject: hello\nPriority: high\n\nno mail field\n").type, "text");
  EXPECT_EQ(identify("From: a@b\nTo: c@d\nthis line is not a field\n\n").type, "text");
  EXPECT_EQ(identify("Note: call Tanaka\nFrom: the office\n").type, "text");  // no blank line
  // A saved message inside an archive is opened as a message.
  Scanner s(test_config());
  Report r = s.scan_file(make_zip({{"fwd.eml", eml}}), "mail.zip");
  const ObjectSummary* inner = find_object(r, "mail.zip/fwd.eml");
  ASSERT_NE(inner, nullptr) << dump(r);
  EXPECT_EQ(inner->type, "email");
}

TEST(Dispatch, TrueTypeWinsOverName) {
  Scanner s(test_config());
  // A ZIP called readme.txt is still opened; a PE called invoice.pdf is still an executable.
  Report r = s.scan_file(make_zip({{"invoice.pdf", fake_pe()}}), "readme.txt");
  const ObjectSummary* root = find_object(r, "readme.txt");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->type, "zip");
  const Finding* f = find_finding(r, FindingType::dangerous_type);
  ASSERT_NE(f, nullptr) << dump(r);
  EXPECT_EQ(f->path, "readme.txt/invoice.pdf");
  EXPECT_NE(f->detail.find("disguised as .pdf"), std::string::npos);
  EXPECT_EQ(r.verdict, Verdict::malicious);
}

TEST(Dispatch, ScriptsByNameAndCleanFiles) {
  Scanner s(test_config());
  Report r = s.scan_file(make_zip({{"a.js", "WScript.Echo(1)"}, {"notes.txt", "hello"}}), "a.zip");
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = "a.zip/a.js"})) << dump(r);
  EXPECT_FALSE(has_finding(r, FindingType::dangerous_type, {.path = "a.zip/notes.txt"}));
  Report clean = s.scan_file("plain text", "notes.txt");
  EXPECT_EQ(clean.verdict, Verdict::clean);
  EXPECT_EQ(clean.objects.size(), 1u);
  EXPECT_EQ(clean.objects[0].sha256, "c9ecf5e54c7b3f2640ecca21f96d4c3625a2b7935104f41c5ede29935a9e52c9");
}

TEST(Limits, Depth) {
  Config c = test_config();
  c.limits.max_depth = 4;
  Scanner s(c);
  Report r = s.scan_file(nest_zips(8, fake_pe()), "outer.zip");
  const Finding* f = find_finding(r, FindingType::limit_exceeded, {.limit = "max_depth"});
  ASSERT_NE(f, nullptr) << dump(r);
  EXPECT_EQ(r.verdict, Verdict::suspicious);
  Config deep = test_config();
  Scanner s2(deep);
  Report r2 = s2.scan_file(nest_zips(8, fake_pe()), "outer.zip");
  EXPECT_TRUE(has_finding(r2, FindingType::dangerous_type)) << dump(r2);
  EXPECT_FALSE(has_finding(r2, FindingType::limit_exceeded));
}

TEST(Limits, ObjectCount) {
  std::vector<std::pair<std::string, std::string>> members;
  for (int i = 0; i < 100; ++i) members.push_back({"f" + std::to_string(i) + ".txt", "x"});
  Config c = test_config();
  c.limits.max_objects = 20;
  Report r = Scanner(c).scan_file(make_zip(members), "many.zip");
  EXPECT_LE(r.objects.size(), 20u);
  const Finding* f = find_finding(r, FindingType::limit_exceeded, {.limit = "max_objects"});
  ASSERT_NE(f, nullptr);
}

TEST(Limits, ExtractedBytesAndObjectSize) {
  std::string big(3 << 20, 'A');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  Config c = test_config();
  c.limits.max_extracted_bytes = 1 << 20;
  c.limits.max_object_size = 1 << 20;
  Report r = Scanner(c).scan_file(make_zip({{"big.bin", big}}), "a.zip");
  const ObjectSummary* o = find_object(r, "a.zip/big.bin");
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->truncated);
  EXPECT_EQ(o->size, 1u << 20);
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.path = "a.zip/big.bin"})) << dump(r);
}

TEST(Limits, CompressionRatio) {
  Config c = test_config();
  c.limits.max_compression_ratio = 50;
  // Not zeros: zero runs are padding, which the ZIP extractor handles on its own.
  std::string repetitive;
  while (repetitive.size() < (20u << 20)) repetitive += "all work and no play ";
  Report r = Scanner(c).scan_file(make_zip({{"zeros.doc", repetitive}}), "bomb.zip");
  const Finding* f = find_finding(r, FindingType::limit_exceeded, {.limit = "max_compression_ratio"});
  ASSERT_NE(f, nullptr) << dump(r);
  const ObjectSummary* o = find_object(r, "bomb.zip/zeros.doc");
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->truncated);
  EXPECT_LT(o->size, 20u << 20);
}

// The deadline fires while a member is being extracted and stops it there.
// The member is 4 GiB of zeros (never stored: held back as padding, and no
// size or ratio limit in reach), seconds of inflating on any machine; the
// deadline is long enough for everything before the member even on a
// loaded machine. The wall-clock bound only says the scan ends; it is far
// above the timeout so that load cannot fail it.
TEST(Limits, ScanTimeout) {
  constexpr std::uint64_t kMiB = 1u << 20, kMember = 4095 * kMiB;
  Config c = test_config();
  c.limits.scan_timeout_ms = 1000;
  c.limits.max_compression_ratio = 1e9;
  c.limits.max_object_size = 2 * kMember;
  c.limits.max_extracted_bytes = 2 * kMember;
  const std::string zip = zero_padded_zip("big.bin", "head", kMember);
  const Scanner scanner(c);
  Report r = scanner.scan_file(zip, "slow.zip");
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded,
                          {.limit = "scan_timeout_ms",
                           .detail = "member \"big.bin\" was being extracted when the scan time ran out"}))
      << dump(r);
  EXPECT_LT(r.scan_ms, 100.0 * c.limits.scan_timeout_ms);
}

TEST(Blob, SpillsToPrivateUnlinkedTempFile) {
  auto dir = std::filesystem::temp_directory_path() / ("emogate-blob-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  BlobWriter w(dir.string(), 64 << 10, 10 << 20);
  std::string chunk(100 << 10, 'x');
  ASSERT_TRUE(w.write(chunk));
  ASSERT_TRUE(w.write(chunk));
  EXPECT_TRUE(std::filesystem::is_empty(dir));  // unlinked at once
  Blob b = w.finish();
  EXPECT_TRUE(b.spilled());
  EXPECT_EQ(b.size(), 200u << 10);
  EXPECT_EQ(b.view().substr(0, 5), "xxxxx");
  std::filesystem::remove_all(dir);
}

// A declared size is a hint: within the memory limit it is reserved, past
// it (a lie, or a big object) it neither spills nor allocates; either way
// the bytes written are exactly the bytes kept, across many regrowths.
TEST(Blob, ReserveIsOnlyAHint) {
  BlobWriter small("/tmp", 1 << 20, 64 << 20);
  small.reserve(100);  // smaller than what follows
  std::string all;
  for (int i = 0; i < 300; ++i) {
    std::string chunk(static_cast<size_t>(1000 + i), static_cast<char>('a' + i % 26));
    ASSERT_TRUE(small.write(chunk));
    all += chunk;
  }
  Blob b = small.finish();
  EXPECT_FALSE(b.spilled());
  EXPECT_EQ(b.view(), all);
  BlobWriter liar("/tmp", 1 << 20, 64 << 20);
  liar.reserve(40u << 20);  // past the memory limit: ignored
  ASSERT_TRUE(liar.write("tiny"));
  Blob t = liar.finish();
  EXPECT_FALSE(t.spilled());
  EXPECT_EQ(t.view(), "tiny");
}

TEST(Blob, CapRefusesExtraBytes) {
  BlobWriter w("/tmp", 1 << 20, 10);
  EXPECT_TRUE(w.write("12345"));
  EXPECT_FALSE(w.write("6789abcdef"));
  EXPECT_TRUE(w.capped());
  EXPECT_EQ(w.finish().view(), "123456789a");
}

// In-place writing: only what commit() takes is kept (never more than the
// room asked for); no room past the cap or the memory limit, where write()
// keeps its own rules (the cap's prefix, the spill).
TEST(Blob, RoomAndCommitKeepOnlyWhatIsCommitted) {
  BlobWriter w("/tmp", 1 << 20, 64);
  char* p = w.room(8);
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "abcdefgh", 8);
  w.commit(5);  // the producer wrote fewer than it asked room for
  EXPECT_EQ(w.size(), 5u);
  p = w.room(4);
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "WXYZ", 4);
  w.commit(100);  // more than the room: only the room is taken
  EXPECT_EQ(w.size(), 9u);
  EXPECT_EQ(w.room(60), nullptr);  // 9 + 60 > the cap of 64
  EXPECT_FALSE(w.write(std::string(60, 'z')));
  EXPECT_TRUE(w.capped());
  EXPECT_EQ(w.finish().view(), "abcdeWXYZ" + std::string(55, 'z'));

  BlobWriter m("/tmp", 16, 1 << 20);
  EXPECT_EQ(m.room(17), nullptr);  // would pass the memory limit: write() spills
  ASSERT_TRUE(m.write("more than sixteen bytes"));
  EXPECT_EQ(m.room(1), nullptr);  // in the temp file now
  Blob b = m.finish();
  EXPECT_TRUE(b.spilled());
  EXPECT_EQ(b.view(), "more than sixteen bytes");
}

TEST(Blob, TempFileMode) {
  // Spill files are created 0600 (O_TMPFILE, or mkstemp where the
  // filesystem lacks it); check the umask cannot widen it.
  mode_t old = umask(0);
  BlobWriter w("/tmp", 4, 1 << 20);
  w.write("more than four bytes");
  Blob b = w.finish();
  umask(old);
  EXPECT_TRUE(b.spilled());
  // The mapping is of an unlinked file; find it through /proc/self/maps.
  bool found = false;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find(" /tmp/") == std::string::npos || line.find("(deleted)") == std::string::npos) continue;
    found = true;
    struct stat st;
    ASSERT_EQ(::stat(("/proc/self/map_files/" + line.substr(0, line.find(' '))).c_str(), &st), 0) << line;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << line;
  }
  EXPECT_TRUE(found);
}

TEST(Report, JsonIsOneLineAndSurvivesBadUtf8) {
  Report r;
  r.input = "bad\xff name";
  r.findings.push_back({FindingType::yara, "a/\xfe", "detail\nnewline", Verdict::malicious});
  std::string j = to_json(r);
  EXPECT_EQ(j.find('\n'), std::string::npos);
  EXPECT_NE(j.find("\"yara\""), std::string::npos);
  EXPECT_EQ(findings_summary(r), "yara@a/\xfe");
}

// Without hash_all_objects (the milter's default) only archives and objects
// with a finding are hashed; the offline scan hashes everything.
TEST(Report, HashesOnlyWhatIsReportedWhenAsked) {
  Scanner s(test_config());
  std::string zip = make_zip({{"notes.txt", "hello"}, {"run.exe", fake_pe()}});
  ScanOptions lean;
  lean.hash_all_objects = false;
  Report r = s.scan_file(zip, "a.zip", lean);
  ASSERT_NE(find_object(r, "a.zip"), nullptr) << dump(r);
  EXPECT_EQ(find_object(r, "a.zip")->sha256.size(), 64u);
  EXPECT_EQ(find_object(r, "a.zip/run.exe")->sha256.size(), 64u);
  EXPECT_EQ(find_object(r, "a.zip/notes.txt")->sha256, "");
  Report full = s.scan_file(zip, "a.zip");
  EXPECT_EQ(find_object(full, "a.zip/notes.txt")->sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}
