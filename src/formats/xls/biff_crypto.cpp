// BIFF8 FILEPASS encryption ([MS-OFFCRYPTO] 2.3.5.2 RC4 and 2.3.6.2 RC4
// CryptoAPI): the FILEPASS header, password verification and the per-block
// RC4 key stream, and FILEPASS records for test fixtures.
// Trusted input: none. The FILEPASS record is read with checked lengths;
// the key stream is as long as the stream it decrypts.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "formats/office_crypto/office_crypto.h"
#include "formats/xls/biff.h"

namespace emogate::xlm {

using Reader = ByteReader;

std::string_view encryption_name(Encryption e) {
  switch (e) {
    case Encryption::none: return "none";
    case Encryption::xor_obfuscation: return "XOR obfuscation";
    case Encryption::rc4: return "RC4";
    case Encryption::rc4_cryptoapi: return "RC4 CryptoAPI";
    default: return "unknown";
  }
}

namespace {

using office_crypto::digest;

// RC4 is written out here because OpenSSL 3 only offers it through the legacy
// provider, which distributions do not load by default.
class Rc4 {
 public:
  explicit Rc4(std::string_view key) {
    for (int k = 0; k < 256; ++k) s_[k] = std::uint8_t(k);
    if (key.empty()) return;
    std::uint8_t j = 0;
    for (int k = 0; k < 256; ++k) {
      j = std::uint8_t(j + s_[k] + static_cast<std::uint8_t>(key[k % key.size()]));
      std::swap(s_[k], s_[j]);
    }
  }
  void apply(char* p, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
      i_ = std::uint8_t(i_ + 1);
      j_ = std::uint8_t(j_ + s_[i_]);
      std::swap(s_[i_], s_[j_]);
      p[k] = char(static_cast<std::uint8_t>(p[k]) ^ s_[std::uint8_t(s_[i_] + s_[j_])]);
    }
  }

 private:
  std::array<std::uint8_t, 256> s_{};
  std::uint8_t i_ = 0, j_ = 0;
};

std::string le32_bytes(std::uint32_t v) {
  std::string s(4, '\0');
  for (int k = 0; k < 4; ++k) s[k] = char((v >> (8 * k)) & 0xFF);
  return s;
}

std::string utf16le(std::string_view ascii) {
  std::string s;
  for (char c : ascii) {
    s += c;
    s += '\0';
  }
  return s;
}

// Per-block RC4 keys of the two BIFF8 schemes.
struct KeyDeriver {
  bool cryptoapi = false;
  std::string base;        // truncated H1 (RC4) or H0 (CryptoAPI)
  std::size_t key_bytes = 16;

  KeyDeriver(bool capi, std::string_view password, std::string_view salt, std::uint32_t key_bits)
      : cryptoapi(capi) {
    std::string pw = utf16le(password);
    if (cryptoapi) {
      base = digest(EVP_sha1(), std::string(salt) + pw);
      key_bytes = (key_bits == 0 ? 40 : key_bits) / 8;
    } else {
      std::string h0 = digest(EVP_md5(), pw).substr(0, 5);
      std::string buf;
      for (int k = 0; k < 16; ++k) buf += h0 + std::string(salt);
      base = digest(EVP_md5(), buf).substr(0, 5);
    }
  }
  std::string block_key(std::uint32_t block) const {
    if (!cryptoapi) return digest(EVP_md5(), base + le32_bytes(block));
    std::string h = digest(EVP_sha1(), base + le32_bytes(block));
    std::string key = h.substr(0, std::min(key_bytes, h.size()));
    // A 40-bit CryptoAPI key is used as 128 bits with zero padding.
    if (key_bytes == 5) key.resize(16, '\0');
    return key;
  }
  std::string hash(std::string_view v) const {
    return digest(cryptoapi ? EVP_sha1() : EVP_md5(), v);
  }
};

struct FilePass {
  bool cryptoapi = false;
  std::uint32_t key_bits = 0;
  std::string_view salt, verifier, verifier_hash;
};

std::optional<FilePass> parse_filepass(std::string_view data) {
  Reader r(data);
  if (r.u16() != 1) return std::nullopt;
  std::uint16_t major = r.u16(), minor = r.u16();
  FilePass fp;
  if (major == 1 && minor == 1) {
    fp.salt = r.bytes(16);
    fp.verifier = r.bytes(16);
    fp.verifier_hash = r.bytes(16);
  } else if (major >= 2 && major <= 4 && minor == 2) {
    fp.cryptoapi = true;
    r.u32();  // flags
    std::uint32_t header_size = r.u32();
    std::string_view header = r.bytes(header_size);
    fp.key_bits = le32(header, 16);
    std::uint32_t salt_size = r.u32();
    if (salt_size != 16) return std::nullopt;
    fp.salt = r.bytes(16);
    fp.verifier = r.bytes(16);
    r.u32();  // verifier hash size
    fp.verifier_hash = r.bytes(20);
    if (fp.key_bits != 0 && (fp.key_bits < 40 || fp.key_bits > 128 || fp.key_bits % 8))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!r.ok()) return std::nullopt;
  return fp;
}

}  // namespace

std::string biff_keystream(std::string_view filepass, std::string_view password,
                           std::size_t length) {
  auto fp = parse_filepass(filepass);
  if (!fp) return {};
  KeyDeriver kd(fp->cryptoapi, password, fp->salt, fp->key_bits);
  std::string check = std::string(fp->verifier) + std::string(fp->verifier_hash);
  Rc4(kd.block_key(0)).apply(check.data(), check.size());
  std::string want = kd.hash(check.substr(0, 16));
  if (want.empty() || check.compare(16, want.size(), want) != 0) return {};
  std::string ks(length, '\0');
  for (std::size_t at = 0; at < length; at += 1024) {
    Rc4 rc4(kd.block_key(std::uint32_t(at / 1024)));
    rc4.apply(ks.data() + at, std::min<std::size_t>(1024, length - at));
  }
  return ks;
}

std::string make_filepass(bool cryptoapi, std::string_view password, std::string_view salt16,
                          std::string_view verifier16) {
  auto le16b = [](std::uint16_t v) { return std::string{char(v & 0xFF), char(v >> 8)}; };
  KeyDeriver kd(cryptoapi, password, salt16, 40);
  std::string sealed = std::string(verifier16) + kd.hash(verifier16);
  Rc4(kd.block_key(0)).apply(sealed.data(), sealed.size());
  std::string out = le16b(1);
  if (!cryptoapi) return out + le16b(1) + le16b(1) + std::string(salt16) + sealed;
  std::string header = le32_bytes(0x04) + le32_bytes(0) + le32_bytes(0x6801) +
                       le32_bytes(0x8004) + le32_bytes(40) + le32_bytes(1) + le32_bytes(0) +
                       le32_bytes(0) + std::string(2, '\0');
  return out + le16b(2) + le16b(2) + le32_bytes(0x04) + le32_bytes(std::uint32_t(header.size())) +
         header + le32_bytes(16) + std::string(salt16) + sealed.substr(0, 16) + le32_bytes(20) +
         sealed.substr(16);
}

}  // namespace emogate::xlm
