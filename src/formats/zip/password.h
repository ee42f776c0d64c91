// Fast password checks for encrypted ZIP members, so that a hundred mined
// candidates cost milliseconds rather than a hundred full decryptions.
//  - ZipCrypto (APPNOTE 6.3.x section 6.1): decrypt the 12-byte header and
//    compare its last byte with the CRC's (or, with a data descriptor, the
//    DOS time's) high byte; the 1-in-256 survivors are confirmed by
//    decrypting and inflating the member with a CRC check, stopping at the
//    first inflate error and never producing more than a probe's worth.
//  - WinZip AES (AE-1/AE-2): PBKDF2-HMAC-SHA1 (1000 rounds) yields
//    2*keylen+2 bytes; only the 20-byte block holding the 2-byte
//    verification value is computed. Each try is charged to the message's
//    key-derivation budget (kdf_budget.h).
// Trusted input: none; all sizes come from the caller's bounds-checked entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/kdf_budget.h"
#include "formats/zip/directory.h"

namespace emogate::zip {

class ZipCryptoKeys {
 public:
  explicit ZipCryptoKeys(std::string_view password);
  std::uint8_t decrypt(std::uint8_t c) {
    std::uint8_t p = c ^ stream();
    update(p);
    return p;
  }
  // The writer's direction (test fixtures build archives with it).
  std::uint8_t encrypt(std::uint8_t p) {
    std::uint8_t c = p ^ stream();
    update(p);
    return c;
  }

 private:
  std::uint8_t stream() const {
    std::uint32_t t = (k2_ | 2u) & 0xFFFFu;
    return static_cast<std::uint8_t>((t * (t ^ 1u)) >> 8);
  }
  void update(std::uint8_t p);
  std::uint32_t k0_ = 0x12345678, k1_ = 0x23456789, k2_ = 0x34567890;
};

// True when the 12-byte header decrypts to the expected check byte.
bool zipcrypto_header_ok(const Entry& e, std::string_view header12, std::string_view password);

// Header check, then decrypt + inflate (stored or deflate) with the CRC,
// reading at most `probe_output` plaintext bytes: a member that inflates
// that far without error is accepted (libzip checks the CRC in full when
// the member is really extracted). `encrypted` = the member's data
// (header included), exactly compressed_size bytes.
bool zipcrypto_password_ok(const Entry& e, std::string_view encrypted, std::string_view password,
                           std::uint64_t probe_output = 4u << 20);

// WinZip AES's PBKDF2 iteration count (AE-1/AE-2).
inline constexpr unsigned kAesIterations = 1000;

// WinZip AES: salt + 2-byte verifier at the start of `encrypted`. The try's
// kAesIterations rounds are taken from `budget` first (when given); false
// without trying when it is spent (budget->exhausted() then tells).
bool aes_password_ok(const Entry& e, std::string_view encrypted, std::string_view password,
                     KdfBudget* budget = nullptr);

// WinZip AES's authentication code: the first 10 bytes of HMAC-SHA1 over
// the encrypted data, stored after it.
inline constexpr std::size_t kAesAuthCode = 10;

// WinZip AES, the whole member (`encrypted` = salt, verifier, encrypted
// data, authentication code): whether `password`'s HMAC key reproduces the
// stored code. Takes its PBKDF2 rounds from `budget` first; false without
// trying when they do not fit.
bool aes_authentication_ok(const Entry& e, std::string_view encrypted, std::string_view password,
                           KdfBudget* budget = nullptr);

// WinZip AES, the whole member, deflated: whether `password`'s AES key
// decrypts a stream that inflates without error to its end (and its CRC
// for AE-1) or for `probe_output` bytes: the right password of a member
// whose authentication code is damaged. Stored members: false (random
// bytes cannot be told from a file). Takes its PBKDF2 rounds from `budget`
// first; false without trying when they do not fit.
bool aes_prefix_inflates(const Entry& e, std::string_view encrypted, std::string_view password,
                         KdfBudget* budget = nullptr, std::uint64_t probe_output = 4u << 20);

// PBKDF2-HMAC-SHA1 output block `block` (1-based) into out[20]. Exposed for tests.
void pbkdf2_sha1_block(std::string_view password, std::string_view salt, unsigned iterations,
                       std::uint32_t block, unsigned char out[20]);

// Dispatches on the entry's encryption; `budget` as for aes_password_ok
// (ZipCrypto has no key derivation and costs none).
bool password_ok(const Entry& e, std::string_view encrypted, std::string_view password,
                 KdfBudget* budget = nullptr);

}  // namespace emogate::zip
