// Encrypted Office packages: fixtures encrypted in code (agile and standard,
// MS-OFFCRYPTO) with Excel's default password must be decrypted and their
// content analysed; other passwords give encrypted_document only.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "emogate/scanner.h"
#include "extract/office_crypto.h"
#include "unit/mail_fixtures.h"
#include "unit/ovba_builder.h"

using namespace emogate;
using emogate::test::Ole2Builder;
using emogate::test::VbaProjectBuilder;

namespace {

std::string H(const EVP_MD* md, const std::string& a) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(a.data(), a.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}
std::string le32(std::uint32_t v) {
  std::string s;
  Ole2Builder::put32(s, v);
  return s;
}
std::string utf16(const std::string& ascii) {
  std::string s;
  for (char c : ascii) s += {c, '\0'};
  return s;
}
std::string aes_enc(const std::string& key, const std::string& iv, std::string data) {
  data.resize((data.size() + 15) / 16 * 16, '\0');
  const EVP_CIPHER* c = key.size() == 32 ? (iv.empty() ? EVP_aes_256_ecb() : EVP_aes_256_cbc())
                                         : (iv.empty() ? EVP_aes_128_ecb() : EVP_aes_128_cbc());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, c, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                     iv.empty() ? nullptr : reinterpret_cast<const unsigned char*>(iv.data()));
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  std::string out(data.size(), '\0');
  int len = 0;
  EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                    reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  EVP_CIPHER_CTX_free(ctx);
  return out;
}
std::string b64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(n);
  return out;
}
std::string iterate(const EVP_MD* md, const std::string& salt, const std::string& pw, std::uint32_t n) {
  std::string h = H(md, salt + utf16(pw));
  for (std::uint32_t i = 0; i < n; ++i) h = H(md, le32(i) + h);
  return h;
}
std::string sized(const std::string& plain) {
  return le32(static_cast<std::uint32_t>(plain.size())) + le32(0);
}

// Agile: SHA-512, AES-256-CBC, small spin count to keep the test fast.
std::pair<std::string, std::string> agile_encrypt(const std::string& plain, const std::string& pw) {
  const EVP_MD* md = EVP_sha512();
  const std::string data_salt(16, '\x11'), pw_salt(16, '\x22'), secret(32, '\x33'), vin(16, '\x44');
  const std::string hn = iterate(md, pw_salt, pw, 1000);
  auto key = [&](const char* blk) { return H(md, hn + std::string(blk, 8)).substr(0, 32); };
  const std::string evi = aes_enc(key("\xfe\xa7\xd2\x76\x3b\x4b\x9e\x79"), pw_salt, vin);
  const std::string evv = aes_enc(key("\xd7\xaa\x0f\x6d\x30\x61\x34\x4e"), pw_salt, H(md, vin));
  const std::string ekv = aes_enc(key("\x14\x6e\x0b\xe7\xab\xac\xd0\xd6"), pw_salt, secret);
  std::string pkg = sized(plain);
  for (std::size_t off = 0, seg = 0; off < plain.size(); off += 4096, ++seg)
    pkg += aes_enc(secret, H(md, data_salt + le32(static_cast<std::uint32_t>(seg))).substr(0, 16), plain.substr(off, 4096));
  const std::string xml =
      "<?xml version=\"1.0\"?><encryption xmlns=\"http://schemas.microsoft.com/office/2006/encryption\" "
      "xmlns:p=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\"><keyData saltSize=\"16\" "
      "blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" cipherAlgorithm=\"AES\" cipherChaining=\"ChainingModeCBC\" "
      "hashAlgorithm=\"SHA512\" saltValue=\"" + b64(data_salt) + "\"/><keyEncryptors><keyEncryptor "
      "uri=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\"><p:encryptedKey spinCount=\"1000\" "
      "saltSize=\"16\" blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" cipherAlgorithm=\"AES\" "
      "cipherChaining=\"ChainingModeCBC\" hashAlgorithm=\"SHA512\" saltValue=\"" + b64(pw_salt) +
      "\" encryptedVerifierHashInput=\"" + b64(evi) + "\" encryptedVerifierHashValue=\"" + b64(evv) +
      "\" encryptedKeyValue=\"" + b64(ekv) + "\"/></keyEncryptor></keyEncryptors></encryption>";
  return {std::string("\x04\x00\x04\x00\x40\x00\x00\x00", 8) + xml, pkg};
}

// Standard: AES-128-ECB, SHA-1, 50,000 rounds.
std::pair<std::string, std::string> standard_encrypt(const std::string& plain, const std::string& pw) {
  const EVP_MD* sha1 = EVP_sha1();
  const std::string salt(16, '\x55'), verifier(16, '\x66');
  const std::string h = H(sha1, iterate(sha1, salt, pw, 50000) + le32(0));
  std::string b1(64, '\x36'), b2(64, '\x5c');
  for (std::size_t i = 0; i < h.size(); ++i) b1[i] ^= h[i], b2[i] ^= h[i];
  const std::string key = (H(sha1, b1) + H(sha1, b2)).substr(0, 16);
  std::string header = le32(0x24) + le32(0) + le32(0x660E) + le32(0x8004) + le32(128) + le32(0x18) + le32(0) +
                       le32(0) + utf16("X") + std::string(2, '\0');
  std::string info = std::string("\x03\x00\x02\x00", 4) + le32(0x24) + le32(static_cast<std::uint32_t>(header.size())) +
                     header + le32(16) + salt + aes_enc(key, {}, verifier) + le32(20) + aes_enc(key, {}, H(sha1, verifier));
  return {info, sized(plain) + aes_enc(key, {}, plain)};
}

std::string container(const std::pair<std::string, std::string>& enc) {
  Ole2Builder b(3);
  b.add("EncryptionInfo", enc.first).add("EncryptedPackage", enc.second);
  return b.build();
}

std::string macro_payload() {
  VbaProjectBuilder p;
  p.add("Module1", "Sub AutoOpen()\r\nShell \"calc\"\r\nEnd Sub\r\n");
  Ole2Builder b(3);
  b.add("WordDocument", std::string(5000, 'w'));
  p.add_to(b, "Macros/VBA");
  return b.build();
}

const Finding* find(const Report& r, FindingType t) {
  for (const auto& f : r.findings)
    if (f.type == t) return &f;
  return nullptr;
}

}  // namespace

TEST(OfficeCrypto, AgileWithDefaultPasswordIsDecryptedAndAnalysed) {
  const std::string plain = macro_payload();
  Scanner s{Config{}};
  Report r = s.scan_file(container(agile_encrypt(plain, "VelvetSweatshop")), "invoice.xlsm");
  const Finding* e = find(r, FindingType::encrypted_document);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->detail.find("agile encryption (AES-256, SHA512"), std::string::npos) << e->detail;
  EXPECT_NE(e->detail.find("VelvetSweatshop"), std::string::npos);
  const Finding* v = find(r, FindingType::vba_macro);
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
  ASSERT_NE(find(r, FindingType::vba_macro), nullptr);
}

TEST(OfficeCrypto, OtherPasswordOnlyFlagged) {
  Scanner s{Config{}};
  Report r = s.scan_file(container(agile_encrypt(macro_payload(), "s3cret!")), "a.docx");
  const Finding* e = find(r, FindingType::encrypted_document);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->detail.find("decrypted"), std::string::npos);
  EXPECT_EQ(find(r, FindingType::vba_macro), nullptr);
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
  const Finding* e = find(r, FindingType::encrypted_document);
  ASSERT_NE(e, nullptr) << to_json(r);
  EXPECT_NE(e->detail.find("decrypted with password Kx******"), std::string::npos) << e->detail;
  EXPECT_NE(e->detail.find("text/plain part 1, line 2"), std::string::npos) << e->detail;
  EXPECT_EQ(e->detail.find("Kx7-pq2w"), std::string::npos) << "masked";
  const Finding* v = find(r, FindingType::vba_macro);
  ASSERT_NE(v, nullptr) << to_json(r);
  EXPECT_EQ(v->path, "請求書.docm/decrypted.docm");

  // With no mined candidate allowed, the same mail leaves it locked.
  Config none;
  none.passwords.max_document_candidates = 0;
  Report locked = Scanner{none}.scan_message(mail);
  ASSERT_NE(find(locked, FindingType::encrypted_document), nullptr);
  EXPECT_EQ(find(locked, FindingType::vba_macro), nullptr) << to_json(locked);
}
