// Whole-engine tests for issue 3: Japanese mails (ISO-2022-JP, Shift_JIS
// HTML) carrying encrypted ZIPs whose password is printed in the mail.
#include <gtest/gtest.h>

#include <algorithm>

#include "emogate/scanner.h"
#include "unit/corpus_fixtures.h"
#include "unit/mail_fixtures.h"
#include "unit/zip_fixtures.h"

using namespace emogate;
using namespace emogate::test;

namespace {

// A tiny PE header is enough for the type detector to call it an executable.
std::string fake_exe() { return std::string("MZ\x90\x00", 4) + std::string(200, 'A'); }

const Finding* finding(const Report& r, FindingType t) {
  auto it = std::find_if(r.findings.begin(), r.findings.end(), [&](const Finding& f) { return f.type == t; });
  return it == r.findings.end() ? nullptr : &*it;
}

std::string dump(const Report& r) { return to_json(r); }

std::string iso2022_body(const std::string& utf8) { return convert(utf8, "ISO-2022-JP"); }

Report scan(const std::string& mail, Config cfg = {}) {
  Scanner s(std::move(cfg));
  return s.scan_message(mail);
}

const char* kBodyWithPassword =
    "株式会社サンプル\n経理部 ご担当者様\n\nいつもお世話になっております。\n"
    "請求書を添付いたしますのでご確認ください。\n\n解凍パスワードは Ab3dEf9 です\n\nよろしくお願いいたします。\n";

}  // namespace

TEST(EncryptedZipScan, Iso2022jpMailOpensAes256Zip) {
  std::string zip = make_zip({{"請求書.exe", fake_exe(), ZIP_EM_AES_256, "Ab3dEf9"}});
  std::string mail = make_mail("=?ISO-2022-JP?B?GyRCQDFKOD1xGyhC?=",
                               {{"text/plain; charset=ISO-2022-JP", iso2022_body(kBodyWithPassword), ""},
                                {"application/zip", zip, "請求書.zip"}});
  Report r = scan(mail);
  const Finding* dec = finding(r, FindingType::archive_decrypted);
  ASSERT_TRUE(dec) << dump(r);
  EXPECT_NE(dec->detail.find("text/plain part 1, line 7, after \"解凍パスワード\""), std::string::npos) << dec->detail;
  EXPECT_NE(dec->detail.find("Ab*****"), std::string::npos) << dec->detail;
  EXPECT_EQ(dec->detail.find("Ab3dEf9"), std::string::npos) << "password must be masked";
  const Finding* exe = finding(r, FindingType::dangerous_type);
  ASSERT_TRUE(exe) << dump(r);
  EXPECT_NE(exe->path.find("請求書.zip/請求書.exe"), std::string::npos) << exe->path;
  // Everything opened: no encrypted_archive, and archive_decrypted is clean
  // by default; the executable inside decides.
  EXPECT_FALSE(finding(r, FindingType::encrypted_archive)) << dump(r);
  EXPECT_EQ(dec->path, "請求書.zip");
  EXPECT_EQ(dec->verdict, Verdict::clean);
  auto inner = std::find_if(r.objects.begin(), r.objects.end(),
                            [](const ObjectSummary& o) { return o.name == "請求書.exe"; });
  ASSERT_NE(inner, r.objects.end());
  EXPECT_NE(inner->provenance.find("AES-256"), std::string::npos) << inner->provenance;
  EXPECT_EQ(inner->type, "pe");
}

TEST(EncryptedZipScan, WithoutPasswordListsMembers) {
  std::string zip = make_zip({{"請求書.exe", fake_exe(), ZIP_EM_AES_256, "Ab3dEf9"},
                              {"readme.txt", "plain text", ZIP_EM_AES_256, "Ab3dEf9"}});
  std::string mail = make_mail("invoice", {{"text/plain; charset=ISO-2022-JP",
                                            iso2022_body("請求書を添付いたします。\nご確認ください。\n"), ""},
                                           {"application/zip", zip, "請求書.zip"}});
  Report r = scan(mail);
  const Finding* enc = finding(r, FindingType::encrypted_archive);
  ASSERT_TRUE(enc) << dump(r);
  EXPECT_NE(enc->detail.find("2 of 2 encrypted member(s) not opened"), std::string::npos) << enc->detail;
  EXPECT_NE(enc->detail.find("請求書.exe (204 bytes, AES-256)"), std::string::npos) << enc->detail;
  EXPECT_NE(enc->detail.find("readme.txt"), std::string::npos);
  EXPECT_EQ(enc->verdict, Verdict::suspicious);
  EXPECT_FALSE(finding(r, FindingType::archive_decrypted));
  EXPECT_FALSE(finding(r, FindingType::dangerous_type));
}

TEST(EncryptedZipScan, ShiftJisHtmlFullWidthPasswordZipCrypto) {
  std::string zip = make_zip({{"doc.js", "WScript.Echo(1)", ZIP_EM_TRAD_PKWARE, "XYz9876"}});
  std::string html = convert(
      "<html><head><meta charset=\"Shift_JIS\"></head><body><p>資料を送付します。</p>"
      "<p>パスワード：<b>ＸＹｚ９８７６</b></p></body></html>",
      "SHIFT_JIS");
  std::string mail = make_mail("資料", {{"text/html; charset=Shift_JIS", html, ""},
                                        {"application/octet-stream", zip, "資料.zip"}});
  Report r = scan(mail);
  const Finding* dec = finding(r, FindingType::archive_decrypted);
  ASSERT_TRUE(dec) << dump(r);
  EXPECT_NE(dec->detail.find("text/html part 1"), std::string::npos) << dec->detail;
  EXPECT_NE(dec->detail.find("after \"パスワード\""), std::string::npos) << dec->detail;
  const Finding* js = finding(r, FindingType::dangerous_type);
  ASSERT_TRUE(js) << dump(r);
  EXPECT_NE(js->path.find("doc.js"), std::string::npos);
}

TEST(EncryptedZipScan, Cp932PasswordAndClearTextOption) {
  std::string cp932_pw = convert("パス1234", "CP932");
  std::string zip = make_zip({{"a.exe", fake_exe(), ZIP_EM_TRAD_PKWARE, cp932_pw}});
  std::string mail = make_mail("件名", {{"text/plain; charset=UTF-8", "暗証番号：パス1234\n", ""},
                                        {"application/zip", zip, "a.zip"}});
  Config cfg;
  cfg.passwords.show_in_reports = true;
  Report r = scan(mail, cfg);
  const Finding* dec = finding(r, FindingType::archive_decrypted);
  ASSERT_TRUE(dec) << dump(r);
  EXPECT_NE(dec->detail.find("パス1234 (as CP932 bytes)"), std::string::npos) << dec->detail;
}

TEST(EncryptedZipScan, PasswordInSubjectAndStaticList) {
  std::string zip1 = make_zip({{"a.exe", fake_exe(), ZIP_EM_AES_128, "subj3ct"}});
  std::string zip2 = make_zip({{"b.exe", fake_exe(), ZIP_EM_AES_192, "infected"}});
  std::string mail = make_mail("=?UTF-8?B?" + base64("請求書 PW: subj3ct").substr(0, base64("請求書 PW: subj3ct").size() - 2) + "?=",
                               {{"text/plain; charset=UTF-8", "see attachments\n", ""},
                                {"application/zip", zip1, "a.zip"},
                                {"application/zip", zip2, "b.zip"}});
  Report r = scan(mail);
  std::vector<std::string> details;
  for (const auto& f : r.findings)
    if (f.type == FindingType::archive_decrypted) details.push_back(f.detail);
  ASSERT_EQ(details.size(), 2u) << dump(r);
  EXPECT_NE(details[0].find("Subject, line 1, after \"PW\""), std::string::npos) << details[0];
  EXPECT_NE(details[1].find("from the configuration ([passwords] static_list)"), std::string::npos) << details[1];
  EXPECT_EQ(details[1].find("from the message"), std::string::npos) << details[1];
  EXPECT_FALSE(finding(r, FindingType::encrypted_archive)) << dump(r);
}

// libzip's regression archives, attached to a mail that states the
// documented password: each must be decrypted through the whole engine.
TEST(EncryptedZipScan, LibzipCorpusThroughTheEngine) {
  auto corpus = libzip_password_corpus();
  if (corpus.empty()) GTEST_SKIP() << "no corpus at " << libzip_corpus_dir();
  Scanner scanner{Config{}};
  for (const auto& c : corpus) {
    std::string mail = make_mail("files", {{"text/plain; charset=UTF-8", "Password: " + c.password + "\n", ""},
                                           {"application/zip", c.bytes, c.file}});
    Report r = scanner.scan_message(mail);
    SCOPED_TRACE(c.file);
    const Finding* dec = finding(r, FindingType::archive_decrypted);
    ASSERT_TRUE(dec) << dump(r);
    EXPECT_NE(dec->detail.find("after \"Password\""), std::string::npos) << dec->detail;
    EXPECT_FALSE(finding(r, FindingType::encrypted_archive)) << dump(r);
    if (c.file == "hmac-error.zip") {
      EXPECT_TRUE(finding(r, FindingType::malformed)) << dump(r);
    }
  }
  EXPECT_GT(corpus.size(), 5u);
}

// The finding contract: archive_decrypted (verdict opened_archive_verdict,
// clean by default) for members that opened, encrypted_archive only for
// members no candidate opened, listing them. A site that holds every
// password ZIP raises opened_archive_verdict.
TEST(EncryptedZipScan, OpenedArchiveVerdictSetting) {
  std::string text = make_zip({{"notes.txt", "quarterly figures attached", ZIP_EM_AES_256, "Ab3dEf9"}});
  std::string both = make_zip({{"notes.txt", "quarterly figures", ZIP_EM_AES_256, "Ab3dEf9"},
                               {"other.txt", "another password", ZIP_EM_TRAD_PKWARE, "Zz99xx77"}});
  auto mail_with = [&](const std::string& zip) {
    return make_mail("files", {{"text/plain; charset=UTF-8", "パスワード：Ab3dEf9\n", ""},
                               {"application/zip", zip, "files.zip"}});
  };
  Report r = scan(mail_with(text));
  EXPECT_EQ(r.verdict, Verdict::clean) << dump(r);
  EXPECT_FALSE(finding(r, FindingType::encrypted_archive)) << dump(r);
  ASSERT_TRUE(finding(r, FindingType::archive_decrypted)) << dump(r);
  EXPECT_EQ(finding(r, FindingType::archive_decrypted)->verdict, Verdict::clean);

  Config hold_ppap;
  hold_ppap.passwords.opened_archive_verdict = Verdict::suspicious;
  r = scan(mail_with(text), hold_ppap);
  EXPECT_EQ(r.verdict, Verdict::suspicious) << dump(r);
  EXPECT_EQ(finding(r, FindingType::archive_decrypted)->verdict, Verdict::suspicious);
  EXPECT_FALSE(finding(r, FindingType::encrypted_archive)) << dump(r);

  r = scan(mail_with(both));
  const Finding* enc = finding(r, FindingType::encrypted_archive);
  ASSERT_TRUE(enc) << dump(r);
  EXPECT_NE(enc->detail.find("1 of 2 encrypted member(s) not opened"), std::string::npos) << enc->detail;
  EXPECT_NE(enc->detail.find("other.txt"), std::string::npos) << enc->detail;
  EXPECT_EQ(enc->detail.find("notes.txt"), std::string::npos) << enc->detail;
  EXPECT_EQ(enc->verdict, Verdict::suspicious);

  Config locked_is_fine;
  locked_is_fine.verdicts[FindingType::encrypted_archive] = Verdict::clean;
  r = scan(mail_with(both), locked_is_fine);
  EXPECT_EQ(r.verdict, Verdict::clean) << dump(r);
}

// WinZip AES over a compression method libzip cannot read (PPMd here; LZMA,
// XZ and Zstandard alike when libzip lacks them): the member stays locked,
// which is encrypted_archive, not only malformed. The method is patched into
// the AES extra field (0x9901) of a libzip-made archive.
TEST(EncryptedZipScan, AesOverUnsupportedMethodIsEncryptedArchive) {
  std::string zip = make_zip({{"請求書.exe", fake_exe(), ZIP_EM_AES_256, "Ab3dEf9"}});
  const std::string aes_extra("\x01\x99\x07\x00", 4);
  int patched = 0;
  for (std::size_t at = zip.find(aes_extra); at != std::string::npos; at = zip.find(aes_extra, at + 1)) {
    zip[at + 9] = 98;  // actual compression method: PPMd
    zip[at + 10] = 0;
    ++patched;
  }
  ASSERT_EQ(patched, 2);
  Report r = scan(make_mail("files", {{"text/plain; charset=UTF-8", "see attached\n", ""},
                                      {"application/zip", zip, "請求書.zip"}}));
  const Finding* enc = finding(r, FindingType::encrypted_archive);
  ASSERT_TRUE(enc) << dump(r);
  EXPECT_NE(enc->detail.find("請求書.exe"), std::string::npos) << enc->detail;
  EXPECT_NE(enc->detail.find("compression method 98 not supported"), std::string::npos) << enc->detail;
  EXPECT_NE(r.verdict, Verdict::clean);
}
