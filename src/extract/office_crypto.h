// Office document encryption at the compound-file level (MS-OFFCRYPTO /
// ECMA-376 Part 2): the EncryptionInfo stream and decryption of the
// EncryptedPackage stream (an OOXML package) with a known password.
// Standard encryption (AES-ECB, SHA-1 key derivation, 50,000 rounds) and
// agile encryption (AES-CBC, SHA-1/SHA-256/SHA-384/SHA-512, spinCount
// rounds) are implemented with OpenSSL.
//
// Input trusted: none. Sizes, spin counts and lengths are bounded before use.
#pragma once

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
};

EncryptionInfo parse_encryption_info(std::string_view stream);

// "agile encryption (AES-128, SHA1)", "standard encryption (AES-128)", ...
std::string describe(const EncryptionInfo& info);

// The well-known password Excel tries by itself ("VelvetSweatshop"): a file
// encrypted with it opens without asking, so malware used it.
inline constexpr std::string_view kExcelDefaultPassword = "VelvetSweatshop";

// Highest agile spinCount we will run (the format allows 10,000,000; Office
// writes 100,000). Higher counts are reported, not attempted.
inline constexpr std::uint32_t kMaxSpinCount = 1000000;

enum class DecryptResult { ok, wrong_password, unsupported, malformed };

// Decrypts an EncryptedPackage stream with `password` (UTF-8). On ok, `out`
// holds the plaintext package, at most max_out bytes.
DecryptResult decrypt_package(const EncryptionInfo& info, std::string_view encrypted_package,
                              std::string_view password, std::uint64_t max_out, std::string& out);

}  // namespace emogate::office_crypto
