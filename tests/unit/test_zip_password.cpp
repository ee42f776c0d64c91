// Fast ZIP password checks and the central-directory reader.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>


#include "formats/zip/directory.h"
#include "formats/zip/password.h"
#include "formats/zip/password_search.h"
#include "emogate/scanner.h"
#include "unit/corpus_fixtures.h"
#include "unit/findings.h"
#include "unit/mail_fixtures.h"
#include "unit/zip_fixtures.h"

using namespace emogate;
namespace ez = emogate::zip;
using emogate::test::make_zip;
using emogate::test::raw_zip;

namespace {

std::string_view member_data(std::string_view zip, const ez::Entry& e) {
  return zip.substr(e.data_offset, e.compressed_size);
}

std::string sample_text() {
  std::string s;
  for (int i = 0; i < 200; ++i) s += "請求書 invoice line " + std::to_string(i) + "\n";
  return s;
}

}  // namespace

TEST(ZipPassword, Pbkdf2BlockMatchesOpenSslFullDerivation) {
  unsigned char full[80];
  ASSERT_EQ(PKCS5_PBKDF2_HMAC_SHA1("foofoofoo", 9, reinterpret_cast<const unsigned char*>("0123456789abcdef"),
                                   16, 1000, 80, full), 1);
  for (std::uint32_t b = 1; b <= 4; ++b) {
    unsigned char out[20];
    ez::pbkdf2_sha1_block("foofoofoo", "0123456789abcdef", 1000, b, out);
    EXPECT_EQ(0, memcmp(out, full + 20 * (b - 1), 20)) << "block " << b;
  }
  // Keys longer than the SHA-1 block are hashed first (RFC 2104).
  std::string longpw(100, 'k');
  ASSERT_EQ(PKCS5_PBKDF2_HMAC_SHA1(longpw.data(), 100, reinterpret_cast<const unsigned char*>("salt"), 4, 3, 20,
                                   full), 1);
  unsigned char out[20];
  ez::pbkdf2_sha1_block(longpw, "salt", 3, 1, out);
  EXPECT_EQ(0, memcmp(out, full, 20));
}

class ZipPasswordMethods : public ::testing::TestWithParam<std::uint16_t> {};

TEST_P(ZipPasswordMethods, AcceptsRightRejectsWrong) {
  for (bool store : {false, true}) {
    std::string z = make_zip({{"a.txt", sample_text(), GetParam(), "Ab3dEf9", store}});
    auto dir = ez::read_directory(z, 100);
    ASSERT_EQ(dir.entries.size(), 1u);
    const auto& e = dir.entries[0];
    ASSERT_TRUE(e.encrypted());
    ASSERT_NE(e.data_offset, 0u);
    EXPECT_EQ(e.aes_strength != 0, GetParam() != ZIP_EM_TRAD_PKWARE);
    EXPECT_TRUE(ez::password_ok(e, member_data(z, e), "Ab3dEf9"));
    int false_positives = 0;
    for (int i = 0; i < 300; ++i) false_positives += ez::password_ok(e, member_data(z, e), "wrong" + std::to_string(i));
    // AES has a 16-bit verifier (300/65536 expected; the password search
    // confirms with the authentication code); ZipCrypto survivors of the
    // 8-bit header check die on inflate or the CRC.
    EXPECT_LE(false_positives, 1) << "store=" << store;
  }
}

// WinZip AES-128 data for `plain` under `password` with a chosen salt
// (libzip picks its own): salt, verifier, AES-CTR (little-endian counter
// from 1), then the first 10 bytes of HMAC-SHA1 over the encrypted bytes.
static std::string aes128_member(const std::string& plain, const std::string& password, const std::string& salt) {
  unsigned char d[34];
  EXPECT_EQ(PKCS5_PBKDF2_HMAC_SHA1(password.data(), static_cast<int>(password.size()),
                                   reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                                   1000, sizeof d, d), 1);
  std::string cipher(plain);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, d, nullptr);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  for (std::size_t at = 0; at < cipher.size(); at += 16) {
    unsigned char ctr[16] = {}, ks[16];
    const std::uint64_t n = at / 16 + 1;
    for (int k = 0; k < 8; ++k) ctr[k] = static_cast<unsigned char>(n >> (8 * k));
    int len = 0;
    EVP_EncryptUpdate(ctx, ks, &len, ctr, 16);
    for (std::size_t k = 0; k < 16 && at + k < cipher.size(); ++k)
      cipher[at + k] = static_cast<char>(cipher[at + k] ^ ks[k]);
  }
  EVP_CIPHER_CTX_free(ctx);
  unsigned char mac[20];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), d + 16, 16, reinterpret_cast<const unsigned char*>(cipher.data()), cipher.size(), mac, &mac_len);
  return salt + std::string(reinterpret_cast<char*>(d + 32), 2) + cipher + std::string(reinterpret_cast<char*>(mac), 10);
}

// The password PasswordSearch takes for `e` among `passwords`, in order;
// "(none)" when none.
static std::string search_opens(const ez::Entry& e, std::string_view archive, const std::vector<std::string>& passwords) {
  std::vector<PasswordCandidate> cands(passwords.size());
  for (std::size_t i = 0; i < passwords.size(); ++i) cands[i].password = passwords[i];
  KdfBudget budget(1u << 30);
  bool in_vain = false;
  ez::PasswordSearch ps;
  ez::Unlock u = ps.find(e, archive, [&]() -> const std::vector<PasswordCandidate>& { return cands; }, budget,
                         [] { return false; }, in_vain);
  return u.candidate ? u.bytes : std::string("(none)");
}

// One wrong password in 65,536 passes WinZip AES's 2-byte verifier; with
// salt 01..08, "wrong20332" does for "Ab3dEf9" (both verifiers 25 DB). The
// member's authentication code tells them apart, so the password search
// takes the right one behind it, and the colliding one alone opens nothing
// (before, it was taken and the member then failed to inflate: malformed).
TEST(ZipPassword, AesVerifierCollisionGivesWayToTheRightPassword) {
  const std::string plain = sample_text();
  std::string z = make_zip({{"a.txt", plain, ZIP_EM_AES_128, "Ab3dEf9", true}});
  auto dir = ez::read_directory(z, 100);
  ASSERT_EQ(dir.entries.size(), 1u);
  const ez::Entry e = dir.entries[0];
  ASSERT_EQ(e.aes_strength, 1);
  const std::string member = aes128_member(plain, "Ab3dEf9", std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  ASSERT_EQ(member.size(), e.compressed_size);
  z.replace(e.data_offset, member.size(), member);
  ASSERT_TRUE(ez::password_ok(e, member_data(z, e), "Ab3dEf9"));
  ASSERT_TRUE(ez::password_ok(e, member_data(z, e), "wrong20332")) << "the verifiers collide";
  EXPECT_TRUE(ez::aes_authentication_ok(e, member_data(z, e), "Ab3dEf9"));
  EXPECT_FALSE(ez::aes_authentication_ok(e, member_data(z, e), "wrong20332"));

  EXPECT_EQ(search_opens(e, z, {"wrong20332", "Ab3dEf9"}), "Ab3dEf9");
  EXPECT_EQ(search_opens(e, z, {"wrong20332"}), "(none)");
  EXPECT_EQ(search_opens(e, z, {"nothing"}), "(none)");
}

// A deflated WinZip AES member whose authentication code is damaged: the
// right password's key decrypts a stream that inflates, so the search
// takes it (libzip then reports the damage); the colliding wrong one's
// garbage does not inflate. Stored members cannot be told apart this way.
TEST(ZipPassword, DamagedAesCodeOpensWithTheRightPasswordOnlyWhenDeflated) {
  const std::string plain = sample_text();
  std::string deflated(plain.size() + 64, '\0');
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(deflated.data());
  zs.avail_out = static_cast<uInt>(deflated.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  deflated.resize(zs.total_out);
  deflateEnd(&zs);
  const std::string salt("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  std::string member = aes128_member(deflated, "Ab3dEf9", salt);
  member.back() = static_cast<char>(member.back() ^ 0x55);  // damage the code
  ez::Entry e;
  e.flags = 1;
  e.method = 99;
  e.aes_strength = 1;
  e.aes_version = 2;
  e.aes_method = 8;
  e.compressed_size = member.size();
  e.data_offset = 1;
  const std::string archive = "X" + member;
  EXPECT_FALSE(ez::aes_authentication_ok(e, member, "Ab3dEf9"));
  EXPECT_TRUE(ez::aes_prefix_inflates(e, member, "Ab3dEf9"));
  EXPECT_FALSE(ez::aes_prefix_inflates(e, member, "wrong20332"));
  EXPECT_EQ(search_opens(e, archive, {"wrong20332", "Ab3dEf9"}), "Ab3dEf9");
  EXPECT_EQ(search_opens(e, archive, {"wrong20332"}), "(none)");
  ez::Entry stored = e;
  stored.aes_method = 0;
  EXPECT_FALSE(ez::aes_prefix_inflates(stored, member, "Ab3dEf9"));
  EXPECT_EQ(search_opens(stored, archive, {"Ab3dEf9"}), "(none)") << "a stored member with a damaged code stays locked";
}

INSTANTIATE_TEST_SUITE_P(All, ZipPasswordMethods,
                         ::testing::Values(ZIP_EM_TRAD_PKWARE, ZIP_EM_AES_128, ZIP_EM_AES_192, ZIP_EM_AES_256));

TEST(ZipPassword, ZipCryptoHeaderCheckAloneLetsSomeThroughButCrcStopsThem) {
  std::string z = make_zip({{"a.txt", sample_text(), ZIP_EM_TRAD_PKWARE, "secret"}});
  auto dir = ez::read_directory(z, 10);
  const auto& e = dir.entries.at(0);
  int header_pass = 0, full_pass = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string pw = "cand" + std::to_string(i);
    header_pass += ez::zipcrypto_header_ok(e, member_data(z, e), pw);
    full_pass += ez::zipcrypto_password_ok(e, member_data(z, e), pw);
  }
  EXPECT_GT(header_pass, 0);  // ~3000/256: the 1-byte check is weak on its own
  EXPECT_EQ(full_pass, 0);
}

TEST(ZipDirectory, ReadsEntriesPrefixAndTrailingBytes) {
  std::string z = make_zip({{"one.txt", "hello", ZIP_EM_NONE, ""}, {"two.txt", std::string(1000, 'x'), ZIP_EM_NONE, ""}});
  auto plain = ez::read_directory(z, 100);
  ASSERT_TRUE(plain.found);
  ASSERT_EQ(plain.entries.size(), 2u);
  EXPECT_EQ(plain.entries[1].name, "two.txt");
  EXPECT_EQ(plain.entries[1].uncompressed_size, 1000u);
  EXPECT_EQ(plain.prefix, 0u);
  EXPECT_EQ(plain.trailing, 0u);
  EXPECT_EQ(plain.overlapping, 0u);
  EXPECT_TRUE(plain.problems.empty());

  auto shifted = ez::read_directory("MZjunk-stub" + z + "trailing", 100);
  ASSERT_EQ(shifted.entries.size(), 2u);
  EXPECT_EQ(shifted.prefix, 11u);
  EXPECT_EQ(shifted.trailing, 8u);
  EXPECT_EQ(shifted.entries[0].local_offset, 11u);
  EXPECT_NE(shifted.entries[1].data_offset, 0u);
}

TEST(ZipDirectory, DetectsOverlappingEntries) {
  std::string z = raw_zip({{"kernel.bin", std::string(100, 'A')}, {"copy1", "", 0}, {"copy2", "", 0}});
  auto dir = ez::read_directory(z, 100);
  ASSERT_EQ(dir.entries.size(), 3u);
  EXPECT_EQ(dir.overlapping, 2u);
  EXPECT_NE(dir.overlap_example.find("kernel.bin"), std::string::npos);
}

TEST(ZipDirectory, TruncatedDirectoryAndCapAreReported) {
  std::vector<emogate::test::RawEntry> many;
  for (int i = 0; i < 50; ++i) many.push_back({"f" + std::to_string(i), "x"});
  std::string z = raw_zip(many);
  auto capped = ez::read_directory(z, 10);
  EXPECT_TRUE(capped.capped);
  EXPECT_EQ(capped.entries.size(), 10u);

  // Cut 40 bytes out of the middle of the central directory.
  std::size_t end = z.size() - 22;
  std::string cut = z.substr(0, end - 300) + z.substr(end - 260);
  auto broken = ez::read_directory(cut, 100);
  EXPECT_TRUE(broken.truncated || !broken.problems.empty());
  EXPECT_LT(broken.entries.size(), 50u);

  EXPECT_FALSE(ez::read_directory("PK\x05\x06 short", 100).found);
  EXPECT_FALSE(ez::read_directory("", 100).found);
}

// Real archives from libzip's regression suite, with their documented passwords.
TEST(ZipPassword, LibzipCorpus) {
  auto corpus = emogate::test::libzip_password_corpus();
  if (corpus.empty()) GTEST_SKIP() << "no corpus at " << emogate::test::libzip_corpus_dir();
  int checked = 0;
  for (const auto& c : corpus) {
    auto zd = ez::read_directory(c.bytes, 100);
    for (const auto& e : zd.entries) {
      if (!e.encrypted()) continue;
      SCOPED_TRACE(c.file + " / " + e.name);
      ASSERT_NE(e.data_offset, 0u);
      EXPECT_TRUE(ez::password_ok(e, member_data(c.bytes, e), c.password));
      EXPECT_FALSE(ez::password_ok(e, member_data(c.bytes, e), c.password + "x"));
      ++checked;
    }
  }
  EXPECT_GT(checked, 5);
}

// Every WinZip AES try costs 1,000 PBKDF2 rounds from the message's budget.
TEST(ZipPassword, AesTriesAreChargedToTheKdfBudget) {
  const std::string zip = make_zip({{"a.txt", sample_text(), ZIP_EM_AES_256, "Right-1"}});
  const ez::Directory dir = ez::read_directory(zip, 10);
  ASSERT_EQ(dir.entries.size(), 1u);
  const ez::Entry& e = dir.entries[0];
  KdfBudget budget(2500);
  EXPECT_FALSE(ez::password_ok(e, member_data(zip, e), "wrong", &budget));
  EXPECT_TRUE(ez::password_ok(e, member_data(zip, e), "Right-1", &budget));
  EXPECT_EQ(budget.used(), 2000u);
  EXPECT_FALSE(budget.exhausted());
  // The third try does not fit: not made, even with the right password.
  EXPECT_FALSE(ez::password_ok(e, member_data(zip, e), "Right-1", &budget));
  EXPECT_TRUE(budget.exhausted());
  EXPECT_EQ(budget.used(), 2000u);
}

// Through the engine: a spent budget leaves the member locked and says so.
TEST(ZipPassword, SpentKdfBudgetIsLimitExceeded) {
  const std::string zip = make_zip({{"a.js", "WScript.Echo(1)", ZIP_EM_AES_256, "Right-1"}});
  const std::string mail = emogate::test::make_mail(
      "zip", {{"text/plain; charset=UTF-8", "Password: Right-1\n", ""}, {"application/zip", zip, "a.zip"}});
  Config c;
  c.limits.max_kdf_rounds = 0;
  Report r = Scanner{c}.scan_message(mail);
  EXPECT_TRUE(test::has_finding(r, FindingType::limit_exceeded, {.limit = "max_kdf_rounds"})) << to_json(r);
  EXPECT_TRUE(test::has_finding(r, FindingType::encrypted_archive)) << to_json(r);
  // The default budget opens it.
  Report ok = Scanner{Config{}}.scan_message(mail);
  bool opened = false;
  for (const auto& f : ok.findings) opened |= f.type == FindingType::dangerous_type;
  EXPECT_TRUE(opened) << to_json(ok);
}
