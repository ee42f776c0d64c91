// Byte-by-byte builders for archive formats Debian has no writer for (RAR 4,
// RAR 5, LZH) and small helpers to patch CAB files, from the published
// format notes (RARLAB's technote for RAR 4 and RAR 5, the LHa header
// levels 0 and 2, Microsoft's CAB format). Stored (uncompressed) members
// only: what is under test is headers, names and flags, not codecs.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "unit/zip_fixtures.h"  // put16, put32

namespace emogate::test {

inline std::uint32_t crc32_of(const std::string& s) {
  return static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// ---- RAR 4 (RAR 2.9/3.x block format) --------------------------------------
struct Rar4Member {
  std::string name;            // bytes as stored (ASCII or CP932)
  std::u16string unicode;      // non-empty: FHD_UNICODE name (ASCII part = `name`)
  std::string data;
  std::uint8_t host_os = 2;    // 2 = Win32, 3 = Unix
  std::uint32_t attributes = 0x20;
  bool encrypted = false;
};

inline std::string rar4_block(std::uint8_t type, std::uint16_t flags, const std::string& body) {
  std::string h;
  h += static_cast<char>(type);
  put16(h, flags);
  put16(h, static_cast<std::uint32_t>(body.size() + 7));
  h += body;
  std::string out;
  put16(out, crc32_of(h) & 0xFFFF);
  return out + h;
}

inline std::string rar4(const std::vector<Rar4Member>& members) {
  std::string out("Rar!\x1A\x07\x00", 7);
  out += rar4_block(0x73, 0, std::string(6, '\0'));
  for (const auto& m : members) {
    std::string name = m.name;
    if (!m.unicode.empty()) {
      // RAR's packed UTF-16: a high byte, then per character a 2-bit op
      // (here always 2: both bytes follow, low first), four ops per flag byte.
      name += '\0';
      name += '\0';  // high byte (unused by op 2)
      for (std::size_t i = 0; i < m.unicode.size(); ++i) {
        if (i % 4 == 0) name += static_cast<char>(0xAA);
        put16(name, m.unicode[i]);
      }
    }
    std::string b;
    put32(b, static_cast<std::uint32_t>(m.data.size()));  // packed size
    put32(b, static_cast<std::uint32_t>(m.data.size()));  // unpacked size
    b += static_cast<char>(m.host_os);
    put32(b, crc32_of(m.data));
    put32(b, 0x5A210000);  // DOS time
    b += static_cast<char>(20);
    b += static_cast<char>(0x30);  // stored
    put16(b, static_cast<std::uint32_t>(name.size()));
    put32(b, m.attributes);
    b += name;
    std::uint16_t flags = 0x8000 | (m.unicode.empty() ? 0 : 0x200) | (m.encrypted ? 0x04 : 0);
    out += rar4_block(0x74, flags, b) + m.data;
  }
  out += rar4_block(0x7B, 0x4000, std::string());
  return out;
}

// ---- RAR 5 -------------------------------------------------------------------
inline std::string vint(std::uint64_t v) {
  std::string s;
  do {
    std::uint8_t b = v & 0x7F;
    v >>= 7;
    s += static_cast<char>(b | (v ? 0x80 : 0));
  } while (v);
  return s;
}

// type + flags + fields (+ extra) framed with size and CRC32.
inline std::string rar5_header(std::uint64_t type, const std::string& fields, const std::string& extra = {},
                               std::uint64_t data_size = 0, bool has_data = false) {
  std::string h = vint(type);
  std::uint64_t flags = (extra.empty() ? 0 : 1) | (has_data ? 2 : 0);
  h += vint(flags);
  if (!extra.empty()) h += vint(extra.size());
  if (has_data) h += vint(data_size);
  h += fields + extra;
  std::string sized = vint(h.size()) + h;
  std::string out;
  put32(out, crc32_of(sized));
  return out + sized;
}

struct Rar5Member {
  std::string name;  // UTF-8
  std::string data;
  bool encrypted = false;
};

inline std::string rar5(const std::vector<Rar5Member>& members, bool encrypt_headers = false) {
  std::string out("Rar!\x1A\x07\x01\x00", 8);
  const std::string salt(16, '\x11'), iv(16, '\x22');
  if (encrypt_headers) {
    out += rar5_header(4, vint(0) + vint(0) + std::string(1, '\x0F') + salt);
    out += std::string(16, '\x22') + std::string(48, '\x5A');  // IV + an encrypted main header
    return out;
  }
  out += rar5_header(1, vint(0));
  for (const auto& m : members) {
    std::string f = vint(m.encrypted ? 0 : 0x4);  // file flags: CRC32 present
    f += vint(m.data.size()) + vint(0x20);
    if (!m.encrypted) put32(f, crc32_of(m.data));
    f += vint(0) + vint(0) + vint(m.name.size()) + m.name;  // stored, Windows, name
    std::string extra;
    std::string data = m.data;
    if (m.encrypted) {
      std::string rec = vint(1) + vint(0) + vint(0) + std::string(1, '\x0F') + salt + iv;
      extra = vint(rec.size()) + rec;
      data.resize((data.size() + 15) / 16 * 16, '\x5A');
    }
    out += rar5_header(2, f, extra, data.size(), true) + data;
  }
  out += rar5_header(5, vint(0));
  return out;
}

// ---- LZH ---------------------------------------------------------------------
inline std::uint16_t crc16_arc(const std::string& s) {
  std::uint16_t crc = 0;
  for (unsigned char c : s) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
  }
  return crc;
}

// Level 0 header: the name is stored as raw bytes (CP932 on Japanese DOS/Windows).
inline std::string lzh_level0(const std::string& name, const std::string& data) {
  std::string h = "-lh0-";
  put32(h, static_cast<std::uint32_t>(data.size()));
  put32(h, static_cast<std::uint32_t>(data.size()));
  put32(h, 0x5A210000);
  h += '\x20';
  h += '\0';  // level 0
  h += static_cast<char>(name.size());
  h += name;
  put16(h, crc16_arc(data));
  std::uint8_t sum = 0;
  for (unsigned char c : h) sum = static_cast<std::uint8_t>(sum + c);
  std::string out;
  out += static_cast<char>(h.size());
  out += static_cast<char>(sum);
  return out + h + data + std::string(1, '\0');
}

// Level 2 header with the UTF-16LE file name extension (0x44) and the
// header CRC extension (0x00), which libarchive requires at level 2.
inline std::string lzh_level2_utf16(const std::u16string& name, const std::string& data) {
  std::string ext_name;
  ext_name += '\x44';
  for (char16_t c : name) put16(ext_name, c);
  std::string h;
  put16(h, 0);  // total header size, filled below
  h += "-lh0-";
  put32(h, static_cast<std::uint32_t>(data.size()));
  put32(h, static_cast<std::uint32_t>(data.size()));
  put32(h, 1700000000);
  h += '\x20';
  h += '\x02';  // level 2
  put16(h, crc16_arc(data));
  h += 'w';     // OS id: Windows
  put16(h, 5);  // next: the CRC extension (type, CRC16, next size)
  h += '\x00';
  const std::size_t crc_at = h.size();
  put16(h, 0);
  put16(h, static_cast<std::uint32_t>(ext_name.size() + 2));
  h += ext_name;
  put16(h, 0);  // no further extension
  h[0] = static_cast<char>(h.size() & 0xFF);
  h[1] = static_cast<char>(h.size() >> 8);
  std::uint16_t crc = crc16_arc(h);
  h[crc_at] = static_cast<char>(crc & 0xFF);
  h[crc_at + 1] = static_cast<char>(crc >> 8);
  return h + data + std::string(1, '\0');
}

}  // namespace emogate::test
