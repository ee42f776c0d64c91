// The cheap password-check data of one encrypted ZIP member, kept apart
// from the archive so that a password arriving later (in a second mail) can
// be tried without the message: for ZipCrypto the 12-byte encryption header
// and what its last byte must decrypt to (the CRC's high byte, or the DOS
// time's when general-purpose bit 3 defers the CRC to a data descriptor);
// for WinZip AES the strength, the salt and the 2-byte password verifier.
// The tries reuse password.h (same key schedule, same PBKDF2), and a compact
// binary form travels, kind-tagged (formats/passwords/lock_check.h), inside
// the PPAP pending blob (formats/passwords/ppap_blob.h).
// Trusted input: none. decode_check() takes bytes that come back from a
// store and rejects anything malformed; it never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/kdf_budget.h"
#include "formats/zip/directory.h"

namespace emogate::zip {

struct MemberCheck {
  int aes_strength = 0;        // 0 = ZipCrypto, 1/2/3 = AES-128/192/256
  std::uint16_t flags = 0;     // general-purpose bits (bit 3: data descriptor)
  std::uint32_t crc = 0;       // ZipCrypto: the member's CRC-32
  std::uint16_t dos_time = 0;  // ZipCrypto: the member's DOS time
  // ZipCrypto: the 12-byte encryption header. AES: salt (8/12/16 bytes)
  // followed by the 2-byte verifier.
  std::string header;

  bool operator==(const MemberCheck&) const = default;
};

// The check data of `e` (encrypted, its data at e.data_offset in `archive`);
// none when the member is not encrypted, its header lies outside the
// archive, or its cipher is one neither we nor libzip read (PKWARE strong
// encryption, an unknown AES strength).
std::optional<MemberCheck> member_check(const Entry& e, std::string_view archive);

// True when `password` (the bytes to try, see password_encodings) passes
// the check: the ZipCrypto header decrypts to the check byte (1 in 256
// wrong passwords pass too), or the AES verifier matches (1 in 65,536).
// An AES try takes its PBKDF2 rounds from `budget` first when given.
bool check_password(const MemberCheck& c, std::string_view password, KdfBudget* budget = nullptr);

// "ZipCrypto", "AES-128"...
std::string check_cipher_name(const MemberCheck& c);

// Compact binary form: cipher byte, then the fields that cipher needs.
void encode_check(const MemberCheck& c, std::string& out);
std::string encode_check(const MemberCheck& c);
// Reads one encoded check at the reader's position; false (the reader then
// stays failed or is left where the bad field starts) on any malformed field.
bool decode_check(ByteReader& in, MemberCheck& c);
// A whole string holding exactly one encoded check.
std::optional<MemberCheck> decode_check(std::string_view bytes);

}  // namespace emogate::zip
