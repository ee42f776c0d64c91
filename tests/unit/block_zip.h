// Test fixtures: ZIP archives of huge deflated members (bombs, padding,
// slow scans) built from one repeated deflate block, without libzip.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "unit/le_put.h"

namespace emogate::test {

// A ZIP whose deflated members (one per name) each hold `prefix` followed
// by `copies` copies of `block`. Built by repeating one full-flushed
// deflate block, so members of gigabytes cost a few MB and milliseconds
// to make (the declared size must fit 32 bits).
inline std::string repeated_block_zip(const std::vector<std::string>& names, const std::string& prefix,
                                      const std::string& block, std::uint64_t copies) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  auto run = [&](const std::string& in, int flush) {
    std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, flush);
    out.resize(out.size() - zs.avail_out);
    return out;
  };
  std::string data = run(prefix, Z_FULL_FLUSH);
  std::string deflated = run(block, Z_FULL_FLUSH);
  for (std::uint64_t i = 0; i < copies; ++i) data += deflated;
  data += run("", Z_FINISH);
  deflateEnd(&zs);
  uLong bcrc = crc32(0, reinterpret_cast<const Bytef*>(block.data()), static_cast<uInt>(block.size()));
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(prefix.data()), static_cast<uInt>(prefix.size()));
  for (std::uint64_t i = 0; i < copies; ++i) crc = crc32_combine(crc, bcrc, static_cast<z_off_t>(block.size()));
  std::uint32_t usize = static_cast<std::uint32_t>(prefix.size() + copies * block.size());
  std::string out, cd;
  auto header = [&](std::string& s, const std::string& name, bool central, std::uint32_t offset) {
    put32(s, central ? 0x02014b50 : 0x04034b50);
    if (central) put16(s, 20);
    put16(s, 20); put16(s, 0); put16(s, 8); put16(s, 0); put16(s, 0x21);
    put32(s, static_cast<std::uint32_t>(crc)); put32(s, static_cast<std::uint32_t>(data.size())); put32(s, usize);
    put16(s, static_cast<std::uint32_t>(name.size())); put16(s, 0);
    if (central) { put16(s, 0); put16(s, 0); put16(s, 0); put32(s, 0); put32(s, offset); }
    s += name;
  };
  for (const std::string& name : names) {
    header(cd, name, true, static_cast<std::uint32_t>(out.size()));
    header(out, name, false, 0);
    out += data;
  }
  std::uint32_t cd_off = static_cast<std::uint32_t>(out.size());
  out += cd;
  const auto n = static_cast<std::uint32_t>(names.size());
  put32(out, 0x06054b50); put16(out, 0); put16(out, 0); put16(out, n); put16(out, n);
  put32(out, static_cast<std::uint32_t>(cd.size())); put32(out, cd_off); put16(out, 0);
  return out;
}

// A ZIP with one deflated member: `prefix` followed by `zeros` zero bytes
// (a multiple of 1 MiB).
inline std::string zero_padded_zip(const std::string& name, const std::string& prefix, std::uint64_t zeros) {
  constexpr std::uint64_t kMiB = 1u << 20;
  return repeated_block_zip({name}, prefix, std::string(kMiB, '\0'), zeros / kMiB);
}

}  // namespace emogate::test
