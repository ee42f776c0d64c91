// PPAP for encrypted Office documents: the document's password-check data
// (office_crypto/check_data.h), the kind-tagged lock that carries it
// (passwords/lock_check.h) and the pending blob, the hold decision, the
// matcher (through the key-derivation budget) and the rescan with the
// password from the second mail, on documents encrypted here.
#include <gtest/gtest.h>

#include "emogate/scanner.h"
#include "formats/office_crypto/check_data.h"
#include "formats/passwords/lock_check.h"
#include "formats/passwords/ppap_blob.h"
#include "ppap/ppap.h"
#include "unit/findings.h"
#include "unit/office_crypto_fixtures.h"
#include "unit/ppap_fixtures.h"
#include "unit/test_files.h"

using namespace emogate;
using namespace emogate::test;
namespace oc = emogate::office_crypto;
namespace ep = emogate::ppap;

namespace {

const std::string kPw = "Hq4-mT9z";
const std::string kXlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const Envelope kEnv{"Q1", "sender@example.co.jp", {"user@example.jp", "boss@example.jp"}, {}, {}};

std::pair<std::string, std::string> agile(const std::string& pw = kPw, bool macro = false) {
  return agile_encrypt(word_package(macro), pw);
}

// Mail 1 of a pair: the encrypted document (and more parts), no password.
std::string document_mail(const std::string& doc, std::vector<MailPart> more = {}) {
  std::vector<MailPart> parts = {
      {"text/plain; charset=ISO-2022-JP",
       convert("見積書を送付いたします。\nパスワードは別途お送りします。\n", "ISO-2022-JP"), ""},
      {kXlsx, doc, "見積書.xlsx"}};
  parts.insert(parts.end(), more.begin(), more.end());
  return make_mail(utf8_subject("お見積書の送付"), parts);
}

ep::FollowUp follow_up(const Scanner& s, const std::string& mail) {
  ScanOptions o;
  o.mine_follow_up_passwords = true;
  Report r = s.scan_message(mail, {"Q2", "sender@example.co.jp", {"user@example.jp"}, {}, {}}, o);
  return {"sender@example.co.jp", r.ppap.from, {"user@example.jp"}, "Q2", r.ppap.passwords, 1000};
}

std::vector<ep::PendingEntry> pending(const ep::PpapBlob& b) { return {{"entry-1", b, 900, 900 + 1800}}; }

std::vector<ep::Unlock> run_match(const std::vector<ep::PendingEntry>& e, const ep::FollowUp& f,
                                  std::uint64_t rounds = 2000000) {
  KdfBudget budget(rounds);
  return ep::match(e, f, PpapSettings{}, budget);
}

ep::PpapBlob held(const Scanner& s, const std::string& mail, Report* report = nullptr) {
  Report r = s.scan_message(mail, kEnv);
  auto d = ep::hold_decision(r, s.config().ppap);
  EXPECT_TRUE(d.holdable) << d.reason << "\n" << dump(r);
  std::string why;
  auto b = ep::pending_blob(r, kEnv, &why);
  EXPECT_TRUE(b) << why;
  if (report) *report = r;
  return b.value_or(ep::PpapBlob{});
}

}  // namespace

// ---- the document's check data ----

TEST(OfficeCheckData, VerifiesThePasswordWithoutThePackage) {
  // One package for both encryptions and the comparison: libzip stamps the
  // clock's time, so two builds across a two-second boundary differ.
  const std::string package = word_package(false);
  for (const auto& enc : {agile_encrypt(package, kPw), standard_encrypt(package, kPw)}) {
    const oc::EncryptionInfo info = oc::parse_encryption_info(enc.first);
    auto c = oc::password_check(info);
    ASSERT_TRUE(c) << oc::describe(info);
    EXPECT_TRUE(c->key_value_enc.empty() && c->data_salt.empty()) << "only what verifies a password is kept";
    EXPECT_EQ(oc::check_password(*c, kPw), oc::DecryptResult::ok) << oc::describe(info);
    EXPECT_EQ(oc::check_password(*c, "Hq4-mT9y"), oc::DecryptResult::wrong_password);
    EXPECT_EQ(oc::check_password(info, kPw), oc::DecryptResult::ok);
    // The full decryption agrees with the check.
    std::string out;
    EXPECT_EQ(oc::decrypt_package(info, enc.second, kPw, 1 << 20, out), oc::DecryptResult::ok);
    EXPECT_EQ(out, package);
  }
}

TEST(OfficeCheckData, EncodedFormRoundTripsAndRejectsMalformedInput) {
  for (const auto& enc : {agile(), standard_encrypt("x", kPw)}) {
    const oc::EncryptionInfo c = *oc::password_check(oc::parse_encryption_info(enc.first));
    std::string bytes;
    ASSERT_TRUE(oc::encode_check(c, bytes));
    ByteReader in(bytes);
    oc::EncryptionInfo back;
    ASSERT_TRUE(oc::decode_check(in, back));
    EXPECT_EQ(in.left(), 0u);
    EXPECT_EQ(back, c);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      ByteReader cut(std::string_view(bytes).substr(0, n));
      EXPECT_FALSE(oc::decode_check(cut, back)) << n;
    }
  }
  const oc::EncryptionInfo c = *oc::password_check(oc::parse_encryption_info(agile().first));
  std::string bytes;
  ASSERT_TRUE(oc::encode_check(c, bytes));
  auto rejects = [&](std::size_t at, char v) {
    std::string bad = bytes;
    bad[at] = v;
    ByteReader in(bad);
    oc::EncryptionInfo out;
    return !oc::decode_check(in, out);
  };
  EXPECT_TRUE(rejects(0, 9));        // unknown scheme
  EXPECT_TRUE(rejects(1, 0));        // unknown hash
  EXPECT_TRUE(rejects(1, 5));
  EXPECT_TRUE(rejects(2, 7));        // key size not 16/24/32 bytes
  EXPECT_TRUE(rejects(6, '\x7F'));   // spinCount over the format's maximum
  EXPECT_TRUE(rejects(8, '\x10'));   // salt longer than its bound
  // Not what password_check() makes: refused by the encoder too.
  oc::EncryptionInfo odd = c;
  odd.pw_hash = "MD5";
  std::string none;
  EXPECT_FALSE(oc::encode_check(odd, none));
  EXPECT_TRUE(none.empty());
  oc::EncryptionInfo rc4;
  rc4.scheme = oc::Scheme::rc4;
  EXPECT_FALSE(oc::password_check(rc4));
}

TEST(LockCheck, BothKindsRoundTripAndChargeTheBudget) {
  const ep::LockCheck office = *ep::office_lock(oc::parse_encryption_info(agile().first));
  EXPECT_EQ(office.kind, ep::LockKind::office_package);
  const std::string enc = ep::encode_lock(office);
  ASSERT_FALSE(enc.empty());
  EXPECT_EQ(enc[0], 1);
  EXPECT_EQ(ep::decode_lock(enc), office);
  EXPECT_FALSE(ep::decode_lock(enc + "x"));
  std::string unknown = enc;
  unknown[0] = 2;
  EXPECT_FALSE(ep::decode_lock(unknown));
  EXPECT_EQ(ep::lock_cipher_name(office), "Office agile encryption (AES-256, SHA512, version 4.4)");

  // Each Office try costs the spinCount (1000 in the fixture), taken first.
  KdfBudget budget(2500);
  EXPECT_FALSE(ep::check_password(office, "wrong", budget));
  EXPECT_TRUE(ep::check_password(office, kPw, budget));
  EXPECT_EQ(budget.used(), 2000u);
  EXPECT_FALSE(budget.exhausted());
  EXPECT_FALSE(ep::check_password(office, kPw, budget)) << "a try that does not fit is not made";
  EXPECT_TRUE(budget.exhausted());
  EXPECT_EQ(budget.used(), 2000u);

  const ep::LockCheck zip = ep::zip_lock(*emogate::zip::member_check(
      emogate::zip::read_directory(zipcrypto_stored_zip("a", "b", kPw, false), 10).entries.at(0),
      zipcrypto_stored_zip("a", "b", kPw, false)));
  EXPECT_EQ(ep::encode_lock(zip)[0], 0);
  EXPECT_EQ(ep::decode_lock(ep::encode_lock(zip)), zip);
}

TEST(PpapBlob, OfficeMembersRoundTripInVersionTwo) {
  ep::PpapBlob b;
  b.sender = "sender@example.co.jp";
  b.recipients = {"user@example.jp"};
  b.archives = {{"見積書.xlsx", "見積書.xlsx", {{"EncryptedPackage", *ep::office_lock(oc::parse_encryption_info(agile().first))}}},
                {"s.docx", "s.docx", {{"EncryptedPackage", *ep::office_lock(oc::parse_encryption_info(standard_encrypt("x", kPw).first))}}},
                {"a.zip", "a.zip", {{"a", ep::zip_lock(*emogate::zip::member_check(
                                              emogate::zip::read_directory(zipcrypto_stored_zip("a", "b", kPw, false), 10).entries.at(0),
                                              zipcrypto_stored_zip("a", "b", kPw, false)))}}}};
  auto enc = ep::encode_ppap_blob(b);
  ASSERT_TRUE(enc);
  EXPECT_EQ((*enc)[3], ep::kPpapBlobVersion);
  std::string error;
  auto back = ep::parse_ppap_blob(*enc, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, b);
  EXPECT_TRUE(back->archives[0].document());
  EXPECT_TRUE(back->archives[1].document());
  EXPECT_FALSE(back->archives[2].document());
  for (std::size_t n = 0; n < enc->size(); ++n) EXPECT_FALSE(ep::parse_ppap_blob(enc->substr(0, n))) << n;
  // A version 1 blob has no kind bytes: an Office member cannot be in one.
  std::string v1 = *enc;
  v1[3] = 1;
  EXPECT_FALSE(ep::parse_ppap_blob(v1, &error));
  EXPECT_NE(error.find("check data"), std::string::npos) << error;
}

// ---- hold decision ----

TEST(PpapOffice, EncryptedWorkbookWithoutPasswordIsHoldable) {
  Scanner s{Config{}};
  Report r;
  ep::PpapBlob b = held(s, document_mail(container(agile())), &r);
  const Finding* e = find_finding(r, FindingType::encrypted_document);
  ASSERT_NE(e, nullptr) << dump(r);
  EXPECT_EQ(e->path, "見積書.xlsx");
  ASSERT_EQ(b.archives.size(), 1u);
  EXPECT_EQ(b.archives[0].path, "見積書.xlsx");
  EXPECT_TRUE(b.archives[0].document());
  ASSERT_EQ(b.archives[0].members.size(), 1u);
  EXPECT_EQ(b.archives[0].members[0].name, "EncryptedPackage");
  EXPECT_EQ(b.archives[0].members[0].check.office.spin_count, 1000u);
  EXPECT_EQ(ep::parse_ppap_blob(*ep::encode_ppap_blob(b)), b);
  // Standard encryption waits too.
  held(s, document_mail(container(standard_encrypt(word_package(false), kPw))));
}

TEST(PpapOffice, WhatDecidesByItselfOrCannotBeCheckedIsNotHoldable) {
  Scanner s{Config{}};
  // A malicious finding elsewhere in the message wins.
  Report r = s.scan_message(
      document_mail(container(agile()), {{"application/octet-stream", std::string("MZ\x90\x00", 4) + std::string(200, 'A'),
                                          "run.exe"}}),
      kEnv);
  auto d = ep::hold_decision(r, s.config().ppap);
  EXPECT_FALSE(d.holdable);
  EXPECT_NE(d.reason.find("dangerous_type"), std::string::npos) << d.reason;
  // A spinCount over [limits] max_spin_count: no password tried, limit_exceeded decides.
  Config low;
  low.limits.max_spin_count = 999;
  r = Scanner{low}.scan_message(document_mail(container(agile())), kEnv);
  EXPECT_FALSE(ep::hold_decision(r, low.ppap).holdable) << dump(r);
  // An encrypted document without check data (a binary Word document with
  // RC4 encryption, which emogate cannot decrypt) cannot wait.
  r.findings = {{FindingType::encrypted_document, "a.doc", "Word binary document with RC4 encryption", Verdict::suspicious}};
  r.verdict = Verdict::suspicious;
  r.ppap.locked.clear();
  d = ep::hold_decision(r, PpapSettings{});
  EXPECT_FALSE(d.holdable);
  EXPECT_NE(d.reason.find("no password-check data"), std::string::npos) << d.reason;
  // A worker's garbage is not trusted.
  r.ppap.locked = {{"a.doc", "EncryptedPackage", std::string("\x01\x02", 2)}};
  EXPECT_FALSE(ep::hold_decision(r, PpapSettings{}).holdable);
}

TEST(PpapOffice, WorkbookOpenedWithExcelsDefaultPasswordDoesNotBlockAWaitingZip) {
  Scanner s{Config{}};
  const std::string zip = make_zip({{"a.docx", word_package(false), ZIP_EM_AES_256, kPw}});
  ep::PpapBlob b = held(s, document_mail(container(agile("VelvetSweatshop")), {{"application/zip", zip, "a.zip"}}));
  ASSERT_EQ(b.archives.size(), 1u);
  EXPECT_EQ(b.archives[0].path, "a.zip");
}

// ---- match and rescan ----

TEST(PpapOffice, PasswordMailOpensTheWorkbookAndTheRescanReleasesIt) {
  Scanner s{Config{}};
  const std::string mail1 = document_mail(container(agile()));
  const ep::PpapBlob b = held(s, mail1);
  auto u = run_match(pending(b), follow_up(s, ppap_password_mail("下記の通りお知らせします。\n\nパスワード：" + kPw + "\n")));
  ASSERT_EQ(u.size(), 1u);
  EXPECT_TRUE(u[0].all_archives);
  ASSERT_EQ(u[0].passwords.size(), 1u);
  EXPECT_EQ(u[0].passwords[0].password, kPw);
  Report again = s.scan_message(mail1, kEnv, ep::rescan_options(u[0]));
  const Finding* dec = find_finding(again, FindingType::archive_decrypted);
  ASSERT_NE(dec, nullptr) << dump(again);
  EXPECT_EQ(dec->path, "見積書.xlsx");
  EXPECT_NE(dec->detail.find("decrypted with password Hq****** from password mail Q2: text/plain part 1"),
            std::string::npos)
      << dec->detail;
  EXPECT_EQ(dec->detail.find(kPw), std::string::npos) << "masked";
  EXPECT_EQ(find_finding(again, FindingType::encrypted_document), nullptr) << dump(again);
  EXPECT_EQ(ep::outcome(again, s.config().ppap), ep::Outcome::released) << dump(again);
}

TEST(PpapOffice, WrongPasswordOtherSenderOrTooSmallABudgetUnlockNothing) {
  Scanner s{Config{}};
  const ep::PpapBlob b = held(s, document_mail(container(agile())));
  const auto good = follow_up(s, ppap_password_mail("パスワード：" + kPw + "\n"));
  ASSERT_EQ(run_match(pending(b), good).size(), 1u);
  auto wrong = good;
  wrong.passwords = {{"Hq4-mT9y", "x"}};
  EXPECT_TRUE(run_match(pending(b), wrong).empty());
  auto other = good;
  other.envelope_sender = "attacker@evil.example";
  EXPECT_TRUE(run_match(pending(b), other).empty());
  // One try costs the spinCount: a budget below it makes none, and says so.
  KdfBudget small(999);
  EXPECT_TRUE(ep::match(pending(b), good, PpapSettings{}, small).empty());
  EXPECT_TRUE(small.exhausted());
  EXPECT_EQ(small.used(), 0u);
}

TEST(PpapOffice, MacroWorkbookStaysFlaggedAfterTheRescan) {
  Scanner s{Config{}};
  const std::string mail1 = document_mail(container(agile(kPw, true)));
  const ep::PpapBlob b = held(s, mail1);
  auto u = run_match(pending(b), follow_up(s, ppap_password_mail("パスワード：" + kPw + "\n")));
  ASSERT_EQ(u.size(), 1u);
  Report again = s.scan_message(mail1, kEnv, ep::rescan_options(u[0]));
  EXPECT_TRUE(has_finding(again, FindingType::vba_macro)) << dump(again);
  EXPECT_EQ(again.verdict, Verdict::malicious);
  EXPECT_EQ(ep::outcome(again, s.config().ppap), ep::Outcome::flagged);
}

TEST(PpapOffice, ZipAndWorkbookInOneMessageOpenWithOnePasswordMail) {
  Scanner s{Config{}};
  const std::string zip = make_zip({{"明細.docx", word_package(false), ZIP_EM_AES_256, kPw}});
  const std::string mail1 =
      document_mail(container(standard_encrypt(word_package(false), kPw)), {{"application/zip", zip, "meisai.zip"}});
  const ep::PpapBlob b = held(s, mail1);
  ASSERT_EQ(b.archives.size(), 2u);
  EXPECT_NE(b.archives[0].document(), b.archives[1].document());
  auto u = run_match(pending(b), follow_up(s, ppap_password_mail("パスワード：" + kPw + "\n")));
  ASSERT_EQ(u.size(), 1u);
  EXPECT_TRUE(u[0].all_archives);
  Report again = s.scan_message(mail1, kEnv, ep::rescan_options(u[0]));
  EXPECT_TRUE(has_finding(again, FindingType::archive_decrypted, {.path = "見積書.xlsx"})) << dump(again);
  EXPECT_TRUE(has_finding(again, FindingType::archive_decrypted, {.path = "meisai.zip"})) << dump(again);
  EXPECT_EQ(ep::outcome(again, s.config().ppap), ep::Outcome::released) << dump(again);

  // A password mail with only the workbook's password leaves the ZIP
  // locked: the rescan keeps the message waiting.
  const std::string zip2 = make_zip({{"明細.docx", word_package(false), ZIP_EM_AES_256, "OtherPw77"}});
  const std::string mail2 =
      document_mail(container(standard_encrypt(word_package(false), kPw)), {{"application/zip", zip2, "meisai.zip"}});
  const ep::PpapBlob b2 = held(s, mail2);
  u = run_match(pending(b2), follow_up(s, ppap_password_mail("パスワード：" + kPw + "\n")));
  ASSERT_EQ(u.size(), 1u);
  EXPECT_FALSE(u[0].all_archives);
  again = s.scan_message(mail2, kEnv, ep::rescan_options(u[0]));
  EXPECT_EQ(ep::outcome(again, s.config().ppap), ep::Outcome::still_locked) << dump(again);
}

TEST(PpapBlob, VersionTwoFuzzSeedWithDocumentsParses) {
  // Written by hand from the layout in ppap_blob.h and check_data.h.
  const std::string seed =
      slurp(std::string(EMOGATE_SOURCE_DIR) + "/fuzz/seeds/ppap_blob/office_documents.bin");
  ASSERT_FALSE(seed.empty());
  std::string error;
  auto b = ep::parse_ppap_blob(seed, &error);
  ASSERT_TRUE(b) << error;
  ASSERT_EQ(b->archives.size(), 3u);
  EXPECT_TRUE(b->archives[0].document());
  EXPECT_EQ(b->archives[0].members[0].check.office.scheme, oc::Scheme::agile);
  EXPECT_EQ(b->archives[0].members[0].check.office.spin_count, 1000u);
  EXPECT_EQ(b->archives[0].members[0].check.office.pw_hash, "SHA512");
  EXPECT_EQ(b->archives[1].members[0].check.office.scheme, oc::Scheme::standard);
  EXPECT_EQ(b->archives[1].members[0].check.office.key_bits, 128u);
  EXPECT_EQ(b->archives[2].members[0].check.zip.aes_strength, 3);
  EXPECT_EQ(ep::encode_ppap_blob(*b), seed);
  // Its checks are tried (and fail) within a budget.
  KdfBudget budget(2000000);
  for (const auto& a : b->archives) EXPECT_FALSE(ep::check_password(a.members[0].check, kPw, budget));
  EXPECT_EQ(budget.used(), 1000u + 50000u + 1000u);
}
