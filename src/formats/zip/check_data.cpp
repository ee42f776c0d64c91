// Cheap password-check data of encrypted ZIP members (check_data.h).
// Trusted input: none.
#include "formats/zip/check_data.h"

#include "formats/zip/members.h"
#include "formats/zip/password.h"

namespace emogate::zip {
namespace {

constexpr std::uint8_t kZipCrypto = 1;
constexpr std::uint8_t kAes = 2;

// The Entry the checks in password.h expect, rebuilt from the check data.
Entry as_entry(const MemberCheck& c) {
  Entry e;
  e.flags = static_cast<std::uint16_t>(c.flags | 1u);
  e.crc = c.crc;
  e.dos_time = c.dos_time;
  e.aes_strength = c.aes_strength;
  if (c.aes_strength) e.method = 99;
  return e;
}

bool header_size_ok(const MemberCheck& c) {
  return c.header.size() == (c.aes_strength ? 4u + 4u * static_cast<unsigned>(c.aes_strength) + 2u : 12u);
}

}  // namespace

std::optional<MemberCheck> member_check(const Entry& e, std::string_view archive) {
  if (!e.encrypted() || (e.flags & 0x40) || e.data_offset == 0) return std::nullopt;
  if (e.method == 99 && !e.aes_strength) return std::nullopt;  // AES with an unknown strength
  const std::uint64_t n = encryption_header_size(e);
  if (n == 0 || n > e.compressed_size || !in_bounds(archive, e.data_offset, n)) return std::nullopt;
  // AES needs only the salt and verifier: the other fields stay zero, so
  // that the check data has one form (the encoded one keeps no more).
  MemberCheck c;
  c.aes_strength = e.aes_strength;
  c.flags = e.aes_strength ? 1 : e.flags;
  c.crc = e.aes_strength ? 0 : e.crc;
  c.dos_time = e.aes_strength ? 0 : e.dos_time;
  c.header.assign(archive.substr(e.data_offset, n));
  return c;
}

bool check_password(const MemberCheck& c, std::string_view password, KdfBudget* budget) {
  if (!header_size_ok(c)) return false;
  const Entry e = as_entry(c);
  if (c.aes_strength) return aes_password_ok(e, c.header, password, budget);
  return zipcrypto_header_ok(e, c.header, password);
}

std::string check_cipher_name(const MemberCheck& c) { return cipher_name(as_entry(c)); }

void encode_check(const MemberCheck& c, std::string& out) {
  if (c.aes_strength) {
    out += static_cast<char>(kAes);
    out += static_cast<char>(c.aes_strength);
  } else {
    out += static_cast<char>(kZipCrypto);
    out += static_cast<char>(c.flags & 0xFF);
    out += static_cast<char>(c.flags >> 8);
    out += le32_bytes(c.crc);
    out += static_cast<char>(c.dos_time & 0xFF);
    out += static_cast<char>(c.dos_time >> 8);
  }
  out += c.header;
}

std::string encode_check(const MemberCheck& c) {
  std::string out;
  encode_check(c, out);
  return out;
}

bool decode_check(ByteReader& in, MemberCheck& c) {
  c = MemberCheck{};
  const std::uint8_t cipher = in.u8();
  if (!in.ok()) return false;
  if (cipher == kAes) {
    c.aes_strength = in.u8();
    if (!in.ok() || c.aes_strength < 1 || c.aes_strength > 3) return false;
    c.flags = 1;
  } else if (cipher == kZipCrypto) {
    c.flags = in.u16();
    c.crc = in.u32();
    c.dos_time = in.u16();
    if (!in.ok() || !(c.flags & 1u) || (c.flags & 0x40)) return false;
  } else {
    return false;
  }
  const std::size_t n = c.aes_strength ? 4u + 4u * static_cast<unsigned>(c.aes_strength) + 2u : 12u;
  std::string_view h = in.bytes(n);
  if (!in.ok()) return false;
  c.header.assign(h);
  return true;
}

std::optional<MemberCheck> decode_check(std::string_view bytes) {
  ByteReader in(bytes);
  MemberCheck c;
  if (!decode_check(in, c) || in.left() != 0) return std::nullopt;
  return c;
}

}  // namespace emogate::zip
