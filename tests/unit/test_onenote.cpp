// OneNote sections built in code: FileDataStoreObject blobs become children
// with `embedded_file`, names come from EmbeddedFileName-shaped strings.
#include <gtest/gtest.h>

#include "emogate/scanner.h"
#include "formats/onenote/blobs.h"
#include "office_fixtures.h"

using namespace emogate;
using namespace emogate::test;

namespace {

const std::string kSection("\xE4\x52\x5C\x7B\x8C\xD8\xA7\x4D\xAE\xB1\x53\x78\xD0\x29\x96\xD3", 16);
const std::string kBlobHeader("\xE7\x16\xE3\xBD\x65\x26\x11\x45\xA4\xC4\x8D\x4D\x0B\x7A\x9E\xAC", 16);
const std::string kBlobFooter("\x22\xA7\xFB\x71\x79\x0F\x0B\x4A\xBB\x13\x89\x92\x56\x42\x6B\x24", 16);

std::string blob(std::string_view data) {
  std::string b = kBlobHeader + u64(data.size()) + u32(0) + u64(0) + std::string(data);
  b += std::string((8 - data.size() % 8) % 8, '\0');
  return b + kBlobFooter;
}

std::string wz(std::string_view name) { return u32(std::uint32_t(name.size() * 2)) + utf16(name); }

std::string section(const std::vector<std::string>& names, const std::vector<std::string>& blobs) {
  std::string s = kSection + std::string(64, '\0');
  for (auto& n : names) s += std::string(12, '\x01') + wz(n);
  for (auto& b : blobs) s += std::string(20, '\0') + blob(b);
  return s + std::string(32, '\0');
}

}  // namespace

TEST(OneNote, BlobsAndNamesAreFound) {
  const std::string png = "\x89PNG\r\n\x1a\n" + std::string(40, 'p');
  std::string one = section({"invoice.hta"}, {png, "<hta:application>run</hta:application>"});
  auto blobs = onenote::file_blobs(one);
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[1], "<hta:application>run</hta:application>");
  auto names = onenote::pair_names(blobs, onenote::file_names(one));
  EXPECT_EQ(names[0], "");
  EXPECT_EQ(names[1], "invoice.hta");
}

TEST(OneNote, LengthPastEndIsCut) {
  std::string one = kSection + kBlobHeader + u64(1ull << 40) + u32(0) + u64(0) + "abc";
  auto blobs = onenote::file_blobs(one);
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_EQ(blobs[0], "abc");
  EXPECT_TRUE(onenote::file_blobs(kSection + kBlobHeader + "short").empty());
}

TEST(OneNote, EmbeddedHtaGetsEmbeddedFileAndDangerousType) {
  std::string one = section({"invoice.hta"}, {"<hta:application>run</hta:application>"});
  auto rep = Scanner(Config{}).scan_file(one, "notes.one");
  EXPECT_TRUE(has_finding(rep, FindingType::embedded_file, {.detail = "invoice.hta"})) << to_json(rep);
  ASSERT_NE(find_object(rep, "notes.one/invoice.hta"), nullptr) << to_json(rep);
  EXPECT_TRUE(has_finding(rep, FindingType::dangerous_type, {.detail = "hta"})) << to_json(rep);
  EXPECT_EQ(rep.verdict, Verdict::malicious);
}

TEST(OneNote, PicturesGetNoFinding) {
  std::string one = section({}, {"\xFF\xD8\xFF\xE0" + std::string(40, 'j')});
  auto rep = Scanner(Config{}).scan_file(one, "pics.one");
  EXPECT_FALSE(has_finding(rep, FindingType::embedded_file)) << to_json(rep);
  EXPECT_NE(find_object(rep, "pics.one/file1"), nullptr) << to_json(rep);
}
