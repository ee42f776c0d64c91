// Fast ZIP password checks: see zip_password.h.
// Trusted input: none.
#define OPENSSL_SUPPRESS_DEPRECATED  // SHA1_Transform: one compression per HMAC half
#include "formats/zip/password.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

namespace emogate::zip {
namespace {

const std::array<std::uint32_t, 256>& crc_table() {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

inline std::uint32_t crc_byte(std::uint32_t c, std::uint8_t b) {
  return crc_table()[(c ^ b) & 0xFF] ^ (c >> 8);
}

// Inflates (deflate) or reads (stored) a member's plaintext as `decrypt`
// turns each chunk of `body` into it, until an error, the end of the
// stream, or `probe` plaintext bytes. A member read to its end must match
// e.crc when `check_crc`; one that got `probe` bytes without error passes.
// Other methods: `other` (they cannot be checked here).
template <class Decrypt>
bool inflate_probe(const Entry& e, std::string_view body, Decrypt decrypt, std::uint64_t probe, bool check_crc,
                   bool other) {
  const std::uint16_t method = e.real_method();
  if (method != 0 && method != 8) return other;
  unsigned char in[16384];
  unsigned char out[65536];
  std::uint32_t crc = crc32(0, nullptr, 0);
  std::uint64_t produced = 0;
  z_stream zs{};
  if (method == 8 && inflateInit2(&zs, -MAX_WBITS) != Z_OK) return false;
  bool ok = false, done = false;
  std::size_t pos = 0;
  while (!done) {
    std::size_t n = std::min(sizeof in, body.size() - pos);
    decrypt(body.substr(pos, n), in);
    pos += n;
    if (method == 0) {
      crc = crc32(crc, in, static_cast<uInt>(n));
      produced += n;
      if (pos == body.size()) { ok = !check_crc || crc == e.crc; done = true; }
      continue;
    }
    zs.next_in = in;
    zs.avail_in = static_cast<uInt>(n);
    do {
      zs.next_out = out;
      zs.avail_out = sizeof out;
      int rc = inflate(&zs, Z_NO_FLUSH);
      std::size_t got = sizeof out - zs.avail_out;
      crc = crc32(crc, out, static_cast<uInt>(got));
      produced += got;
      if (rc == Z_STREAM_END) { ok = !check_crc || crc == e.crc; done = true; break; }
      if (rc != Z_OK && rc != Z_BUF_ERROR) { done = true; break; }
      if (produced >= probe) { ok = true; done = true; break; }
      if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
    } while (zs.avail_in > 0 || zs.avail_out == 0);
    if (!done && pos == body.size()) done = true;  // ran out before the end: wrong
  }
  if (method == 8) inflateEnd(&zs);
  return ok;
}

// ZipCrypto: decrypts with the keys as they stand after the header.
bool confirm_zipcrypto(const Entry& e, ZipCryptoKeys keys, std::string_view body, std::uint64_t probe) {
  return inflate_probe(
      e, body,
      [&keys](std::string_view chunk, unsigned char* to) {
        for (std::size_t i = 0; i < chunk.size(); ++i) to[i] = keys.decrypt(static_cast<std::uint8_t>(chunk[i]));
      },
      probe, true, true);
}

// WinZip AES's field sizes for a strength of 1-3 (128/192/256 bits): the
// salt at the start of the member, and each derived key (the AES key, then
// the HMAC key; the 2-byte verifier follows them). Null for another value.
struct AesSizes {
  std::size_t salt, key;
};
std::optional<AesSizes> aes_sizes(const Entry& e) {
  if (e.aes_strength < 1 || e.aes_strength > 3) return std::nullopt;
  const auto n = static_cast<std::size_t>(e.aes_strength);
  return AesSizes{4 + 4 * n, 8 + 8 * n};
}

}  // namespace

ZipCryptoKeys::ZipCryptoKeys(std::string_view password) {
  for (char c : password) update(static_cast<std::uint8_t>(c));
}

void ZipCryptoKeys::update(std::uint8_t p) {
  k0_ = crc_byte(k0_, p);
  k1_ = (k1_ + (k0_ & 0xFF)) * 134775813u + 1;
  k2_ = crc_byte(k2_, static_cast<std::uint8_t>(k1_ >> 24));
}

bool zipcrypto_header_ok(const Entry& e, std::string_view header12, std::string_view password) {
  if (header12.size() < 12) return false;
  ZipCryptoKeys keys(password);
  std::uint8_t last = 0;
  for (int i = 0; i < 12; ++i) last = keys.decrypt(static_cast<std::uint8_t>(header12[i]));
  // With a data descriptor the writer may not know the CRC yet and uses the
  // DOS time instead; some writers still use the CRC, so accept either.
  if (last == static_cast<std::uint8_t>(e.crc >> 24)) return true;
  return e.has_descriptor() && last == static_cast<std::uint8_t>(e.dos_time >> 8);
}

bool zipcrypto_password_ok(const Entry& e, std::string_view encrypted, std::string_view password,
                           std::uint64_t probe_output) {
  if (encrypted.size() < 12 || !zipcrypto_header_ok(e, encrypted, password)) return false;
  ZipCryptoKeys keys(password);
  for (int i = 0; i < 12; ++i) keys.decrypt(static_cast<std::uint8_t>(encrypted[i]));
  return confirm_zipcrypto(e, keys, encrypted.substr(12), probe_output);
}

void pbkdf2_sha1_block(std::string_view password, std::string_view salt, unsigned iterations,
                       std::uint32_t block, unsigned char out[20]) {
  unsigned char key[64] = {};
  if (password.size() > 64) {
    SHA1(reinterpret_cast<const unsigned char*>(password.data()), password.size(), key);
  } else {
    std::memcpy(key, password.data(), password.size());
  }
  unsigned char pad[64];
  SHA_CTX inner0, outer0;
  for (int i = 0; i < 64; ++i) pad[i] = key[i] ^ 0x36;
  SHA1_Init(&inner0);
  SHA1_Update(&inner0, pad, 64);
  for (int i = 0; i < 64; ++i) pad[i] = key[i] ^ 0x5c;
  SHA1_Init(&outer0);
  SHA1_Update(&outer0, pad, 64);

  // U1 = HMAC(P, salt || INT(block)) through the ordinary API.
  unsigned char u[20];
  SHA_CTX c = inner0;
  unsigned char be[4] = {static_cast<unsigned char>(block >> 24), static_cast<unsigned char>(block >> 16),
                         static_cast<unsigned char>(block >> 8), static_cast<unsigned char>(block)};
  SHA1_Update(&c, salt.data(), salt.size());
  SHA1_Update(&c, be, 4);
  SHA1_Final(u, &c);
  c = outer0;
  SHA1_Update(&c, u, 20);
  SHA1_Final(u, &c);
  std::memcpy(out, u, 20);

  // U2..Un: each HMAC half is one compression of a pre-padded block
  // (64 key bytes already absorbed + 20 message bytes = 672 bits).
  unsigned char blk[64] = {};
  blk[20] = 0x80;
  blk[62] = 0x02;
  blk[63] = 0xA0;
  auto compress = [&](const SHA_CTX& base) {
    SHA_CTX s = base;
    SHA1_Transform(&s, blk);
    const SHA_LONG h[5] = {s.h0, s.h1, s.h2, s.h3, s.h4};
    for (int i = 0; i < 5; ++i) {
      blk[4 * i] = static_cast<unsigned char>(h[i] >> 24);
      blk[4 * i + 1] = static_cast<unsigned char>(h[i] >> 16);
      blk[4 * i + 2] = static_cast<unsigned char>(h[i] >> 8);
      blk[4 * i + 3] = static_cast<unsigned char>(h[i]);
    }
  };
  std::memcpy(blk, u, 20);
  for (unsigned it = 1; it < iterations; ++it) {
    compress(inner0);
    compress(outer0);
    for (int i = 0; i < 20; ++i) out[i] ^= blk[i];
  }
}

namespace {

// WinZip AES's derived bytes [from, to) of `password` and the member's salt
// (the AES key, then the HMAC key, then the 2-byte verifier: at most 66
// bytes), written at their own offsets in out[80]: only the PBKDF2 blocks
// that hold them are computed, after their rounds are taken from `budget`
// (false without deriving when they do not fit).
bool aes_derive(std::string_view password, std::string_view salt, std::size_t from, std::size_t to, KdfBudget* budget,
                unsigned char out[80]) {
  const auto first = static_cast<std::uint32_t>(from / 20 + 1), last = static_cast<std::uint32_t>((to - 1) / 20 + 1);
  if (budget && !budget->take(std::uint64_t{kAesIterations} * (last - first + 1))) return false;
  for (std::uint32_t b = first; b <= last; ++b) pbkdf2_sha1_block(password, salt, kAesIterations, b, out + 20 * (b - 1));
  return true;
}

}  // namespace

bool aes_password_ok(const Entry& e, std::string_view encrypted, std::string_view password, KdfBudget* budget) {
  const auto sizes = aes_sizes(e);
  if (!sizes) return false;
  const std::size_t salt_len = sizes->salt, key_len = sizes->key;
  if (encrypted.size() < salt_len + 2) return false;
  const std::size_t at = 2 * key_len;  // the verifier
  unsigned char derived[80];
  if (!aes_derive(password, encrypted.substr(0, salt_len), at, at + 2, budget, derived)) return false;
  return derived[at] == static_cast<unsigned char>(encrypted[salt_len]) &&
         derived[at + 1] == static_cast<unsigned char>(encrypted[salt_len + 1]);
}

bool aes_authentication_ok(const Entry& e, std::string_view encrypted, std::string_view password,
                           KdfBudget* budget) {
  const auto sizes = aes_sizes(e);
  if (!sizes) return false;
  const std::size_t salt_len = sizes->salt, key_len = sizes->key;
  if (encrypted.size() < salt_len + 2 + kAesAuthCode) return false;
  unsigned char derived[80];  // the HMAC key: bytes key_len .. 2 * key_len
  if (!aes_derive(password, encrypted.substr(0, salt_len), key_len, 2 * key_len, budget, derived)) return false;
  const std::string_view cipher = encrypted.substr(salt_len + 2, encrypted.size() - salt_len - 2 - kAesAuthCode);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha1(), derived + key_len, static_cast<int>(key_len), reinterpret_cast<const unsigned char*>(cipher.data()),
            cipher.size(), mac, &mac_len) ||
      mac_len < kAesAuthCode)
    return false;
  return std::memcmp(mac, encrypted.data() + encrypted.size() - kAesAuthCode, kAesAuthCode) == 0;
}

bool aes_prefix_inflates(const Entry& e, std::string_view encrypted, std::string_view password, KdfBudget* budget,
                         std::uint64_t probe_output) {
  const auto sizes = aes_sizes(e);
  if (!sizes || e.real_method() != 8) return false;
  const std::size_t salt_len = sizes->salt, key_len = sizes->key;
  if (encrypted.size() < salt_len + 2 + kAesAuthCode) return false;
  unsigned char derived[80];  // the AES key: bytes 0 .. key_len
  if (!aes_derive(password, encrypted.substr(0, salt_len), 0, key_len, budget, derived)) return false;
  const EVP_CIPHER* cipher = e.aes_strength == 1 ? EVP_aes_128_ecb() : e.aes_strength == 2 ? EVP_aes_192_ecb()
                                                                                           : EVP_aes_256_ecb();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return false;
  if (EVP_EncryptInit_ex(ctx, cipher, nullptr, derived, nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return false;
  }
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  // CTR as WinZip does it: the block number from 1, little-endian, in
  // the first 8 bytes of the counter block. Chunks are whole blocks but
  // the last, so the count runs on from chunk to chunk.
  std::uint64_t counter = 1;
  bool failed = false;
  std::vector<unsigned char> ctr(16384), ks(16384);  // the probe's chunk size
  const auto decrypt = [&](std::string_view chunk, unsigned char* to) {
    const std::size_t nblocks = (chunk.size() + 15) / 16;
    std::fill(ctr.begin(), ctr.begin() + static_cast<std::ptrdiff_t>(nblocks * 16), 0);
    for (std::size_t b = 0; b < nblocks; ++b, ++counter)
      for (int k = 0; k < 8; ++k) ctr[16 * b + k] = static_cast<unsigned char>(counter >> (8 * k));
    int len = 0;
    if (EVP_EncryptUpdate(ctx, ks.data(), &len, ctr.data(), static_cast<int>(nblocks * 16)) != 1) failed = true;
    for (std::size_t i = 0; i < chunk.size(); ++i) to[i] = static_cast<unsigned char>(chunk[i]) ^ ks[i];
  };
  const std::string_view body = encrypted.substr(salt_len + 2, encrypted.size() - salt_len - 2 - kAesAuthCode);
  // AE-2 stores no CRC (0); AE-1 does.
  const bool ok = inflate_probe(e, body, decrypt, probe_output, e.aes_version == 1, false) && !failed;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

bool password_ok(const Entry& e, std::string_view encrypted, std::string_view password, KdfBudget* budget) {
  if (!e.encrypted()) return true;
  if (e.aes_strength) return aes_password_ok(e, encrypted, password, budget);
  return zipcrypto_password_ok(e, encrypted, password);
}

}  // namespace emogate::zip
