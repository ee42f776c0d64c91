// What a RAR 5 archive's own headers say about encryption, read without
// libarchive: libarchive 3.6 stops at an encrypted RAR 5 member or at
// encrypted headers with a format error ("Unsupported block header size"),
// which would leave encrypted content looking merely damaged. This walks
// the block chain (RAR 5.0 archive format: vint fields, CRC32-framed
// headers) and lists the members whose file header carries an encryption
// record, or says the headers themselves are encrypted.
// Trusted input: none; every field is bounds-checked and the walk is
// bounded by the input size and `max_members`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emogate::rar5 {

struct LockedMember {
  std::string raw_name;  // UTF-8 by the format's definition (not trusted)
  std::uint64_t unpacked_size = 0;
};

struct EncryptionInfo {
  bool is_rar5 = false;            // the RAR 5 signature is at the start
  bool headers_encrypted = false;  // archive encryption header: names hidden
  std::vector<LockedMember> members;
};

EncryptionInfo read_encryption(std::string_view bytes, std::size_t max_members);

}  // namespace emogate::rar5
