// The pure member decisions the zip and libarchive modules call
// (formats/zip/members.h, formats/archive/entries.h, join_capped in
// common/text.h), tested without the engine.
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/text.h"
#include "formats/archive/entries.h"
#include "formats/zip/directory.h"
#include "formats/zip/members.h"
#include "formats/zip/password_search.h"
#include "unit/zip_fixtures.h"

using namespace emogate;
using namespace emogate::test;

TEST(JoinCapped, ListsAtMostTheCapThenAnEllipsis) {
  EXPECT_EQ(join_capped(std::vector<std::string>{}, 20), "");
  EXPECT_EQ(join_capped(std::vector<std::string>{"a", "b"}, 20), "a, b");
  EXPECT_EQ(join_capped(std::vector<std::string>{"a", "b"}, 2), "a, b");
  EXPECT_EQ(join_capped(std::vector<std::string>{"a", "b", "c"}, 2), "a, b, ...");
}

TEST(ZipMembers, CipherNames) {
  emogate::zip::Entry e;
  EXPECT_EQ(emogate::zip::cipher_name(e), "ZipCrypto");
  e.aes_strength = 1;
  EXPECT_EQ(emogate::zip::cipher_name(e), "AES-128");
  e.aes_strength = 3;
  EXPECT_EQ(emogate::zip::cipher_name(e), "AES-256");
}

TEST(ZipMembers, StructureProblemsJoinedInOrder) {
  emogate::zip::Directory d;
  EXPECT_EQ(emogate::zip::structure_problems(d), "");
  d.problems = {"p1", "p2"};
  d.trailing = 5;
  d.prefix = 7;
  EXPECT_EQ(emogate::zip::structure_problems(d), "p1; p2; 5 bytes after the end record; 7 bytes before the archive");
  emogate::zip::Directory only_prefix;
  only_prefix.prefix = 3;
  EXPECT_EQ(emogate::zip::structure_problems(only_prefix), "3 bytes before the archive");
}

TEST(ZipMembers, FolderEntriesAndLibzipNames) {
  emogate::zip::Entry e;
  EXPECT_FALSE(emogate::zip::is_folder_entry(e));
  e.name = "dir/";
  EXPECT_TRUE(emogate::zip::is_folder_entry(e));
  e.name = "dir\\";
  EXPECT_TRUE(emogate::zip::is_folder_entry(e));
  e.name = "dir/file";
  EXPECT_FALSE(emogate::zip::is_folder_entry(e));
  e.name = std::string("a\0b", 3);
  EXPECT_EQ(emogate::zip::libzip_raw_name(e), "a b");
}

TEST(ZipMembers, InflateWholeStoredAndDeflated) {
  const std::string text(5000, 'x');
  for (bool store : {true, false}) {
    const std::string z = make_zip({{"a.txt", text, ZIP_EM_NONE, "", store}});
    emogate::zip::Directory d = emogate::zip::read_directory(z, 10);
    ASSERT_EQ(d.entries.size(), 1u);
    emogate::zip::Inflated in = emogate::zip::inflate_whole(d.entries[0], z, 1 << 20);
    ASSERT_TRUE(in.ok) << store;
    EXPECT_TRUE(in.crc_ok);
    EXPECT_EQ(std::string(in.plain), text);
    // Over the caller's size bound: the stream decides.
    EXPECT_FALSE(emogate::zip::inflate_whole(d.entries[0], z, text.size() - 1).ok);
    // A declaration the data disagrees with: the stream decides.
    emogate::zip::Entry lying = d.entries[0];
    lying.uncompressed_size += 1;
    EXPECT_FALSE(emogate::zip::inflate_whole(lying, z, 1 << 20).ok);
    // A wrong CRC still inflates, and says so.
    emogate::zip::Entry bad_crc = d.entries[0];
    bad_crc.crc ^= 1;
    emogate::zip::Inflated c = emogate::zip::inflate_whole(bad_crc, z, 1 << 20);
    EXPECT_TRUE(c.ok);
    EXPECT_FALSE(c.crc_ok);
    // Data outside the archive, or an unresolved offset.
    emogate::zip::Entry outside = d.entries[0];
    outside.compressed_size = z.size();
    EXPECT_FALSE(emogate::zip::inflate_whole(outside, z, 1 << 20).ok);
    outside = d.entries[0];
    outside.data_offset = 0;
    EXPECT_FALSE(emogate::zip::inflate_whole(outside, z, 1 << 20).ok);
  }
  emogate::zip::Entry other;
  other.method = 14;  // LZMA
  EXPECT_FALSE(emogate::zip::inflate_whole(other, "xxxx", 1 << 20).ok);
}

TEST(ArchiveEntries, StreamNames) {
  EXPECT_EQ(stream_name("report.doc.gz"), "report.doc");
  EXPECT_EQ(stream_name("dir/x.TGZ"), "x.tar");
  EXPECT_EQ(stream_name("a.tzst"), "a.tar");
  EXPECT_EQ(stream_name("noext"), "data");
  EXPECT_EQ(stream_name(".gz"), "data");
  EXPECT_EQ(stream_name("a\\b.xz"), "a\\b");  // only '/' separates an object's path
}

TEST(ArchiveEntries, LinkEscapes) {
  EXPECT_TRUE(link_escapes(""));
  EXPECT_TRUE(link_escapes("/etc/passwd"));
  EXPECT_TRUE(link_escapes("\\windows"));
  EXPECT_TRUE(link_escapes("C:x"));
  EXPECT_TRUE(link_escapes("../x"));
  EXPECT_TRUE(link_escapes("a/../../x"));
  EXPECT_TRUE(link_escapes("a\\.."));
  EXPECT_FALSE(link_escapes("a/b"));
  EXPECT_FALSE(link_escapes("a/..b/c"));
  EXPECT_FALSE(link_escapes("./x"));
}

TEST(ArchiveEntries, LinkTargetText) {
  EXPECT_EQ(link_target_text("../../etc/passwd"), "../../etc/passwd");
  EXPECT_EQ(link_target_text("\x93\xfa\x96\x7b"), "\xe6\x97\xa5\xe6\x9c\xac");  // CP932 "日本"
  EXPECT_EQ(link_target_text(std::string(300, 'a')), std::string(255, 'a') + "...");
  EXPECT_FALSE(link_target_text("").empty());
}

TEST(ArchiveEntries, OddTypesAndLockedSummary) {
  EXPECT_STREQ(odd_type_name(AE_IFIFO), "FIFO");
  EXPECT_EQ(odd_type_name(AE_IFREG), nullptr);
  EXPECT_EQ(odd_type_text(AE_IFCHR, 020644), "a character device (mode 020644)");
  EXPECT_EQ(odd_type_text(0170000, 0170000), "of an unknown type (mode 170000)");
  EXPECT_EQ(locked_summary("7z", {"a (3 bytes)"}), "1 encrypted 7z entry not opened: a (3 bytes)");
  EXPECT_EQ(locked_summary("rar", {"a", "b"}), "2 encrypted rar entries not opened: a, b");
}

namespace {
std::vector<PasswordCandidate> candidates(std::vector<std::string> pws) {
  std::vector<PasswordCandidate> out;
  for (auto& p : pws) out.push_back({p, "line " + std::to_string(out.size() + 1), 0});
  return out;
}
}  // namespace

TEST(ZipPasswordSearch, OpensRemembersAndDescribes) {
  const std::string z = make_zip({{"a.txt", "alpha alpha", ZIP_EM_TRAD_PKWARE, "Secret99"},
                                  {"b.txt", "beta beta", ZIP_EM_TRAD_PKWARE, "Secret99"}});
  emogate::zip::Directory d = emogate::zip::read_directory(z, 10);
  ASSERT_EQ(d.entries.size(), 2u);
  const auto list = candidates({"wrong1", "Secret99"});
  int asked = 0;
  auto get = [&]() -> const std::vector<PasswordCandidate>& { ++asked; return list; };
  KdfBudget budget(1000000);
  emogate::zip::PasswordSearch s;
  bool in_vain = true;
  emogate::zip::Unlock u = s.find(d.entries[0], z, get, budget, [] { return false; }, in_vain);
  ASSERT_NE(u.candidate, nullptr);
  EXPECT_FALSE(in_vain);
  EXPECT_EQ(u.candidate->password, "Secret99");
  EXPECT_EQ(u.bytes, "Secret99");
  s.record_open(u, "a.txt");
  // The password that opened a member goes first: no candidate list needed.
  emogate::zip::Unlock again = s.find(d.entries[1], z, get, budget, [] { return false; }, in_vain);
  ASSERT_NE(again.candidate, nullptr);
  EXPECT_EQ(asked, 1);
  s.record_open(again, "b.txt");
  EXPECT_EQ(s.opened_count(), 2u);
  ASSERT_EQ(s.opened_details(true).size(), 1u);
  EXPECT_EQ(s.opened_details(true)[0], "2 member(s) decrypted (a.txt, b.txt) with password Secret99 from line 2");
  EXPECT_EQ(s.opened_details(false)[0],
            "2 member(s) decrypted (a.txt, b.txt) with password " + mask_password("Secret99") + " from line 2");
}

TEST(ZipPasswordSearch, StopsSearchingAfterTwoMembersInVain) {
  const std::string z = make_zip({{"a", "1111", ZIP_EM_TRAD_PKWARE, "pw-a"},
                                  {"b", "2222", ZIP_EM_TRAD_PKWARE, "pw-b"},
                                  {"c", "3333", ZIP_EM_TRAD_PKWARE, "pw-c"}});
  emogate::zip::Directory d = emogate::zip::read_directory(z, 10);
  ASSERT_EQ(d.entries.size(), 3u);
  const auto list = candidates({"nope", "pw-c"});
  int asked = 0;
  auto get = [&]() -> const std::vector<PasswordCandidate>& { ++asked; return list; };
  KdfBudget budget(1000000);
  emogate::zip::PasswordSearch s;
  bool in_vain = false;
  EXPECT_EQ(s.find(d.entries[0], z, get, budget, [] { return false; }, in_vain).candidate, nullptr);
  EXPECT_TRUE(in_vain);
  EXPECT_EQ(s.find(d.entries[1], z, get, budget, [] { return false; }, in_vain).candidate, nullptr);
  EXPECT_TRUE(in_vain);
  // Third member: not searched at all, although "pw-c" would open it.
  EXPECT_EQ(s.find(d.entries[2], z, get, budget, [] { return false; }, in_vain).candidate, nullptr);
  EXPECT_FALSE(in_vain);
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(s.opened_count(), 0u);
  EXPECT_TRUE(s.opened_details(false).empty());
}

TEST(ZipPasswordSearch, StopCallbackEndsTheSearch) {
  const std::string z = make_zip({{"a", "1111", ZIP_EM_TRAD_PKWARE, "pw"}});
  emogate::zip::Directory d = emogate::zip::read_directory(z, 10);
  const auto list = candidates({"pw"});
  KdfBudget budget(1000000);
  emogate::zip::PasswordSearch s;
  bool in_vain = false;
  EXPECT_EQ(s.find(d.entries[0], z, [&]() -> const auto& { return list; }, budget, [] { return true; }, in_vain)
                .candidate,
            nullptr);
  EXPECT_TRUE(in_vain);
}

TEST(ZipMembers, LibzipMustReadTheCipherAsWeDo) {
  const std::string z = make_zip({{"a", "1111", ZIP_EM_AES_256, "pw"}, {"b", "2222", ZIP_EM_TRAD_PKWARE, "pw"}});
  emogate::zip::Directory d = emogate::zip::read_directory(z, 10);
  ASSERT_EQ(d.entries.size(), 2u);
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(z.data(), z.size(), 0, &err);
  zip_t* za = zip_open_from_source(src, ZIP_RDONLY, &err);
  ASSERT_NE(za, nullptr);
  zip_stat_t st[2];
  for (zip_uint64_t i = 0; i < 2; ++i) {
    zip_stat_init(&st[i]);
    ASSERT_EQ(zip_stat_index(za, i, 0, &st[i]), 0);
  }
  zip_discard(za);
  zip_error_fini(&err);
  EXPECT_TRUE(emogate::zip::libzip_can_decrypt(d.entries[0], st[0]));
  EXPECT_TRUE(emogate::zip::libzip_can_decrypt(d.entries[1], st[1]));
  EXPECT_FALSE(emogate::zip::libzip_can_decrypt(d.entries[0], st[1]));  // AES entry, ZipCrypto per libzip
  EXPECT_FALSE(emogate::zip::libzip_can_decrypt(d.entries[1], st[0]));
  emogate::zip::Entry strong = d.entries[1];
  strong.flags |= 0x40;  // PKWARE strong encryption
  EXPECT_FALSE(emogate::zip::libzip_can_decrypt(strong, st[1]));
  zip_stat_t none;
  zip_stat_init(&none);
  EXPECT_FALSE(emogate::zip::libzip_can_decrypt(d.entries[1], none));
}
