// Kind-tagged password-check data (lock_check.h).
// Trusted input: none.
#include "formats/passwords/lock_check.h"

namespace emogate::ppap {

LockCheck zip_lock(zip::MemberCheck c) {
  LockCheck l;
  l.kind = LockKind::zip_member;
  l.zip = std::move(c);
  return l;
}

std::optional<LockCheck> office_lock(const office_crypto::EncryptionInfo& info) {
  std::optional<office_crypto::EncryptionInfo> c = office_crypto::password_check(info);
  if (!c) return std::nullopt;
  LockCheck l;
  l.kind = LockKind::office_package;
  l.office = std::move(*c);
  return l;
}

std::string encode_lock(const LockCheck& c) {
  std::string out(1, static_cast<char>(c.kind));
  switch (c.kind) {
    case LockKind::zip_member:
      zip::encode_check(c.zip, out);
      return out;
    case LockKind::office_package:
      if (!office_crypto::encode_check(c.office, out)) return {};
      return out;
  }
  return {};
}

bool decode_lock(ByteReader& in, LockCheck& c) {
  c = LockCheck{};
  const std::uint8_t kind = in.u8();
  if (!in.ok()) return false;
  switch (kind) {
    case static_cast<std::uint8_t>(LockKind::zip_member):
      c.kind = LockKind::zip_member;
      return zip::decode_check(in, c.zip);
    case static_cast<std::uint8_t>(LockKind::office_package):
      c.kind = LockKind::office_package;
      return office_crypto::decode_check(in, c.office);
    default:
      return false;
  }
}

std::optional<LockCheck> decode_lock(std::string_view bytes) {
  ByteReader in(bytes);
  LockCheck c;
  if (!decode_lock(in, c) || in.left() != 0) return std::nullopt;
  return c;
}

bool check_password(const LockCheck& c, std::string_view password, KdfBudget& budget) {
  if (c.kind == LockKind::zip_member) return zip::check_password(c.zip, password, &budget);
  using office_crypto::Scheme;
  if (c.office.scheme != Scheme::standard && c.office.scheme != Scheme::agile) return false;
  if (!budget.take(office_crypto::kdf_rounds(c.office))) return false;
  return office_crypto::check_password(c.office, password) == office_crypto::DecryptResult::ok;
}

std::string lock_cipher_name(const LockCheck& c) {
  if (c.kind == LockKind::zip_member) return zip::check_cipher_name(c.zip);
  return "Office " + office_crypto::describe(c.office);
}

}  // namespace emogate::ppap
