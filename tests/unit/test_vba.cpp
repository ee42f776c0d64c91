// VBA: MS-OVBA decompression, dir parsing, keyword analysis, stomping, the
// allow-list, and end-to-end findings on compound files built in code.
#include <gtest/gtest.h>
#include <zip.h>

#include <algorithm>
#include <chrono>

#include "formats/vba/keywords.h"
#include "emogate/scanner.h"
#include "formats/vba/ovba.h"
#include "unit/findings.h"
#include "unit/ovba_builder.h"

using namespace emogate;
using emogate::test::find_finding;
using emogate::test::Ole2Builder;
using emogate::test::ovba_compress;
using emogate::test::VbaProjectBuilder;

namespace {

std::string word_doc(const VbaProjectBuilder& p, const std::string& storage = "Macros/VBA") {
  Ole2Builder b(3);
  b.add("WordDocument", std::string(6000, 'w')).add("1Table", std::string(800, 't'));
  p.add_to(b, storage);
  return b.build();
}

}  // namespace

TEST(OvbaDecompress, RoundTrips) {
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "Line " + std::to_string(i % 37) + ": MsgBox \"hello\"\r\n";
  std::string noisy;
  for (int i = 0; i < 9000; ++i) noisy += static_cast<char>((i * 7919) % 251);
  for (const std::string& s : {std::string(), std::string("a"), std::string("abcabcabcabcabc"),
                               std::string(10000, 'x'), long_text, noisy}) {
    bool complete = false;
    EXPECT_EQ(ovba::decompress(ovba_compress(s), 1 << 20, &complete), s);
    EXPECT_TRUE(complete);
  }
}

TEST(OvbaDecompress, LiteralOnlyAndRawChunks) {
  // Literal-only compressed chunk: flag byte 0 then 8 literals.
  std::string c = "\x01";
  const std::string text = "Sub A()\r";  // 8 bytes
  const unsigned header = (1 + 8 - 1) | 0x3000 | 0x8000;
  c += static_cast<char>(header & 0xFF);
  c += static_cast<char>(header >> 8);
  c += '\0' + text;
  EXPECT_EQ(ovba::decompress(c, 100), text);
  // Raw chunk: flag clear, always 4096 bytes.
  std::string raw = "\x01";
  raw += static_cast<char>(0xFF);
  raw += static_cast<char>(0x3F);
  raw += std::string(4096, 'r');
  EXPECT_EQ(ovba::decompress(raw, 1 << 20), std::string(4096, 'r'));
}

TEST(OvbaDecompress, MalformedAndCapped) {
  bool complete = true;
  EXPECT_EQ(ovba::decompress("", 100, &complete), "");
  EXPECT_FALSE(complete);
  EXPECT_EQ(ovba::decompress("\x02\x00\xB0", 100, &complete), "");
  EXPECT_FALSE(complete);
  // A copy token before any output refers outside the chunk.
  std::string bad = std::string("\x01\x03\xB0\x01\x00\x00", 6);
  ovba::decompress(bad, 100, &complete);
  EXPECT_FALSE(complete);
  // Cap: a 10000-byte run stops at max_out.
  std::string out = ovba::decompress(ovba_compress(std::string(10000, 'z')), 777, &complete);
  EXPECT_EQ(out.size(), 777u);
  EXPECT_FALSE(complete);
  // Truncated container keeps what was decoded.
  std::string c = ovba_compress("Attribute VB_Name = \"Module1\"\r\nSub X()\r\nEnd Sub\r\n");
  out = ovba::decompress(std::string_view(c).substr(0, c.size() - 5), 1000, &complete);
  EXPECT_FALSE(complete);
  EXPECT_EQ(out.substr(0, 9), "Attribute");
}

TEST(OvbaDir, ParsesModulesAndCodePage) {
  VbaProjectBuilder p;
  p.codepage = 932;
  p.add("Module1", "x", std::string(40, 'p')).add("ThisDocument", "y");
  p.modules[1].document = true;
  ovba::Dir d = ovba::parse_dir(p.dir_stream());
  EXPECT_EQ(d.codepage, 932);
  EXPECT_EQ(d.project_name, "VBAProject");
  ASSERT_EQ(d.modules.size(), 2u);
  EXPECT_EQ(d.modules[0].name, "Module1");
  EXPECT_EQ(d.modules[0].stream_name, "Module1");
  EXPECT_EQ(d.modules[0].text_offset, 40u);
  EXPECT_TRUE(d.modules[0].procedural);
  EXPECT_FALSE(d.modules[1].procedural);
  EXPECT_TRUE(d.problems.empty());
  // Truncated dir: no crash, a problem.
  ovba::Dir t = ovba::parse_dir(p.dir_stream().substr(0, 70));
  EXPECT_TRUE(t.modules.empty());
  EXPECT_FALSE(t.problems.empty());
}

TEST(OvbaCodePage, ShiftJisToUtf8) {
  // "こんにちは" in Shift_JIS, plus one invalid byte.
  const std::string sjis = "\x82\xB1\x82\xF1\x82\xC9\x82\xBF\x82\xCD";
  EXPECT_EQ(ovba::to_utf8(sjis, 932), "こんにちは");
  EXPECT_NE(ovba::to_utf8(sjis + "\xFF", 932).find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(ovba::to_utf8("caf\xE9", 1252), "café");
}

TEST(VbaKeywords, MraptorStyleRule) {
  auto r = vba::analyze_vba({"Sub AutoOpen()\r\n  Shell \"cmd /c calc\"\r\nEnd Sub\r\n"});
  EXPECT_TRUE(r.malicious());
  EXPECT_EQ(r.detail(), "autoexec: AutoOpen; execute: Shell");

  r = vba::analyze_vba({"Sub Document_Open()\r\nMsgBox \"hi\"\r\nEnd Sub"});
  EXPECT_FALSE(r.malicious());
  EXPECT_EQ(r.detail(), "autoexec: Document_Open");

  // Write without auto-exec is not enough; comments do not count.
  r = vba::analyze_vba({"Sub Save()\r\n' Shell would be bad\r\nOpen \"c:\\x.txt\" For Output As #1\r\nEnd Sub"});
  EXPECT_FALSE(r.malicious());
  EXPECT_EQ(r.detail(), "write: Open For Output/Append/Binary");

  // Identifier boundaries: ShellExecute is not Shell; MyShellHelper is neither.
  r = vba::analyze_vba({"Private Sub Workbook_Open()\r\nCall MyShellHelper\r\nShellExecute 0, \"open\"\r\nEnd Sub"});
  EXPECT_EQ(r.execute, std::vector<std::string>{"ShellExecute"});
  EXPECT_TRUE(r.malicious());
}

TEST(VbaKeywords, WindowsApiDeclarations) {
  auto r = vba::analyze_vba({"Private Declare PtrSafe Function VirtualAlloc Lib \"kernel32\" (ByVal a As LongPtr) As LongPtr\r\n"
                             "Sub Workbook_Open()\r\nx = VirtualAlloc(0)\r\nEnd Sub\r\n"});
  EXPECT_TRUE(r.malicious());
  EXPECT_EQ(r.detail(), "autoexec: Workbook_Open; execute: Declare Lib (Windows API), VirtualAlloc");
  // "Declare" without Lib is just a variable name in a comment-free line.
  r = vba::analyze_vba({"Dim declareLater As Integer\r\n"});
  EXPECT_EQ(r.detail(), "");
}

TEST(VbaKeywords, DownloadAndObfuscation) {
  std::string src = "Sub Auto_Open()\r\nSet x = CreateObject(\"MSXML2.XMLHTTP\")\r\nURLDownloadToFile 0, u, f, 0, 0\r\n";
  for (int i = 0; i < 30; ++i) src += "s = s & Chr(" + std::to_string(65 + i) + ")\r\n";
  src += "t = StrReverse(\"llehsrewop\")\r\n";
  src += "b = \"" + std::string(80, 'A') + "==\"\r\nEnd Sub\r\n";
  auto r = vba::analyze_vba({src});
  EXPECT_TRUE(r.malicious());
  const std::string d = r.detail();
  for (const char* k : {"autoexec: Auto_Open", "CreateObject", "URLDownloadToFile", "XMLHTTP", "Chr() x30",
                        "StrReverse", "long base64 string"})
    EXPECT_NE(d.find(k), std::string::npos) << k << " in " << d;
}

TEST(VbaScan, DocWithAutoOpenShellIsMalicious) {
  VbaProjectBuilder p;
  p.add("ThisDocument", "Attribute VB_Name = \"ThisDocument\"\r\n");
  p.modules[0].document = true;
  p.add("Module1", "Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\n  Shell \"calc.exe\"\r\nEnd Sub\r\n",
        std::string(64, '\0'));
  Scanner s{Config{}};
  Report r = s.scan_file(word_doc(p), "invoice.doc");
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_EQ(f->path, "invoice.doc");
  EXPECT_NE(f->detail.find("autoexec: AutoOpen; execute: Shell"), std::string::npos) << f->detail;
  EXPECT_EQ(r.verdict, Verdict::malicious);
  bool source = false;
  for (const auto& o : r.objects)
    if (o.path == "invoice.doc/VBA/Module1.bas") source = o.type == "vba_source" && o.derived;
  EXPECT_TRUE(source);
  // Streams are children too.
  EXPECT_TRUE(std::any_of(r.objects.begin(), r.objects.end(),
                          [](const ObjectSummary& o) { return o.path == "invoice.doc/Macros/VBA/dir"; }));
}

TEST(VbaScan, MsgBoxOnlyIsSuspicious) {
  VbaProjectBuilder p;
  p.add("Module1", "Sub AutoOpen()\r\nMsgBox \"Hello\"\r\nEnd Sub\r\n");
  Scanner s{Config{}};
  Report r = s.scan_file(word_doc(p), "hello.doc");
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::suspicious);
  EXPECT_EQ(find_finding(r, FindingType::malformed), nullptr);
}

TEST(VbaScan, ExcelProjectAndJapaneseCodePage) {
  VbaProjectBuilder p;
  p.codepage = 932;
  p.add("ThisWorkbook", "Private Sub Workbook_Open()\r\nMsgBox \"\x82\xB1\x82\xF1\x82\xC9\x82\xBF\x82\xCD\"\r\nEnd Sub\r\n");
  Ole2Builder b(3);
  b.add("Workbook", std::string(5000, 'b'));
  p.add_to(b, "_VBA_PROJECT_CUR/VBA");
  Scanner s{Config{}};
  Report r = s.scan_file(b.build(), "請求書.xls");
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("_VBA_PROJECT_CUR/VBA"), std::string::npos);
  EXPECT_NE(f->detail.find("codepage 932"), std::string::npos);
  bool found = false;
  for (const auto& o : r.objects)
    if (o.path == "請求書.xls/VBA/ThisWorkbook.bas") found = o.size > 0;
  EXPECT_TRUE(found);
}

TEST(VbaScan, Version4VbaProjectBin) {
  // vbaProject.bin as found inside .docm/.xlsm: the VBA storage at the root.
  VbaProjectBuilder p;
  p.add("Module1", "Sub Document_Open()\r\nSet o = CreateObject(\"WScript.Shell\")\r\no.Run \"x\"\r\nEnd Sub\r\n");
  Ole2Builder b(4);
  p.add_to(b, "VBA");
  Scanner s{Config{}};
  Report r = s.scan_file(b.build(), "vbaProject.bin");
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("execute: WScript.Shell, CreateObject, Run"), std::string::npos) << f->detail;
}

TEST(VbaScan, StompedProjectIsMalicious) {
  VbaProjectBuilder p;
  // The p-code carries a string the (decoy) source does not contain.
  std::string pcode = std::string("\x01\x02\x00", 3) + "Downloading the second stage now" +
                      std::string("\x00\x00", 2) + "powershell hidden window payload" + std::string(8, '\0');
  p.add("Module1", "Attribute VB_Name = \"Module1\"\r\nSub Hello()\r\nMsgBox \"Fake\"\r\nEnd Sub\r\n", pcode);
  Scanner s{Config{}};
  Report r = s.scan_file(word_doc(p), "stomp.doc");
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("stomped"), std::string::npos) << f->detail;

  // Same p-code, honest source containing those strings: not stomped.
  VbaProjectBuilder honest;
  honest.add("Module1", "Sub Hello()\r\n' Downloading the second stage now\r\nx = \"powershell hidden window payload\"\r\nEnd Sub\r\n", pcode);
  r = s.scan_file(word_doc(honest), "honest.doc");
  f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->detail.find("stomped"), std::string::npos) << f->detail;

  // P-code with no source at all.
  VbaProjectBuilder gone = p;
  gone.modules[0].source = "Attribute VB_Name = \"Module1\"\r\n";
  r = s.scan_file(word_doc(gone), "gone.doc");
  f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("stomped"), std::string::npos) << f->detail;
}

TEST(VbaScan, MailuStompedSample) {
  const char* shared = std::getenv("EMOGATE_SHARED");
  std::string path = std::string(shared ? shared : "../shared") + "/corpus/mailu/2003x32_word_msgbox_stomped_fakecode.doc";
  FILE* fp = std::fopen(path.c_str(), "rb");
  if (!fp) GTEST_SKIP() << "corpus file absent: " << path;
  std::string bytes;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) bytes.append(buf, n);
  std::fclose(fp);
  Scanner s{Config{}};
  Report r = s.scan_file(bytes, "stomped.doc");
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("stomped"), std::string::npos) << f->detail;
}

TEST(VbaScan, AllowListsLowerTheVerdict) {
  VbaProjectBuilder p;
  const std::string src = "Sub AutoOpen()\r\nShell \"x\"\r\nEnd Sub\r\n";
  p.add("Module1", src);
  const std::string doc = word_doc(p);
  // The documented hash: SHA-256 of the decompressed sources in dir order.
  Config c;
  {
    Scanner s{Config{}};
    const Report first = s.scan_file(doc, "a.doc");
    const Finding* f = find_finding(first, FindingType::vba_macro);
    ASSERT_NE(f, nullptr);
    std::size_t at = f->detail.find("sha256 ");
    ASSERT_NE(at, std::string::npos);
    c.macros.allow_project_sha256 = {f->detail.substr(at + 7, 64)};
  }
  Scanner allowed{c};
  Report r = allowed.scan_file(doc, "a.doc");
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::clean);
  EXPECT_NE(f->detail.find("allow-listed (project sha256)"), std::string::npos);
  EXPECT_NE(f->detail.find("autoexec: AutoOpen"), std::string::npos);

  // Sender domain, via a message with the document attached.
  Config d;
  d.macros.allow_sender_domains = {"Partner.example"};
  Scanner by_domain{d};
  std::string b64;
  {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < doc.size(); i += 3) {
      unsigned v = static_cast<unsigned char>(doc[i]) << 16;
      if (i + 1 < doc.size()) v |= static_cast<unsigned char>(doc[i + 1]) << 8;
      if (i + 2 < doc.size()) v |= static_cast<unsigned char>(doc[i + 2]);
      b64 += tbl[v >> 18 & 63];
      b64 += tbl[v >> 12 & 63];
      b64 += i + 1 < doc.size() ? tbl[v >> 6 & 63] : '=';
      b64 += i + 2 < doc.size() ? tbl[v & 63] : '=';
      if ((i / 3) % 19 == 18) b64 += "\r\n";
    }
  }
  const std::string msg =
      "From: a@partner.example\r\nSubject: doc\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
      "--b\r\nContent-Type: application/msword; name=\"a.doc\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      b64 + "\r\n--b--\r\n";
  Envelope env;
  env.sender = "a@partner.example";
  r = by_domain.scan_message(msg, env);
  f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::clean);
  EXPECT_NE(f->detail.find("allow-listed (sender domain partner.example)"), std::string::npos) << f->detail;
  env.sender = "a@elsewhere.example";
  r = by_domain.scan_message(msg, env);
  f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::malicious);
}

TEST(VbaScan, HostileDirIsBounded) {
  // One big module stream listed many times, and a name with slashes.
  VbaProjectBuilder p;
  std::string big = "Sub X()\r\n" + std::string(200000, ' ') + "\r\nEnd Sub\r\n";
  for (int i = 0; i < 3000; ++i) p.add("../../evil/Mod", "");  // the dir only needs the names
  Ole2Builder b(3);
  b.add("Macros/VBA/dir", ovba_compress(p.dir_stream()));
  b.add("Macros/VBA/../../evil/Mod", ovba_compress(big));
  Scanner s{Config{}};
  const auto t0 = std::chrono::steady_clock::now();
  Report r = s.scan_file(b.build(), "x.doc");
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 1000.0);
  std::printf("hostile dir scanned in %.1f ms\n", ms);
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  int sources = 0;
  for (const auto& o : r.objects) {
    if (o.type != "vba_source") continue;
    ++sources;
    EXPECT_EQ(o.path.find("x.doc/VBA/"), 0u) << o.path;
    EXPECT_EQ(o.path.find('/', 10), std::string::npos) << o.path;  // no fake levels
  }
  EXPECT_EQ(sources, 1);
}

TEST(VbaScan, DocmWithAutoOpenShellIsMalicious) {
  // A .docm built in code: the zip extractor hands word/vbaProject.bin back
  // to the engine as an "ole2" object.
  const std::string bin =
      emogate::test::vba_project_bin("NewMacros", "Sub AutoOpen()\r\n  Shell \"powershell -w hidden -c iex\"\r\nEnd Sub\r\n");
  const std::string types =
      "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
      "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/>"
      "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/></Types>";
  const std::string path = ::testing::TempDir() + "emogate_test.docm";
  std::remove(path.c_str());
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  for (auto [name, data] : {std::pair<const char*, const std::string*>{"[Content_Types].xml", &types},
                            {"word/vbaProject.bin", &bin}}) {
    zip_source_t* src = zip_source_buffer(z, data->data(), data->size(), 0);
    ASSERT_GE(zip_file_add(z, name, src, ZIP_FL_OVERWRITE), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
  std::FILE* fp = std::fopen(path.c_str(), "rb");
  ASSERT_NE(fp, nullptr);
  std::string docm;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) docm.append(buf, n);
  std::fclose(fp);
  std::remove(path.c_str());
  Scanner s{Config{}};
  Report r = s.scan_file(docm, "invoice.docm");
  const Finding* f = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "invoice.docm/word/vbaProject.bin");
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("autoexec: AutoOpen; execute: Shell; download: powershell"), std::string::npos) << f->detail;
  EXPECT_TRUE(std::any_of(r.objects.begin(), r.objects.end(), [](const ObjectSummary& o) {
    return o.path == "invoice.docm/word/vbaProject.bin/VBA/NewMacros.bas";
  }));
}
