// What the ZIP module decides about single members (members.h).
// Trusted input: none.
#include "formats/zip/members.h"

#include <libdeflate.h>

#include <algorithm>
#include <vector>

#include "common/text.h"

namespace emogate::zip {

std::string cipher_name(const Entry& e) {
  if (!e.aes_strength) return "ZipCrypto";
  return "AES-" + std::to_string(64 + 64 * e.aes_strength);
}

std::string structure_problems(const Directory& dir) {
  std::vector<std::string> parts(dir.problems.begin(), dir.problems.end());
  if (dir.trailing > 0) parts.push_back(std::to_string(dir.trailing) + " bytes after the end record");
  if (dir.prefix > 0) parts.push_back(std::to_string(dir.prefix) + " bytes before the archive");
  return join(parts, "; ");
}

bool is_folder_entry(const Entry& e) {
  return !e.name.empty() && (e.name.back() == '/' || e.name.back() == '\\');
}

std::string libzip_raw_name(const Entry& e) {
  std::string raw = e.name;
  std::replace(raw.begin(), raw.end(), '\0', ' ');
  return raw;
}

bool libzip_can_decrypt(const zip::Entry& e, const zip_stat_t& st) {
  if (!(st.valid & ZIP_STAT_ENCRYPTION_METHOD) || !zip_encryption_method_supported(st.encryption_method, 0))
    return false;
  if (e.flags & 0x40) return false;  // PKWARE strong encryption: neither of us reads it
  switch (st.encryption_method) {
    case ZIP_EM_TRAD_PKWARE: return e.aes_strength == 0;
    case ZIP_EM_AES_128: return e.aes_strength == 1;
    case ZIP_EM_AES_192: return e.aes_strength == 2;
    case ZIP_EM_AES_256: return e.aes_strength == 3;
    default: return false;
  }
}

Inflated inflate_whole(const Entry& e, std::string_view archive, std::uint64_t max_size) {
  Inflated r;
  const std::uint16_t method = e.real_method();
  if ((method != 0 && method != 8) || e.data_offset == 0 || e.data_offset > archive.size() ||
      e.compressed_size > archive.size() - e.data_offset)
    return r;
  const std::uint64_t declared = e.uncompressed_size;
  if (declared > max_size) return r;
  const std::string_view in = archive.substr(e.data_offset, e.compressed_size);
  if (method == 0) {
    if (declared != in.size()) return r;
    r.plain = in;
  } else {
    thread_local std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> dec(
        libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
    if (!dec) return r;
    r.storage = std::make_unique<char[]>(std::max<std::uint64_t>(declared, 1));
    std::size_t got = 0;
    if (libdeflate_deflate_decompress(dec.get(), in.data(), in.size(), r.storage.get(), declared, &got) !=
            LIBDEFLATE_SUCCESS ||
        got != declared) {
      r.storage.reset();
      return r;
    }
    r.plain = std::string_view(r.storage.get(), got);
  }
  r.crc_ok = libdeflate_crc32(0, r.plain.data(), r.plain.size()) == e.crc;
  r.ok = true;
  return r;
}

}  // namespace emogate::zip
