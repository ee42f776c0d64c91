// The type table: every signature row gives its tag and MIME name, in
// table order, and the table agrees with the modules that open each type.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine/registry.h"
#include "engine/types.h"
#include "engine/typing.h"
#include "fixtures.h"

using namespace emogate;
using namespace emogate::test;

namespace {

std::string at(std::size_t offset, std::string_view magic, std::size_t size = 0) {
  std::string b(std::max(size, offset + magic.size()), '\0');
  b.replace(offset, magic.size(), magic);
  return b;
}

struct Sample {
  std::string label;
  std::string bytes;
  std::string type;
  std::string mime;  // empty: libmagic's, not pinned
};

std::vector<Sample> samples() {
  const std::string zip = make_zip({{"a.txt", "x"}});
  const std::string docx = make_zip({{"[Content_Types].xml", "<Types/>"}, {"word/document.xml", "<w/>"}});
  std::string vhd_footer(4096, '\0');
  vhd_footer.replace(vhd_footer.size() - 512, 8, "conectix");
  return {
      {"ole2", at(0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 1024), "ole2", "application/x-ole-storage"},
      {"zip", zip, "zip", "application/zip"},
      {"ooxml", docx, "ooxml", "application/zip"},
      {"zip after a script", "#!/bin/sh\nexit 0\n" + zip, "zip", "application/zip"},
      {"ooxml after junk", std::string(100, 'j') + docx, "ooxml", "application/zip"},
      {"rtf", "{\\rtf1\\ansi x}", "rtf", "text/rtf"},
      {"onenote", at(0, "\xE4\x52\x5C\x7B\x8C\xD8\xA7\x4D\xAE\xB1\x53\x78\xD0\x29\x96\xD3", 256), "onenote",
       "application/onenote"},
      {"lnk",
       at(0, std::string_view("\x4C\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46", 20),
          256),
       "lnk", "application/x-ms-shortcut"},
      {"pe", fake_pe(), "pe", ""},
      {"pe carrying a zip", fake_pe() + zip, "pe", ""},
      {"elf", at(0, "\x7F" "ELF\x02\x01\x01", 256), "elf", ""},
      {"macho", at(0, "\xCF\xFA\xED\xFE", 256), "macho", ""},
      {"pdf", "%PDF-1.7\n", "pdf", "application/pdf"},
      {"gzip", at(0, "\x1F\x8B\x08", 64), "gzip", "application/gzip"},
      {"bzip2", "BZh91AY&SY", "bzip2", "application/x-bzip2"},
      {"xz", at(0, std::string_view("\xFD" "7zXZ\x00\x00", 7), 64), "xz", "application/x-xz"},
      {"zstd", at(0, "\x28\xB5\x2F\xFD", 64), "zstd", "application/zstd"},
      {"lz4", at(0, "\x04\x22\x4D\x18", 64), "lz4", "application/x-lz4"},
      {"lz4 legacy", at(0, "\x02\x21\x4C\x18", 64), "lz4", "application/x-lz4"},
      {"lzip", at(0, "LZIP\x01", 64), "lzip", "application/x-lzip"},
      {"compress", at(0, "\x1F\x9D\x90", 64), "compress", "application/x-compress"},
      {"7z", at(0, "7z\xBC\xAF\x27\x1C", 64), "7z", "application/x-7z-compressed"},
      {"rar", at(0, "Rar!\x1A\x07", 64), "rar", "application/x-rar"},
      {"cab", at(0, "MSCF", 64), "cab", "application/vnd.ms-cab-compressed"},
      {"lzh", at(0, std::string_view("\x20\x00-lh5-", 7), 64), "lzh", "application/x-lzh-compressed"},
      {"tnef", at(0, "\x78\x9F\x3E\x22", 64), "tnef", "application/vnd.ms-tnef"},
      {"tar", at(257, "ustar", 1024), "tar", "application/x-tar"},
      {"iso", at(0x8801, "CD001", 0x9000), "iso", ""},
      {"udf", at(0x8001, "NSR03", 0x9000), "udf", ""},
      {"vhd", at(0, "conectix", 1024), "vhd", ""},
      {"vhd footer", vhd_footer, "vhd", ""},
      {"tiff", at(0, "II*", 64), "image", "image/tiff"},
      {"png", at(0, "\x89PNG\r\n\x1A\n", 64), "image", "image/png"},
  };
}

}  // namespace

TEST(TypeTable, EachSignatureGivesItsTagAndMime) {
  for (const Sample& s : samples()) {
    TypeInfo info = identify(s.bytes);
    EXPECT_EQ(info.type, s.type) << s.label;
    if (!s.mime.empty()) {
      EXPECT_EQ(info.mime, s.mime) << s.label;
    }
  }
}

// Near misses of a signature fall through to the rows after it.
TEST(TypeTable, NearMissesAreNotTheFormat) {
  EXPECT_EQ(identify(at(0, "\x1F\x9D\x80", 64)).type, "binary");  // compress: no code width
  EXPECT_EQ(identify(at(0x9001, "NSR02", 0x9800)).type, "binary");  // UDF: the first descriptor only
  EXPECT_EQ(identify(at(0x9801, "CD001", 0xA000)).type, "binary");  // ISO 9660: the first three
}

TEST(TypeTable, TagsAreUniqueAndKnownToTheLookup) {
  std::set<std::string_view> seen;
  for (const TypeSpec& t : type_table()) {
    EXPECT_TRUE(seen.insert(t.tag).second) << t.tag;
    EXPECT_EQ(find_type(t.tag), &t) << t.tag;
    EXPECT_EQ(is_archive_type(t.tag), t.archive) << t.tag;
  }
  EXPECT_EQ(find_type("no-such-type"), nullptr);
  EXPECT_FALSE(is_archive_type("no-such-type"));
}

// Every tag a module asks for is a row of the table: a typo in types()
// would leave the module silently idle.
TEST(TypeTable, EveryModuleTypeIsInTheTable) {
  const Registry& reg = builtin_registry();
  auto check = [](const Module& m) {
    for (const std::string& t : m.types())
      EXPECT_TRUE(t == tag::any || find_type(t)) << m.name() << " asks for unknown type " << t;
  };
  for (const auto& m : reg.modules) check(*m);
}

// The opener a row names exists and accepts the type; an archive always has
// one (it was hashed to be opened).
TEST(TypeTable, OpenersAcceptTheirTypes) {
  const Registry& reg = builtin_registry();
  for (const TypeSpec& t : type_table()) {
    EXPECT_TRUE(!t.archive || !t.opener.empty()) << t.tag << " is an archive nothing opens";
    if (t.opener.empty()) continue;
    Object obj;
    obj.type = std::string(t.tag);
    const auto it = std::find_if(reg.modules.begin(), reg.modules.end(), [&](const auto& e) {
      return e->name() == t.opener && e->phase() == Phase::expand;
    });
    ASSERT_NE(it, reg.modules.end()) << t.tag << ": no expand module named " << t.opener;
    EXPECT_TRUE((*it)->accepts(obj)) << t.opener << " does not accept " << t.tag;
  }
}

// What the libarchive module opens is exactly what the table gives it.
TEST(TypeTable, LibarchiveTypesComeFromTheTable) {
  const Registry& reg = builtin_registry();
  const auto it = std::find_if(reg.modules.begin(), reg.modules.end(),
                               [](const auto& e) { return e->name() == "libarchive"; });
  ASSERT_NE(it, reg.modules.end());
  const std::vector<std::string> types = (*it)->types();
  EXPECT_EQ(types, types_opened_by("libarchive"));
  for (std::string_view t : {"gzip", "tar", "7z", "rar", "cab", "lzh", "iso"})
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
  EXPECT_EQ(std::find(types.begin(), types.end(), "zip"), types.end());
}

// Whatever the libarchive module opens is an archive: hashed before it is
// opened, like every container it reads.
TEST(TypeTable, LibarchiveOpensOnlyArchives) {
  for (const std::string& t : types_opened_by("libarchive")) EXPECT_TRUE(is_archive_type(t)) << t;
}
