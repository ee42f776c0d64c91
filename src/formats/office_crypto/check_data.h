// The cheap password-check data of an encrypted Office package, kept apart
// from the document so that a password arriving later (in a second mail,
// PPAP) can be tried without the message: the part of its EncryptionInfo
// that verifies a password. Standard encryption: key size, salt, encrypted
// verifier and verifier hash. Agile encryption: the password key
// encryptor's spinCount, hash, key size, salt, encrypted verifier hash
// input and value (keyData and the encrypted key value only decrypt the
// package, so they are not kept). A compact binary form travels inside the
// PPAP pending blob (formats/passwords/ppap_blob.h); office_crypto's
// check_password() tries a password against it.
// Trusted input: none. decode_check() takes bytes that come back from a
// store, bounds every field and rejects anything malformed; it never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "formats/office_crypto/office_crypto.h"

namespace emogate::office_crypto {

// Bounds of the encoded form (an encoder refuses more, a decoder rejects
// more). Office writes 16-byte salts and 16..64-byte verifier fields.
inline constexpr std::size_t kMaxCheckField = 256;

// The check data of `info`: only the fields check_password() reads. None
// when `info` is neither standard nor agile encryption, has a problem, or
// has a field over its bound (then no later password can be tried).
std::optional<EncryptionInfo> password_check(const EncryptionInfo& info);

// Compact binary form: scheme byte, then the fields that scheme needs.
// False (nothing written) when `c` is not what password_check() returns.
bool encode_check(const EncryptionInfo& c, std::string& out);
// Reads one encoded check at the reader's position; false on any
// malformed or out-of-bound field.
bool decode_check(ByteReader& in, EncryptionInfo& c);

}  // namespace emogate::office_crypto
