// Office document encryption at the compound-file level (MS-OFFCRYPTO /
// ECMA-376 Part 2): the EncryptionInfo stream and decryption of the
// EncryptedPackage stream (an OOXML package) with a known password.
// Standard encryption (AES-ECB, SHA-1 key derivation, 50,000 rounds) and
// agile encryption (AES-CBC, SHA-1/SHA-256/SHA-384/SHA-512, spinCount
// rounds) are implemented with OpenSSL. PowerPoint 97-2003 encryption is
// recognised from its records (ppt_encryption).
//
// Trusted input: none. Sizes, spin counts and lengths are bounded before use.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace emogate::office_crypto {

enum class Scheme { unknown, standard, agile, extensible, rc4 };

struct EncryptionInfo {
  Scheme scheme = Scheme::unknown;
  int major = 0, minor = 0;
  std::string cipher;  // "AES-128", "RC4", ...
  std::string hash;    // "SHA1", "SHA512", ...
  std::string problem;  // why it could not be parsed fully (empty when fine)

  // Standard encryption.
  std::uint32_t key_bits = 0;
  std::string salt, verifier, verifier_hash;
  // Agile encryption: keyData and the password key encryptor.
  std::string data_salt;
  std::uint32_t data_block = 16, data_key_bits = 0;
  std::string data_hash;
  std::uint32_t spin_count = 0, pw_key_bits = 0, pw_hash_size = 0;
  std::string pw_salt, pw_hash, verifier_input_enc, verifier_value_enc, key_value_enc;

  bool operator==(const EncryptionInfo&) const = default;
};

EncryptionInfo parse_encryption_info(std::string_view stream);

// "agile encryption (AES-128, SHA1)", "standard encryption (AES-128)", ...
std::string describe(const EncryptionInfo& info);

// The well-known password Excel tries by itself ("VelvetSweatshop"): a file
// encrypted with it opens without asking, so malware used it.
inline constexpr std::string_view kExcelDefaultPassword = "VelvetSweatshop";

// H(a + b) with OpenSSL's `md` (the hash step of every Office key
// derivation, here and in BIFF8 RC4); empty when OpenSSL fails.
std::string digest(const EVP_MD* md, std::string_view a, std::string_view b = {});

// The highest spinCount the format allows; decrypt_package refuses more.
// Callers bound it lower ([limits] max_spin_count) and charge each try's
// kdf_rounds() to the message's KdfBudget before calling decrypt_package.
inline constexpr std::uint32_t kFormatMaxSpinCount = 10000000;
// Standard encryption's fixed key-derivation rounds ([MS-OFFCRYPTO] 2.3.4.7).
inline constexpr std::uint32_t kStandardSpinCount = 50000;

// Hash rounds one password try costs: the spinCount (agile), 50,000
// (standard), 0 for schemes decrypt_package does not try.
std::uint64_t kdf_rounds(const EncryptionInfo& info);

// PowerPoint 97-2003 encryption ([MS-PPT] 2.3.7): the CurrentUserAtom's
// headerToken says so, the current UserEditAtom carries an
// encryptSessionPersistIdRef, and the persist object it names is a
// CryptSession10Container (record 0x2F14) holding the EncryptionInfo. The
// records needed to find it are never encrypted. Any of the three makes the
// document encrypted; `evidence` names which were seen.
struct PptEncryption {
  bool encrypted = false;
  std::string evidence;      // "; "-separated
  bool container = false;    // the CryptSession10Container was found
  EncryptionInfo info;       // parsed from it when found
};
PptEncryption ppt_encryption(std::string_view current_user, std::string_view document);

enum class DecryptResult { ok, wrong_password, unsupported, malformed };

// Decrypts an EncryptedPackage stream with `password` (UTF-8). On ok, `out`
// holds the plaintext package, at most max_out bytes.
DecryptResult decrypt_package(const EncryptionInfo& info, std::string_view encrypted_package,
                              std::string_view password, std::uint64_t max_out, std::string& out);

// Whether `password` (UTF-8) is the document's, from the EncryptionInfo
// alone (the verifier; no package needed): ok, wrong_password, or
// unsupported/malformed when it cannot tell. Costs kdf_rounds(info) hash
// rounds, which the caller charges to its KdfBudget first.
DecryptResult check_password(const EncryptionInfo& info, std::string_view password);

}  // namespace emogate::office_crypto
