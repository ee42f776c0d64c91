// Test fixtures: ZIP archives built in memory, with libzip for honest ones
// and by hand for the hostile layouts libzip refuses to write.
#pragma once

#include <zip.h>
#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "unit/block_zip.h"  // repeated_block_zip, zero_padded_zip, put16, put32

namespace emogate::test {

struct ZipMember {
  std::string name;
  std::string data;
  std::uint16_t encryption = ZIP_EM_NONE;  // ZIP_EM_TRAD_PKWARE, ZIP_EM_AES_256, ...
  std::string password;
  bool store = false;
};

inline std::string make_zip(const std::vector<ZipMember>& members) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_t* za = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  if (!za) throw std::runtime_error("zip_open_from_source");
  zip_source_keep(src);
  for (const auto& m : members) {
    zip_source_t* s = zip_source_buffer(za, m.data.data(), m.data.size(), 0);
    zip_int64_t i = zip_file_add(za, m.name.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (i < 0) throw std::runtime_error("zip_file_add");
    zip_set_file_compression(za, static_cast<zip_uint64_t>(i), m.store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0);
    if (m.encryption != ZIP_EM_NONE &&
        zip_file_set_encryption(za, static_cast<zip_uint64_t>(i), m.encryption, m.password.c_str()) < 0)
      throw std::runtime_error(std::string("zip_file_set_encryption: ") + zip_strerror(za));
  }
  if (zip_close(za) < 0) throw std::runtime_error("zip_close");
  std::string out;
  zip_stat_t st;
  if (zip_source_stat(src, &st) < 0 || zip_source_open(src) < 0) throw std::runtime_error("zip_source");
  out.resize(st.size);
  zip_source_read(src, out.data(), st.size);
  zip_source_close(src);
  zip_source_free(src);
  return out;
}

// A stored-only archive written by hand. `offset_of` lets an entry's
// central record point at another entry's local header (overlap bombs).
struct RawEntry {
  std::string name;
  std::string data;
  int offset_of = -1;  // reuse entry N's local header
};

inline std::string raw_zip(const std::vector<RawEntry>& entries, std::string tail = {}) {
  std::string out, cd;
  std::vector<std::uint32_t> offsets;
  for (const auto& e : entries) {
    offsets.push_back(static_cast<std::uint32_t>(out.size()));
    if (e.offset_of >= 0) continue;
    std::uint32_t crc = static_cast<std::uint32_t>(
        ::crc32(0, reinterpret_cast<const Bytef*>(e.data.data()), static_cast<uInt>(e.data.size())));
    put32(out, 0x04034b50); put16(out, 20); put16(out, 0); put16(out, 0); put16(out, 0); put16(out, 0x21);
    put32(out, crc); put32(out, static_cast<std::uint32_t>(e.data.size()));
    put32(out, static_cast<std::uint32_t>(e.data.size()));
    put16(out, static_cast<std::uint32_t>(e.name.size())); put16(out, 0);
    out += e.name;
    out += e.data;
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const auto& src = e.offset_of >= 0 ? entries[static_cast<std::size_t>(e.offset_of)] : e;
    std::uint32_t off = e.offset_of >= 0 ? offsets[static_cast<std::size_t>(e.offset_of)] : offsets[i];
    std::uint32_t crc = static_cast<std::uint32_t>(
        ::crc32(0, reinterpret_cast<const Bytef*>(src.data.data()), static_cast<uInt>(src.data.size())));
    put32(cd, 0x02014b50); put16(cd, 20); put16(cd, 20); put16(cd, 0); put16(cd, 0); put16(cd, 0);
    put16(cd, 0x21); put32(cd, crc); put32(cd, static_cast<std::uint32_t>(src.data.size()));
    put32(cd, static_cast<std::uint32_t>(src.data.size()));
    put16(cd, static_cast<std::uint32_t>(e.name.size())); put16(cd, 0); put16(cd, 0); put16(cd, 0);
    put16(cd, 0); put32(cd, 0); put32(cd, off);
    cd += e.name;
  }
  std::uint32_t cd_off = static_cast<std::uint32_t>(out.size());
  out += cd;
  put32(out, 0x06054b50); put16(out, 0); put16(out, 0);
  put16(out, static_cast<std::uint32_t>(entries.size())); put16(out, static_cast<std::uint32_t>(entries.size()));
  put32(out, static_cast<std::uint32_t>(cd.size())); put32(out, cd_off); put16(out, 0);
  return out + tail;
}

}  // namespace emogate::test
