// Office password-check data (check_data.h).
// Trusted input: none.
#include "formats/office_crypto/check_data.h"

namespace emogate::office_crypto {
namespace {

constexpr std::uint8_t kStandard = 1, kAgile = 2;

// The hash names agile encryption uses that check_password() implements.
constexpr std::string_view kHashes[] = {"SHA1", "SHA256", "SHA384", "SHA512"};

int hash_id(const std::string& name) {
  for (std::size_t i = 0; i < std::size(kHashes); ++i)
    if (kHashes[i] == name) return static_cast<int>(i) + 1;
  return 0;
}

bool key_bits_ok(std::uint32_t bits) { return bits == 128 || bits == 192 || bits == 256; }

bool put_field(std::string& out, std::string_view s, std::size_t min) {
  if (s.size() < min || s.size() > kMaxCheckField) return false;
  out += static_cast<char>(s.size() & 0xFF);
  out += static_cast<char>(s.size() >> 8);
  out += s;
  return true;
}

bool get_field(ByteReader& in, std::string& out, std::size_t min) {
  const std::uint16_t n = in.u16();
  if (!in.ok() || n < min || n > kMaxCheckField) return false;
  const std::string_view v = in.bytes(n);
  if (!in.ok()) return false;
  out.assign(v);
  return true;
}

}  // namespace

std::optional<EncryptionInfo> password_check(const EncryptionInfo& info) {
  if (!info.problem.empty()) return std::nullopt;
  EncryptionInfo c;
  c.scheme = info.scheme;
  if (info.scheme == Scheme::standard) {
    c.key_bits = info.key_bits;
    c.salt = info.salt;
    c.verifier = info.verifier;
    c.verifier_hash = info.verifier_hash;
  } else if (info.scheme == Scheme::agile) {
    c.spin_count = info.spin_count;
    c.pw_key_bits = info.pw_key_bits;
    c.pw_hash = info.pw_hash;
    c.pw_salt = info.pw_salt;
    c.verifier_input_enc = info.verifier_input_enc;
    c.verifier_value_enc = info.verifier_value_enc;
  } else {
    return std::nullopt;
  }
  // Through the encoded form, so that what is kept equals what a store
  // gives back.
  std::string bytes;
  if (!encode_check(c, bytes)) return std::nullopt;
  ByteReader in(bytes);
  if (!decode_check(in, c) || in.left() != 0) return std::nullopt;
  return c;
}

bool encode_check(const EncryptionInfo& c, std::string& out) {
  std::string e;
  if (c.scheme == Scheme::standard) {
    if (!key_bits_ok(c.key_bits) || c.salt.size() != 16 || c.verifier.size() != 16) return false;
    e += static_cast<char>(kStandard);
    e += static_cast<char>(c.key_bits / 8);
    e += c.salt;
    e += c.verifier;
    if (!put_field(e, c.verifier_hash, 32)) return false;
  } else if (c.scheme == Scheme::agile) {
    const int h = hash_id(c.pw_hash);
    if (!h || !key_bits_ok(c.pw_key_bits) || c.spin_count > kFormatMaxSpinCount) return false;
    e += static_cast<char>(kAgile);
    e += static_cast<char>(h);
    e += static_cast<char>(c.pw_key_bits / 8);
    e += le32_bytes(c.spin_count);
    if (!put_field(e, c.pw_salt, 1) || !put_field(e, c.verifier_input_enc, 16) ||
        !put_field(e, c.verifier_value_enc, 16))
      return false;
  } else {
    return false;
  }
  out += e;
  return true;
}

bool decode_check(ByteReader& in, EncryptionInfo& c) {
  c = EncryptionInfo{};
  const std::uint8_t scheme = in.u8();
  if (!in.ok()) return false;
  if (scheme == kStandard) {
    c.scheme = Scheme::standard;
    c.major = 3;
    c.minor = 2;
    c.key_bits = 8u * in.u8();
    c.salt.assign(in.bytes(16));
    c.verifier.assign(in.bytes(16));
    if (!in.ok() || !key_bits_ok(c.key_bits) || !get_field(in, c.verifier_hash, 32)) return false;
    c.cipher = "AES-" + std::to_string(c.key_bits);
    c.hash = "SHA1";
    return true;
  }
  if (scheme == kAgile) {
    c.scheme = Scheme::agile;
    c.major = 4;
    c.minor = 4;
    const std::uint8_t h = in.u8();
    c.pw_key_bits = 8u * in.u8();
    c.spin_count = in.u32();
    if (!in.ok() || h < 1 || h > std::size(kHashes) || !key_bits_ok(c.pw_key_bits) ||
        c.spin_count > kFormatMaxSpinCount)
      return false;
    c.pw_hash = std::string(kHashes[h - 1]);
    if (!get_field(in, c.pw_salt, 1) || !get_field(in, c.verifier_input_enc, 16) ||
        !get_field(in, c.verifier_value_enc, 16))
      return false;
    c.cipher = "AES-" + std::to_string(c.pw_key_bits);
    c.hash = c.pw_hash;
    return true;
  }
  return false;
}

}  // namespace emogate::office_crypto
