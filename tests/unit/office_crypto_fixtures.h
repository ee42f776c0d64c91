// Encrypted Office packages built in code for the tests (MS-OFFCRYPTO,
// written from the specification): agile encryption (SHA-512, AES-256-CBC,
// spinCount 1000 by default) and standard encryption (AES-128-ECB, SHA-1, 50,000
// rounds), and the compound file that carries EncryptionInfo and
// EncryptedPackage (what an encrypted .docx/.xlsx is).
#pragma once

#include <openssl/evp.h>

#include <string>
#include <utility>

#include "unit/ole2_builder.h"

namespace emogate::test::office_crypto_fixture {

inline std::string H(const EVP_MD* md, const std::string& a) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(a.data(), a.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}
inline std::string le32(std::uint32_t v) {
  std::string s;
  Ole2Builder::put32(s, v);
  return s;
}
inline std::string utf16(const std::string& ascii) {
  std::string s;
  for (char c : ascii) s += {c, '\0'};
  return s;
}
inline std::string aes_enc(const std::string& key, const std::string& iv, std::string data) {
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
inline std::string b64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(n);
  return out;
}
inline std::string iterate(const EVP_MD* md, const std::string& salt, const std::string& pw, std::uint32_t n) {
  std::string h = H(md, salt + utf16(pw));
  for (std::uint32_t i = 0; i < n; ++i) h = H(md, le32(i) + h);
  return h;
}
inline std::string sized(const std::string& plain) {
  return le32(static_cast<std::uint32_t>(plain.size())) + le32(0);
}

// Agile: SHA-512, AES-256-CBC; a small spin count by default keeps tests fast
// (Office writes 100,000).
inline std::pair<std::string, std::string> agile_encrypt(const std::string& plain, const std::string& pw,
                                                         std::uint32_t spin_count = 1000) {
  const EVP_MD* md = EVP_sha512();
  const std::string data_salt(16, '\x11'), pw_salt(16, '\x22'), secret(32, '\x33'), vin(16, '\x44');
  const std::string hn = iterate(md, pw_salt, pw, spin_count);
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
      "uri=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\"><p:encryptedKey spinCount=\"" + std::to_string(spin_count) + "\" "
      "saltSize=\"16\" blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" cipherAlgorithm=\"AES\" "
      "cipherChaining=\"ChainingModeCBC\" hashAlgorithm=\"SHA512\" saltValue=\"" + b64(pw_salt) +
      "\" encryptedVerifierHashInput=\"" + b64(evi) + "\" encryptedVerifierHashValue=\"" + b64(evv) +
      "\" encryptedKeyValue=\"" + b64(ekv) + "\"/></keyEncryptor></keyEncryptors></encryption>";
  return {std::string("\x04\x00\x04\x00\x40\x00\x00\x00", 8) + xml, pkg};
}

// Standard: AES-128-ECB, SHA-1, 50,000 rounds.
inline std::pair<std::string, std::string> standard_encrypt(const std::string& plain, const std::string& pw) {
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

inline std::string container(const std::pair<std::string, std::string>& enc) {
  Ole2Builder b(3);
  b.add("EncryptionInfo", enc.first).add("EncryptedPackage", enc.second);
  return b.build();
}

}  // namespace emogate::test::office_crypto_fixture

namespace emogate::test {
using office_crypto_fixture::agile_encrypt;
using office_crypto_fixture::container;
using office_crypto_fixture::standard_encrypt;
}  // namespace emogate::test
