// PPAP (password in a second mail): the members' cheap check data, the
// pending blob and its parser, the follow-up-mail miner shapes, the hold
// decision, the matcher's security rules and the rescan with the found
// password, all on archives and mails built here.
#include <gtest/gtest.h>

#include <algorithm>

#include "emogate/scanner.h"
#include "formats/mime/text_body.h"
#include "formats/passwords/miner.h"
#include "formats/zip/check_data.h"
#include "formats/zip/directory.h"
#include "formats/passwords/ppap_blob.h"
#include "ppap/ppap.h"
#include "unit/findings.h"
#include "unit/ppap_fixtures.h"
#include "unit/test_files.h"

using namespace emogate;
using namespace emogate::test;
namespace ez = emogate::zip;
namespace ep = emogate::ppap;

namespace {

const std::string kPw = "Xk7pQ2mZ";

ez::MemberCheck only_check(const std::string& zip) {
  auto dir = ez::read_directory(zip, 10);
  EXPECT_EQ(dir.entries.size(), 1u);
  auto c = ez::member_check(dir.entries.at(0), zip);
  EXPECT_TRUE(c.has_value());
  return c.value_or(ez::MemberCheck{});
}

int wrong_passes(const ez::MemberCheck& c, int n) {
  int pass = 0;
  for (int i = 0; i < n; ++i) pass += ez::check_password(c, "wrong" + std::to_string(i));
  return pass;
}

const Envelope kEnv{"Q1", "sender@example.co.jp", {"user@example.jp", "boss@example.jp"}, {}, {}};

struct Held {
  Report report;
  ep::PpapBlob blob;
};

Held hold(const Scanner& s, const std::string& mail) {
  Held h{s.scan_message(mail, kEnv), {}};
  auto d = ppap::hold_decision(h.report, s.config().ppap);
  EXPECT_TRUE(d.holdable) << d.reason << "\n" << dump(h.report);
  std::string why;
  auto b = ppap::pending_blob(h.report, kEnv, &why);
  EXPECT_TRUE(b) << why;
  if (b) h.blob = *b;
  return h;
}

ppap::FollowUp follow_up(const Scanner& s, const std::string& mail, std::int64_t now = 1000) {
  ScanOptions o;
  o.mine_follow_up_passwords = true;
  Report r = s.scan_message(mail, {"Q2", "sender@example.co.jp", {"user@example.jp"}, {}, {}}, o);
  return {"sender@example.co.jp", r.ppap.from, {"user@example.jp"}, "Q2", r.ppap.passwords, now};
}

std::vector<ppap::PendingEntry> pending(const ep::PpapBlob& b) { return {{"entry-1", b, 900, 900 + 1800}}; }

std::vector<ppap::Unlock> run_match(const std::vector<ppap::PendingEntry>& e, const ppap::FollowUp& f,
                                    const PpapSettings& s = {}) {
  KdfBudget budget(2000000);
  return ppap::match(e, f, s, budget);
}

bool mined(const std::vector<PasswordCandidate>& c, const std::string& pw) {
  return std::any_of(c.begin(), c.end(), [&](const PasswordCandidate& x) { return x.password == pw; });
}

}  // namespace

// ---- check data ----

TEST(PpapCheckData, ZipCryptoWithoutDescriptorUsesTheCrcByte) {
  std::string z = zipcrypto_stored_zip("a.txt", "見積書 contents", kPw, false);
  ez::MemberCheck c = only_check(z);
  EXPECT_EQ(c.aes_strength, 0);
  EXPECT_EQ(c.flags & 8, 0);
  EXPECT_EQ(c.header.size(), 12u);
  EXPECT_TRUE(ez::check_password(c, kPw));
  EXPECT_LE(wrong_passes(c, 512), 8);  // a one-byte check: about 2 in 512
  // The archive is real: the full check (decrypt + CRC) accepts the password.
  auto dir = ez::read_directory(z, 10);
  const auto& e = dir.entries[0];
  EXPECT_TRUE(ez::password_ok(e, std::string_view(z).substr(e.data_offset, e.compressed_size), kPw));
  // Clearing the check byte's source (the CRC) makes the right password fail.
  c.crc ^= 0xFF000000u;
  EXPECT_FALSE(ez::check_password(c, kPw));
}

TEST(PpapCheckData, ZipCryptoWithDescriptorUsesTheTimeByte) {
  std::string z = zipcrypto_stored_zip("a.txt", "見積書 contents", kPw, true);
  ez::MemberCheck c = only_check(z);
  EXPECT_EQ(c.flags & 8, 8);
  EXPECT_TRUE(ez::check_password(c, kPw));
  EXPECT_LE(wrong_passes(c, 512), 8);
  // Without bit 3 the same header is checked against the CRC and fails.
  c.flags &= ~8u;
  EXPECT_FALSE(ez::check_password(c, kPw));
}

TEST(PpapCheckData, AesStrengthsSaltAndVerifier) {
  for (auto [method, strength] : {std::pair{ZIP_EM_AES_128, 1}, std::pair{ZIP_EM_AES_256, 3}}) {
    std::string z = make_zip({{"a.docx", word_package(false), static_cast<std::uint16_t>(method), kPw}});
    ez::MemberCheck c = only_check(z);
    EXPECT_EQ(c.aes_strength, strength);
    EXPECT_EQ(c.header.size(), 4u + 4u * static_cast<unsigned>(strength) + 2u);
    EXPECT_TRUE(ez::check_password(c, kPw));
    EXPECT_LE(wrong_passes(c, 100), 1);  // a two-byte verifier
    EXPECT_EQ(ez::check_cipher_name(c), strength == 1 ? "AES-128" : "AES-256");
    // AES tries are charged to the key-derivation budget.
    KdfBudget budget(1500);
    EXPECT_TRUE(ez::check_password(c, kPw, &budget));
    EXPECT_FALSE(ez::check_password(c, kPw, &budget));
    EXPECT_TRUE(budget.exhausted());
  }
}

TEST(PpapCheckData, EncodedFormRoundTripsAndRejectsDamage) {
  ez::MemberCheck zc = only_check(zipcrypto_stored_zip("a", "x", kPw, true));
  ez::MemberCheck aes = only_check(make_zip({{"a", "x", ZIP_EM_AES_192, kPw}}));
  for (const auto& c : {zc, aes}) {
    std::string enc = ez::encode_check(c);
    ASSERT_EQ(ez::decode_check(enc), c);
    for (std::size_t n = 0; n < enc.size(); ++n) EXPECT_FALSE(ez::decode_check(enc.substr(0, n))) << n;
    EXPECT_FALSE(ez::decode_check(enc + "x"));
  }
  std::string bad = ez::encode_check(aes);
  bad[1] = 4;  // AES strength 4 does not exist
  EXPECT_FALSE(ez::decode_check(bad));
  bad[0] = 9;  // unknown cipher
  EXPECT_FALSE(ez::decode_check(bad));
  // A plain member has no check data.
  std::string plain = make_zip({{"a", "x", ZIP_EM_NONE, ""}});
  EXPECT_FALSE(ez::member_check(ez::read_directory(plain, 10).entries.at(0), plain));
}

// ---- pending blob ----

namespace {
ep::PpapBlob sample_blob() {
  ep::PpapBlob b;
  b.sender = "sender@example.co.jp";
  b.from = "tanaka@example.co.jp";
  b.subject = "お見積書の送付";
  b.queue_id = "4XyZ1abc";
  b.recipients = {"user@example.jp", "boss@example.jp"};
  b.archives = {{"mitsumori.zip", "mitsumori.zip",
                 {{"見積書.docx", ep::zip_lock(only_check(make_zip({{"a", "x", ZIP_EM_AES_256, kPw}})))},
                  {"b.txt", ep::zip_lock(only_check(zipcrypto_stored_zip("b", "y", kPw, false)))}}},
                {"outer.zip/inner.zip", "inner.zip",
                 {{"c", ep::zip_lock(only_check(zipcrypto_stored_zip("c", "z", kPw, true)))}}}};
  return b;
}
}  // namespace

TEST(PpapBlob, RoundTrips) {
  const ep::PpapBlob b = sample_blob();
  auto enc = ep::encode_ppap_blob(b);
  ASSERT_TRUE(enc);
  std::string error;
  auto back = ep::parse_ppap_blob(*enc, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, b);
}

TEST(PpapBlob, MalformedInputIsRejectedWithAReason) {
  const std::string enc = *ep::encode_ppap_blob(sample_blob());
  // Every truncation.
  for (std::size_t n = 0; n < enc.size(); ++n) {
    std::string error;
    EXPECT_FALSE(ep::parse_ppap_blob(enc.substr(0, n), &error)) << n;
    EXPECT_FALSE(error.empty()) << n;
  }
  std::string error;
  EXPECT_FALSE(ep::parse_ppap_blob(enc + '\0', &error));
  EXPECT_NE(error.find("after the blob"), std::string::npos) << error;
  std::string v3 = enc;
  v3[3] = 3;
  EXPECT_FALSE(ep::parse_ppap_blob(v3, &error));
  EXPECT_NE(error.find("version"), std::string::npos) << error;
  std::string magic = enc;
  magic[0] = 'X';
  EXPECT_FALSE(ep::parse_ppap_blob(magic, &error));
  // A length field pointing past the end, a sender over its bound.
  std::string longer = enc;
  longer[4] = '\xFF';
  longer[5] = '\x7F';
  EXPECT_FALSE(ep::parse_ppap_blob(longer, &error));
  EXPECT_NE(error.find("sender"), std::string::npos) << error;
  // No archive at all, and an archive count over the bound.
  ep::PpapBlob none = sample_blob();
  none.archives.clear();
  EXPECT_FALSE(ep::encode_ppap_blob(none));
  ep::PpapBlob one = sample_blob();
  one.archives.resize(1);
  std::string enc1 = *ep::encode_ppap_blob(one);
  const std::size_t at = enc1.find(std::string("\x01\x0d\x00mitsumori.zip", 16));
  ASSERT_NE(at, std::string::npos);
  for (char n : {'\0', '\x11'}) {
    std::string bad = enc1;
    bad[at] = n;
    EXPECT_FALSE(ep::parse_ppap_blob(bad, &error)) << int(n);
    EXPECT_NE(error.find("number of archives"), std::string::npos) << error;
  }
  // An unknown kind of check data for a member.
  std::string cipher = enc1;
  const std::size_t member = cipher.find("見積書.docx") + std::string("見積書.docx").size();
  cipher[member] = 7;
  EXPECT_FALSE(ep::parse_ppap_blob(cipher, &error));
  EXPECT_NE(error.find("check data"), std::string::npos) << error;
}

TEST(PpapBlob, EncoderRefusesWhatTheParserWouldReject) {
  ep::PpapBlob b = sample_blob();
  b.subject = std::string(ep::PpapBlobBounds::max_subject + 1, 'x');
  EXPECT_FALSE(ep::encode_ppap_blob(b));
  b = sample_blob();
  b.archives.resize(ep::PpapBlobBounds::max_archives + 1, b.archives[0]);
  EXPECT_FALSE(ep::encode_ppap_blob(b));
  b = sample_blob();
  b.archives[0].members.resize(ep::PpapBlobBounds::max_members + 1, b.archives[0].members[0]);
  EXPECT_FALSE(ep::encode_ppap_blob(b));
  b = sample_blob();
  b.recipients.assign(ep::PpapBlobBounds::max_recipients + 1, "r@example.jp");
  EXPECT_FALSE(ep::encode_ppap_blob(b));
}

// ---- follow-up miner ----

TEST(PpapMiner, NoticeSubjectAndBarePasswordLine) {
  std::vector<TextPart> parts = {
      {"Subject", "【パスワード通知】お見積書の送付", false},
      {"text/plain part 1",
       "お世話になっております。\n先ほどお送りした「お見積書の送付」の添付ファイルのパスワードです。\n\n" + kPw +
           "\n\nよろしくお願いいたします。\n",
       false}};
  auto c = mine_follow_up_passwords(parts, 20);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].password, kPw);
  EXPECT_NE(c[0].source.find("text/plain part 1, line 4"), std::string::npos) << c[0].source;
  EXPECT_FALSE(mined(c, "通知】お見積書の送付"));
  EXPECT_FALSE(mined(c, "お見積書の送付"));
  EXPECT_EQ(c.size(), 1u);
}

TEST(PpapMiner, KaitouNoticeAndArchiveNameNextToThePassword) {
  std::vector<TextPart> parts = {{"Subject", "解凍パスワードのお知らせ", false},
                                 {"text/plain part 1", "見積書.zip：Ab3dEf9\n請求書.zip Qr7#kL2p\n", false}};
  auto c = mine_follow_up_passwords(parts, 20);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].password, "Ab3dEf9");
  EXPECT_EQ(c[0].rank, 0);
  EXPECT_NE(c[0].source.find("after the archive name \"見積書.zip\""), std::string::npos) << c[0].source;
  EXPECT_EQ(c[1].password, "Qr7#kL2p");
}

TEST(PpapMiner, Iso2022jpBodyDecodedByTheMimeReader) {
  const std::string raw = convert("件名：お見積書の送付\nファイル名：見積書.zip\nパスワード：" + kPw + "\n", "ISO-2022-JP");
  ASSERT_EQ(raw.find("パスワード"), std::string::npos);  // really ISO-2022-JP bytes
  TextBody body = read_text_body(raw, "ISO-2022-JP", false, 1 << 20);
  auto c = mine_follow_up_passwords({{"text/plain part 1", body.utf8, false}}, 20);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].password, kPw);
  EXPECT_NE(c[0].source.find("after \"パスワード\""), std::string::npos) << c[0].source;
  EXPECT_FALSE(mined(c, "お見積書の送付"));
}

TEST(PpapMiner, BusinessReplyMentioningPasswordGivesNothing) {
  std::vector<TextPart> ja = {{"Subject", "Re: パスワード変更のお願い", false},
                              {"text/plain part 1",
                               "田中様\n\nパスワードの変更をお願いします。\n来週までに対応いたします。\n"
                               "パスワードは別途お送りします。\n\n--\n鈴木\nTEL:03-1234-5678\nsuzuki@example.co.jp\n"
                               "https://example.co.jp/\n2024/04/15\n-----\n",
                               false}};
  auto c = mine_follow_up_passwords(ja, 20);
  EXPECT_TRUE(c.empty()) << c[0].password << " from " << c[0].source;
  std::vector<TextPart> en = {{"Subject", "Re: password reset", false},
                              {"text/plain part 1", "Please reset your password before Monday.\nThanks,\nJohn\n", false}};
  c = mine_follow_up_passwords(en, 20);
  EXPECT_TRUE(c.empty()) << c[0].password << " from " << c[0].source;
  // The ordinary miner does offer prose tokens there; the follow-up miner
  // must not, or they would use up the tries per pending message.
  EXPECT_FALSE(mine_passwords(en, {}, 100).empty());
}

TEST(PpapMiner, CandidatesAreBoundedByTheCallersSetting) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "パスワード：Ab3dEf" + std::to_string(i) + "\n";
  auto c = mine_follow_up_passwords({{"text/plain part 1", text, false}}, 7);
  EXPECT_EQ(c.size(), 7u);
  EXPECT_EQ(c[0].password, "Ab3dEf0");
}

// ---- hold decision ----

TEST(PpapHold, AesZipWithoutPasswordIsHoldable) {
  Scanner s{Config{}};
  Held h = hold(s, ppap_archive_mail(make_zip({{"見積書.docx", word_package(false), ZIP_EM_AES_256, kPw}})));
  ASSERT_EQ(h.blob.archives.size(), 1u);
  EXPECT_EQ(h.blob.archives[0].path, "mitsumori.zip");
  EXPECT_EQ(h.blob.archives[0].members.at(0).name, "見積書.docx");
  EXPECT_EQ(h.blob.sender, "sender@example.co.jp");
  EXPECT_EQ(h.blob.from, "sender@example.co.jp");
  EXPECT_EQ(h.blob.subject, "お見積書の送付");
  EXPECT_EQ(h.blob.queue_id, "Q1");
  EXPECT_EQ(h.blob.recipients, kEnv.recipients);
  EXPECT_EQ(h.report.ppap.to, std::vector<std::string>{"user@example.jp"});
  // The blob survives its binary form.
  EXPECT_EQ(ep::parse_ppap_blob(*ep::encode_ppap_blob(h.blob)), h.blob);
  // Disabled: the normal encrypted_archive action.
  Config off;
  off.ppap.enabled = false;
  EXPECT_FALSE(ppap::hold_decision(h.report, off.ppap).holdable);
}

TEST(PpapHold, MacroDocumentBesideAnEncryptedZipDecidesByItself) {
  Scanner s{Config{}};
  std::string inner = make_zip({{"a.docx", word_package(false), ZIP_EM_AES_256, kPw}});
  Report r = s.scan_message(ppap_archive_mail(make_zip({{"dropper.docm", word_package(true), ZIP_EM_NONE, ""}, {"inner.zip", inner, ZIP_EM_NONE, ""}})), kEnv);
  ASSERT_TRUE(has_finding(r, FindingType::vba_macro)) << dump(r);
  ASSERT_TRUE(has_finding(r, FindingType::encrypted_archive, {.path = "mitsumori.zip/inner.zip"})) << dump(r);
  auto d = ppap::hold_decision(r, s.config().ppap);
  EXPECT_FALSE(d.holdable);
  EXPECT_NE(d.reason.find("vba_macro"), std::string::npos) << d.reason;
  // The same outer zip with a plain document instead: the nested encrypted
  // zip waits, filed under its path inside the message.
  r = s.scan_message(ppap_archive_mail(make_zip({{"plain.docx", word_package(false), ZIP_EM_NONE, ""}, {"inner.zip", inner, ZIP_EM_NONE, ""}})), kEnv);
  d = ppap::hold_decision(r, s.config().ppap);
  EXPECT_TRUE(d.holdable) << d.reason << dump(r);
  auto b = ppap::pending_blob(r, kEnv);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->archives.at(0).path, "mitsumori.zip/inner.zip");
  EXPECT_EQ(b->archives.at(0).name, "inner.zip");
}

TEST(PpapHold, MaliciousFindingElsewhereIsNotHoldable) {
  Scanner s{Config{}};
  std::string mail = make_mail("x", {{"application/zip", make_zip({{"a.docx", word_package(false), ZIP_EM_AES_256, kPw}}), "a.zip"},
                                     {"application/octet-stream", std::string("MZ\x90\x00", 4) + std::string(200, 'A'), "run.exe"}});
  Report r = s.scan_message(mail, kEnv);
  ASSERT_EQ(r.verdict, Verdict::malicious) << dump(r);
  auto d = ppap::hold_decision(r, s.config().ppap);
  EXPECT_FALSE(d.holdable);
  EXPECT_NE(d.reason.find("dangerous_type"), std::string::npos) << d.reason;
}

TEST(PpapHold, WhatCannotBeUnlockedLaterIsNotHoldable) {
  Report r;
  r.verdict = Verdict::suspicious;
  r.findings = {{FindingType::encrypted_archive, "a.7z", "2 encrypted entries", Verdict::suspicious}};
  PpapSettings s;
  EXPECT_FALSE(ppap::hold_decision(r, s).holdable);  // no check data: a 7z
  r.ppap.locked = {{"a.7z", "x", ""}};
  EXPECT_FALSE(ppap::hold_decision(r, s).holdable);  // a member no password opens here
  r.ppap.locked = {{"a.7z", "x", "garbage"}};
  EXPECT_FALSE(ppap::hold_decision(r, s).holdable);  // a worker's answer is not trusted
  r.ppap.locked = {{"a.7z", "x", ep::encode_lock(ep::zip_lock(only_check(zipcrypto_stored_zip("x", "y", kPw, false))))}};
  EXPECT_TRUE(ppap::hold_decision(r, s).holdable);
  r.incomplete = {"temp_dir full"};
  EXPECT_FALSE(ppap::hold_decision(r, s).holdable);  // on_error decides
  r.incomplete.clear();
  r.findings.push_back({FindingType::malformed, "a.7z", "odd", Verdict::suspicious});
  EXPECT_FALSE(ppap::hold_decision(r, s).holdable);
  r.findings.resize(1);
  r.findings[0].verdict = Verdict::clean;  // [verdicts] encrypted_archive = "clean"
  r.verdict = Verdict::clean;
  EXPECT_FALSE(ppap::hold_decision(r, s).holdable);
}

// ---- matcher ----

TEST(PpapMatch, SameSenderSharedRecipientInWindowUnlocks) {
  Scanner s{Config{}};
  Held h = hold(s, ppap_archive_mail(make_zip({{"見積書.docx", word_package(false), ZIP_EM_AES_256, kPw}})));
  auto f = follow_up(s, ppap_password_mail("下記の通りお知らせします。\n\nパスワード：" + kPw + "\n"));
  ASSERT_FALSE(f.passwords.empty());
  auto u = run_match(pending(h.blob), f);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].id, "entry-1");
  EXPECT_TRUE(u[0].all_archives);
  ASSERT_EQ(u[0].passwords.size(), 1u);
  EXPECT_EQ(u[0].passwords[0].password, kPw);
  EXPECT_EQ(u[0].passwords[0].source.rfind("password mail Q2: text/plain part 1, line 3", 0), 0u)
      << u[0].passwords[0].source;
}

TEST(PpapMatch, OtherSenderNoSharedRecipientOrOutsideTheWindowUnlockNothing) {
  Scanner s{Config{}};
  Held h = hold(s, ppap_archive_mail(make_zip({{"見積書.docx", word_package(false), ZIP_EM_AES_256, kPw}})));
  const auto entries = pending(h.blob);
  const auto good = follow_up(s, ppap_password_mail("パスワード：" + kPw + "\n"));
  ASSERT_EQ(run_match(entries, good).size(), 1u);

  auto other = good;
  other.envelope_sender = "attacker@evil.example";
  EXPECT_TRUE(run_match(entries, other).empty());
  auto null_sender = good;
  null_sender.envelope_sender.clear();
  EXPECT_TRUE(run_match(entries, null_sender).empty());
  auto stranger = good;
  stranger.recipients = {"someone@else.example"};
  EXPECT_TRUE(run_match(entries, stranger).empty());
  auto late = good;
  late.now = entries[0].expires_at + 1;
  EXPECT_TRUE(run_match(entries, late).empty());
  auto early = good;
  early.now = entries[0].created_at - 1;
  EXPECT_TRUE(run_match(entries, early).empty());
  auto wrong = good;
  wrong.passwords = {{"Wr0ngPass", "x"}};
  EXPECT_TRUE(run_match(entries, wrong).empty());

  // match = "from": the From address decides, not the envelope sender.
  PpapSettings by_from;
  by_from.match = PpapMatch::from;
  auto forwarded = good;
  forwarded.envelope_sender = "bounces@relay.example";
  EXPECT_EQ(run_match(entries, forwarded, by_from).size(), 1u);
  EXPECT_TRUE(run_match(entries, forwarded).empty());
  auto spoofed = good;
  spoofed.from = "someone@evil.example";
  EXPECT_TRUE(run_match(entries, spoofed, by_from).empty());
}

TEST(PpapMatch, CandidatesTriedPerEntryAreBounded) {
  Scanner s{Config{}};
  Held h = hold(s, ppap_archive_mail(make_zip({{"a.docx", word_package(false), ZIP_EM_AES_128, kPw}})));
  auto f = follow_up(s, ppap_password_mail("パスワード：" + kPw + "\n"));
  std::vector<SourcedPassword> many;
  for (int i = 0; i < 30; ++i) many.push_back({"Decoy" + std::to_string(i) + "x", "decoy"});
  many.push_back(f.passwords.at(0));
  f.passwords = many;
  PpapSettings s20;
  s20.max_candidates_per_entry = 20;
  EXPECT_TRUE(run_match(pending(h.blob), f, s20).empty());
  PpapSettings s40;
  s40.max_candidates_per_entry = 40;
  EXPECT_EQ(run_match(pending(h.blob), f, s40).size(), 1u);
}

// ---- rescan ----

TEST(PpapRescan, FoundPasswordOpensTheHeldMessageAndSaysWhereItCameFrom) {
  Scanner s{Config{}};
  const std::string mail1 = ppap_archive_mail(make_zip({{"見積書.docx", word_package(false), ZIP_EM_AES_256, kPw}}));
  Held h = hold(s, mail1);
  auto u = run_match(pending(h.blob), follow_up(s, ppap_password_mail("パスワード：" + kPw + "\n")));
  ASSERT_EQ(u.size(), 1u);
  Report again = s.scan_message(mail1, kEnv, ppap::rescan_options(u[0]));
  const Finding* dec = find_finding(again, FindingType::archive_decrypted);
  ASSERT_TRUE(dec) << dump(again);
  EXPECT_NE(dec->detail.find("from password mail Q2: text/plain part 1"), std::string::npos) << dec->detail;
  EXPECT_EQ(dec->detail.find(kPw), std::string::npos) << "masked";
  EXPECT_EQ(ppap::outcome(again, s.config().ppap), ppap::Outcome::released) << dump(again);
}

TEST(PpapRescan, MacroDropperInsideStaysFlagged) {
  Scanner s{Config{}};
  const std::string mail1 = ppap_archive_mail(make_zip({{"見積書.docm", word_package(true), ZIP_EM_AES_256, kPw}}));
  Held h = hold(s, mail1);
  auto u = run_match(pending(h.blob), follow_up(s, ppap_password_mail("パスワード：" + kPw + "\n")));
  ASSERT_EQ(u.size(), 1u);
  Report again = s.scan_message(mail1, kEnv, ppap::rescan_options(u[0]));
  EXPECT_TRUE(has_finding(again, FindingType::vba_macro)) << dump(again);
  EXPECT_EQ(again.verdict, Verdict::malicious) << dump(again);
  EXPECT_EQ(ppap::outcome(again, s.config().ppap), ppap::Outcome::flagged);
}

TEST(PpapRescan, ZipCryptoFalsePositiveOfTheCheapCheckStaysLocked) {
  // A ZipCrypto check byte lets about 1 in 256 wrong passwords through;
  // the rescan (a real decryption) is what confirms, and it keeps waiting.
  Scanner s{Config{}};
  const std::string zip = zipcrypto_stored_zip("a.txt", "hello", kPw, false);
  const std::string mail1 = ppap_archive_mail(zip);
  Held h = hold(s, mail1);
  std::string impostor;
  for (int i = 0; i < 100000 && impostor.empty(); ++i) {
    std::string pw = "Fake" + std::to_string(i) + "x";
    if (ez::check_password(h.blob.archives.at(0).members.at(0).check.zip, pw)) impostor = pw;
  }
  ASSERT_FALSE(impostor.empty());
  ppap::Unlock u;
  u.passwords = {{impostor, "password mail Q9: test"}};
  Report again = s.scan_message(mail1, kEnv, ppap::rescan_options(u));
  EXPECT_EQ(ppap::outcome(again, s.config().ppap), ppap::Outcome::still_locked) << dump(again);
}

TEST(PpapBlob, VersionOneLayoutOfTheFuzzSeedStillParses) {
  // Written by hand from the layout in ppap_blob.h: records stored by an
  // earlier emogate must keep parsing, and their checks keep working.
  const std::string seed = slurp(std::string(EMOGATE_SOURCE_DIR) + "/fuzz/seeds/ppap_blob/two_archives.bin");
  ASSERT_FALSE(seed.empty());
  std::string error;
  auto b = ep::parse_ppap_blob(seed, &error);
  ASSERT_TRUE(b) << error;
  EXPECT_EQ(b->subject, "お見積書の送付");
  EXPECT_EQ(b->recipients, (std::vector<std::string>{"user@example.jp", "boss@example.jp"}));
  ASSERT_EQ(b->archives.size(), 2u);
  EXPECT_EQ(b->archives[0].members[0].check.kind, ep::LockKind::zip_member);
  EXPECT_EQ(b->archives[0].members[0].check.zip.aes_strength, 3);
  EXPECT_EQ(b->archives[0].members[1].check.zip.crc, 0xdeadbeefu);
  EXPECT_EQ(b->archives[0].members[1].check.zip.flags, 9);
  EXPECT_EQ(b->archives[1].path, "outer.zip/inner.zip");
  EXPECT_FALSE(b->archives[0].document());
  // Written again, it is a version 2 blob (kind-tagged checks) saying the same.
  auto again = ep::encode_ppap_blob(*b);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)[3], 2);
  EXPECT_NE(*again, seed);
  EXPECT_EQ(ep::parse_ppap_blob(*again), b);
}
