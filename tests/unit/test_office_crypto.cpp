// Encrypted Office packages: fixtures encrypted in code (agile and standard,
// MS-OFFCRYPTO) with Excel's default password must be decrypted and their
// content analysed; a password from the mail opens it too (archive_decrypted,
// judged by content); other passwords give encrypted_document only.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "emogate/scanner.h"
#include "formats/office_crypto/office_crypto.h"
#include "unit/findings.h"
#include "unit/office_crypto_fixtures.h"
#include "unit/mail_fixtures.h"
#include "unit/ovba_builder.h"

using namespace emogate;
using emogate::test::find_finding;
using emogate::test::Ole2Builder;
using emogate::test::VbaProjectBuilder;
using namespace emogate::test::office_crypto_fixture;

namespace {

std::string macro_payload() {
  VbaProjectBuilder p;
  p.add("Module1", "Sub AutoOpen()\r\nShell \"calc\"\r\nEnd Sub\r\n");
  Ole2Builder b(3);
  b.add("WordDocument", std::string(5000, 'w'));
  p.add_to(b, "Macros/VBA");
  return b.build();
}

}  // namespace

TEST(OfficeCrypto, AgileWithDefaultPasswordIsDecryptedAndAnalysed) {
  const std::string plain = macro_payload();
  Scanner s{Config{}};
  Report r = s.scan_file(container(agile_encrypt(plain, "VelvetSweatshop")), "invoice.xlsm");
  const Finding* e = find_finding(r, FindingType::encrypted_document);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->detail.find("agile encryption (AES-256, SHA512"), std::string::npos) << e->detail;
  EXPECT_NE(e->detail.find("VelvetSweatshop"), std::string::npos);
  EXPECT_EQ(e->verdict, Verdict::clean);  // informational: the content decides
  const Finding* v = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->path, "invoice.xlsm/decrypted.xlsm");
  EXPECT_EQ(v->verdict, Verdict::malicious);
}

TEST(OfficeCrypto, StandardWithDefaultPasswordIsDecrypted) {
  const std::string plain = macro_payload();
  const auto enc = standard_encrypt(plain, "VelvetSweatshop");
  office_crypto::EncryptionInfo info = office_crypto::parse_encryption_info(enc.first);
  EXPECT_EQ(office_crypto::describe(info), "standard encryption (AES-128, version 3.2)");
  std::string out;
  EXPECT_EQ(office_crypto::decrypt_package(info, enc.second, "wrong", 1 << 20, out),
            office_crypto::DecryptResult::wrong_password);
  ASSERT_EQ(office_crypto::decrypt_package(info, enc.second, "VelvetSweatshop", 1 << 20, out),
            office_crypto::DecryptResult::ok);
  EXPECT_EQ(out, plain);
  Scanner s{Config{}};
  Report r = s.scan_file(container(enc), "a.docm");
  ASSERT_NE(find_finding(r, FindingType::vba_macro), nullptr);
}

TEST(OfficeCrypto, OtherPasswordOnlyFlagged) {
  Scanner s{Config{}};
  Report r = s.scan_file(container(agile_encrypt(macro_payload(), "s3cret!")), "a.docx");
  const Finding* e = find_finding(r, FindingType::encrypted_document);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->detail.find("decrypted"), std::string::npos);
  EXPECT_EQ(find_finding(r, FindingType::vba_macro), nullptr);
}

TEST(OfficeCrypto, HostileEncryptionInfo) {
  auto enc = agile_encrypt("x", "VelvetSweatshop");
  // Truncations of the info and of the package never crash.
  for (std::size_t n : {0u, 3u, 8u, 40u, 200u}) {
    office_crypto::EncryptionInfo info = office_crypto::parse_encryption_info(enc.first.substr(0, n));
    std::string out;
    EXPECT_NE(office_crypto::decrypt_package(info, enc.second.substr(0, n / 10), "VelvetSweatshop", 1 << 20, out),
              office_crypto::DecryptResult::ok);
  }
  // A package claiming more bytes than it holds.
  auto big = enc;
  Ole2Builder::set32(big.second, 0, 0x7FFFFFFF);
  office_crypto::EncryptionInfo info = office_crypto::parse_encryption_info(big.first);
  std::string out;
  EXPECT_EQ(office_crypto::decrypt_package(info, big.second, "VelvetSweatshop", 1 << 20, out),
            office_crypto::DecryptResult::malformed);
}

// The password printed in the mail opens an encrypted document too; the
// report says where it was found and masks it.
TEST(OfficeCrypto, PasswordFromTheMailOpensTheDocument) {
  const std::string doc = container(agile_encrypt(macro_payload(), "Kx7-pq2w"));
  const std::string mail = emogate::test::make_mail(
      "ご請求書", {{"text/plain; charset=UTF-8", "お世話になっております。\n文書のパスワード：Kx7-pq2w\n", ""},
                   {"application/vnd.ms-word.document.macroEnabled.12", doc, "請求書.docm"}});
  Scanner s{Config{}};
  Report r = s.scan_message(mail);
  // Opened with the sender's password: archive_decrypted, like a ZIP opened
  // with one (clean by default: its content decides), and no
  // encrypted_document left to flag it.
  EXPECT_EQ(find_finding(r, FindingType::encrypted_document), nullptr) << to_json(r);
  const Finding* e = find_finding(r, FindingType::archive_decrypted);
  ASSERT_NE(e, nullptr) << to_json(r);
  EXPECT_EQ(e->verdict, Verdict::clean);
  EXPECT_EQ(e->path, "請求書.docm");
  EXPECT_NE(e->detail.find("agile encryption (AES-256, SHA512"), std::string::npos) << e->detail;
  EXPECT_NE(e->detail.find("decrypted with password Kx******"), std::string::npos) << e->detail;
  EXPECT_NE(e->detail.find("text/plain part 1, line 2"), std::string::npos) << e->detail;
  EXPECT_EQ(e->detail.find("Kx7-pq2w"), std::string::npos) << "masked";
  const Finding* v = find_finding(r, FindingType::vba_macro);
  ASSERT_NE(v, nullptr) << to_json(r);
  EXPECT_EQ(v->path, "請求書.docm/decrypted.docm");

  // With no mined candidate allowed, the same mail leaves it locked.
  Config none;
  none.passwords.max_document_candidates = 0;
  Report locked = Scanner{none}.scan_message(mail);
  ASSERT_NE(find_finding(locked, FindingType::encrypted_document), nullptr);
  EXPECT_EQ(find_finding(locked, FindingType::vba_macro), nullptr) << to_json(locked);
}

// ---- PowerPoint 97-2003 encryption without an EncryptedSummary stream ----

namespace {

std::string le16(std::uint16_t v) { return {char(v & 0xFF), char(v >> 8)}; }
std::string ppt_rec(std::uint16_t ver_inst, std::uint16_t type, const std::string& body) {
  return le16(ver_inst) + le16(type) + le32(static_cast<std::uint32_t>(body.size())) + body;
}

// [MS-OFFCRYPTO] 2.3.5.1 RC4 CryptoAPI EncryptionInfo, as PowerPoint keeps it
// in the CryptSession10Container.
std::string rc4_cryptoapi_info() {
  const std::string csp = utf16("Microsoft Enhanced Cryptographic Provider v1.0") + std::string(2, '\0');
  const std::string header = le32(0x04) + le32(0) + le32(0x6801) + le32(0x8004) + le32(128) + le32(1) + le32(0) +
                             le32(0) + csp;
  return le16(4) + le16(2) + le32(0x04) + le32(static_cast<std::uint32_t>(header.size())) + header + le32(16) +
         std::string(16, '\x5A') + std::string(16, '\xC3') + le32(20) + std::string(20, '\x3C');
}

struct Ppt {
  std::string current_user, document;
};

// The records [MS-PPT] 2.3.7 uses to locate the encryption: the
// CurrentUserAtom (headerToken, offsetToCurrentEdit), the UserEditAtom
// (offsetPersistDirectory, encryptSessionPersistIdRef), the
// PersistDirectoryAtom and the CryptSession10Container (0x2F14). With
// `encrypted` false the same document is written unencrypted: the ordinary
// token, a 28-byte UserEditAtom and no crypt session.
Ppt ppt(bool encrypted, bool token = true) {
  std::string doc = ppt_rec(0x000F, 0x03E8, std::string(200, '\x9D'));  // DocumentContainer (encrypted bytes)
  const std::uint32_t crypt_at = static_cast<std::uint32_t>(doc.size());
  if (encrypted) doc += ppt_rec(0x000F, 0x2F14, rc4_cryptoapi_info());
  const std::uint32_t dir_at = static_cast<std::uint32_t>(doc.size());
  std::string dir = encrypted ? le32(1u | 2u << 20) + le32(0) + le32(crypt_at) : le32(1u | 1u << 20) + le32(0);
  doc += ppt_rec(0, 0x1772, dir);
  const std::uint32_t edit_at = static_cast<std::uint32_t>(doc.size());
  std::string edit = le32(256) + le16(0) + std::string(1, '\0') + std::string(1, '\3') + le32(0) + le32(dir_at) +
                     le32(1) + le32(encrypted ? 2 : 1) + le16(1) + le16(0);
  if (encrypted) edit += le32(2);  // encryptSessionPersistIdRef
  doc += ppt_rec(0, 0x0FF5, edit);
  const std::string user = ppt_rec(0, 0x0FF6, le32(0x14) + le32(encrypted && token ? 0xF3D1C4DF : 0xE391C05F) +
                                                   le32(edit_at) + le16(4) + le16(0x03F4) + std::string("\3\0", 2) +
                                                   le16(0) + "user" + le32(8) + utf16("user"));
  return {user, doc};
}

std::string ppt_file(const Ppt& p) {
  Ole2Builder b(3);
  b.add("PowerPoint Document", p.document).add("Current User", p.current_user);
  return b.build();
}

}  // namespace

TEST(PptEncryption, CryptSessionWithoutEncryptedSummaryIsEncryptedDocument) {
  Report r = Scanner{Config{}}.scan_file(ppt_file(ppt(true)), "deck.ppt");
  const Finding* e = find_finding(r, FindingType::encrypted_document);
  ASSERT_NE(e, nullptr) << to_json(r);
  EXPECT_EQ(e->path, "deck.ppt");
  EXPECT_EQ(e->verdict, Verdict::suspicious);
  EXPECT_NE(e->detail.find("RC4 encryption (version 4.2)"), std::string::npos) << e->detail;
  EXPECT_NE(e->detail.find("CryptSession10Container"), std::string::npos) << e->detail;
  EXPECT_NE(e->detail.find("CurrentUserAtom header token"), std::string::npos) << e->detail;
}

TEST(PptEncryption, SessionReferenceAloneIsEnough) {
  // A writer that leaves the ordinary header token: the UserEditAtom and the
  // container it points to still say encrypted.
  const Ppt p = ppt(true, false);
  const auto enc = office_crypto::ppt_encryption(p.current_user, p.document);
  EXPECT_TRUE(enc.encrypted);
  EXPECT_TRUE(enc.container);
  EXPECT_EQ(enc.info.scheme, office_crypto::Scheme::rc4);
  EXPECT_EQ(enc.evidence.find("header token"), std::string::npos);
  Report r = Scanner{Config{}}.scan_file(ppt_file(p), "deck.ppt");
  EXPECT_NE(find_finding(r, FindingType::encrypted_document), nullptr) << to_json(r);
}

TEST(PptEncryption, PlainPresentationIsNotEncrypted) {
  const Ppt p = ppt(false);
  EXPECT_FALSE(office_crypto::ppt_encryption(p.current_user, p.document).encrypted);
  Report r = Scanner{Config{}}.scan_file(ppt_file(p), "deck.ppt");
  EXPECT_EQ(find_finding(r, FindingType::encrypted_document), nullptr) << to_json(r);
  EXPECT_EQ(r.verdict, Verdict::clean) << to_json(r);
}

TEST(PptEncryption, HostileRecordsNeverCrash) {
  const Ppt p = ppt(true);
  for (std::size_t n = 0; n <= p.document.size(); n += 7) {
    office_crypto::ppt_encryption(p.current_user, p.document.substr(0, n));
    office_crypto::ppt_encryption(p.current_user.substr(0, n % (p.current_user.size() + 1)), p.document);
  }
  // An edit chain pointing at itself ends; a session reference the persist
  // directory does not resolve still says encrypted.
  Ppt loop = ppt(true, false);
  const std::size_t edit_at = loop.document.size() - 8 - 32;
  Ole2Builder::set32(loop.document, edit_at + 8 + 8, static_cast<std::uint32_t>(edit_at));
  Ole2Builder::set32(loop.document, edit_at + 8 + 28, 7);
  const auto enc = office_crypto::ppt_encryption(loop.current_user, loop.document);
  EXPECT_TRUE(enc.encrypted);
  EXPECT_FALSE(enc.container);
}

// ---- key-derivation budget ----

namespace {

// An agile stub with the given spinCount: the verifier is garbage, so every
// password try runs the whole derivation and fails.
std::string agile_stub(std::uint32_t spin) {
  auto enc = agile_encrypt("stub", "not-a-candidate");
  const std::string from = "spinCount=\"1000\"";
  enc.first.replace(enc.first.find(from), from.size(), "spinCount=\"" + std::to_string(spin) + "\"");
  return container(enc);
}

const Finding* limit(const Report& r, std::string_view name) {
  return find_finding(r, FindingType::limit_exceeded, {.limit = name});
}

}  // namespace

TEST(KdfBudget, SpinCountFarAboveOfficesIsLimitExceededNotTried) {
  Report r = Scanner{Config{}}.scan_file(agile_stub(1000000), "stub.docx");
  const Finding* l = limit(r, "max_spin_count");
  ASSERT_NE(l, nullptr) << to_json(r);
  EXPECT_NE(l->detail.find("1000000"), std::string::npos) << l->detail;
  EXPECT_NE(find_finding(r, FindingType::encrypted_document), nullptr);
  EXPECT_EQ(limit(r, "max_kdf_rounds"), nullptr) << "nothing was tried";
}

TEST(KdfBudget, TriesStopWhenTheMessageBudgetIsSpent) {
  // Ten stubs at 1,000 rounds per try, three candidates each (the default
  // password and two from the text), but room for five tries in all.
  std::vector<emogate::test::MailPart> parts = {
      {"text/plain; charset=UTF-8", "パスワード: Pw-1111\nPassword: Pw-2222\n", ""}};
  for (int i = 0; i < 10; ++i)
    parts.push_back({"application/vnd.openxmlformats-officedocument.wordprocessingml.document", agile_stub(1000),
                     "stub" + std::to_string(i) + ".docx"});
  const std::string mail = emogate::test::make_mail("stubs", parts);
  Config c;
  c.limits.max_kdf_rounds = 5000;
  Report r = Scanner{c}.scan_message(mail);
  const Finding* l = limit(r, "max_kdf_rounds");
  ASSERT_NE(l, nullptr) << to_json(r);
  EXPECT_NE(l->detail.find("5000 of 5000"), std::string::npos) << l->detail;
  int encrypted = 0;
  for (const auto& f : r.findings) encrypted += f.type == FindingType::encrypted_document;
  EXPECT_EQ(encrypted, 10) << "every stub is still reported";

  // With the default budget all thirty tries fit.
  Report all = Scanner{Config{}}.scan_message(mail);
  EXPECT_EQ(limit(all, "max_kdf_rounds"), nullptr) << to_json(all);
}

TEST(KdfBudget, DefaultPasswordTryIsChargedToo) {
  // Room for no try at all: the document that Excel's password would open
  // stays locked, and says why.
  Config c;
  c.limits.max_kdf_rounds = 999;
  Report r = Scanner{c}.scan_file(container(agile_encrypt(macro_payload(), "VelvetSweatshop")), "a.xlsm");
  EXPECT_NE(limit(r, "max_kdf_rounds"), nullptr) << to_json(r);
  EXPECT_EQ(find_finding(r, FindingType::vba_macro), nullptr) << to_json(r);
  const Finding* e = find_finding(r, FindingType::encrypted_document);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->verdict, Verdict::suspicious);
}

TEST(KdfBudget, ConfigKeysAndBounds) {
  Config d = parse_config("", "x.toml");
  EXPECT_EQ(d.limits.max_kdf_rounds, 2000000u);
  EXPECT_EQ(d.limits.max_spin_count, 500000u);
  Config c = parse_config("[limits]\nmax_kdf_rounds = 300000\nmax_spin_count = 100000\n", "x.toml");
  EXPECT_EQ(c.limits.max_kdf_rounds, 300000u);
  EXPECT_EQ(c.limits.max_spin_count, 100000u);
  for (const char* bad : {"[limits]\nmax_spin_count = 20000000\n", "[limits]\nmax_kdf_rounds = -1\n"}) {
    try {
      parse_config(bad, "x.toml");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.line, 2) << bad;
    }
  }
}
