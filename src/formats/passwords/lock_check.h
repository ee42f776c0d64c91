// The cheap password-check data of one locked thing a later password may
// open (PPAP): an encrypted ZIP member (formats/zip/check_data.h) or an
// encrypted Office package (formats/office_crypto/check_data.h), tagged
// with its kind. Report::ppap.locked carries it encoded (encode_lock), and
// so does the PPAP pending blob (ppap_blob.h), so that a candidate can be
// tried without the message.
// Trusted input: none. decode_lock() takes bytes that come back from a scan
// worker or a store and rejects anything malformed; it never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/kdf_budget.h"
#include "formats/office_crypto/check_data.h"
#include "formats/zip/check_data.h"

namespace emogate::ppap {

enum class LockKind : std::uint8_t {
  zip_member = 0,      // an encrypted ZIP member (ZipCrypto, WinZip AES)
  office_package = 1,  // an encrypted OOXML package (standard, agile)
};

struct LockCheck {
  LockKind kind = LockKind::zip_member;
  zip::MemberCheck zip;                  // kind zip_member
  office_crypto::EncryptionInfo office;  // kind office_package: office_crypto::password_check()
  bool operator==(const LockCheck&) const = default;
};

LockCheck zip_lock(zip::MemberCheck c);
// None when the document's encryption cannot be checked later
// (office_crypto::password_check).
std::optional<LockCheck> office_lock(const office_crypto::EncryptionInfo& info);

// Kind byte, then the kind's encoded check. Empty when the check cannot be
// encoded (an office check not made by office_lock).
std::string encode_lock(const LockCheck& c);
// Reads one encoded lock at the reader's position; false on any malformed
// field or unknown kind.
bool decode_lock(ByteReader& in, LockCheck& c);
// A whole string holding exactly one encoded lock.
std::optional<LockCheck> decode_lock(std::string_view bytes);

// Whether `password` passes the check. A ZIP member takes the password's
// bytes as they are (the caller tries each of password_encodings()); an
// Office package takes it as UTF-8 and compares its verifier. Key
// derivation rounds (WinZip AES PBKDF2, Office spinCount) are taken from
// `budget` first; a try that does not fit is not made (false, and
// budget.exhausted() says so).
bool check_password(const LockCheck& c, std::string_view password, KdfBudget& budget);

// "ZipCrypto", "AES-256", "Office agile encryption (AES-256, SHA512)".
std::string lock_cipher_name(const LockCheck& c);

}  // namespace emogate::ppap
