// Builders for the Emotet rule fixtures: minimal but well-formed containers
// (MS-CFB compound file via Ole2Builder, BIFF8 records, MS-SHLLINK header, OneNote file
// header and FileDataStoreObject) written in code, so no sample is stored
// in the repository. Each positive fixture reproduces the published traits
// of one campaign; each negative fixture is its closest benign neighbour.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "unit/fixtures.h"
#include "unit/ole2_builder.h"

namespace emogate::test {

inline void put16(std::string& s, std::uint16_t v) {
  s += static_cast<char>(v & 255);
  s += static_cast<char>(v >> 8);
}
inline void put32(std::string& s, std::uint32_t v) {
  put16(s, static_cast<std::uint16_t>(v & 0xFFFF));
  put16(s, static_cast<std::uint16_t>(v >> 16));
}

inline std::string utf16le(std::string_view a) {
  std::string s;
  for (char c : a) {
    s += c;
    s += '\0';
  }
  return s;
}

// A version 3 compound file (512-byte sectors) holding one stream in the
// regular FAT (not the mini stream).
inline std::string cfb_one_stream(std::string_view stream_name, std::string content) {
  Ole2Builder b;
  b.no_mini = true;
  b.add(std::string(stream_name), std::move(content));
  return b.build();
}

inline std::string biff_record(std::uint16_t type, std::string_view body) {
  std::string r;
  put16(r, type);
  put16(r, static_cast<std::uint16_t>(body.size()));
  r += body;
  return r;
}

// BIFF8 workbook globals with one sheet (hidden state, sheet type) and a
// sheet substream of FORMULA records whose tokens are ptgStr literals.
inline std::string biff8_workbook(std::uint8_t hs_state, std::uint8_t dt,
                                  std::initializer_list<std::string_view> literals) {
  std::string bof;
  put16(bof, 0x0600); put16(bof, 0x0005); put32(bof, 0); put32(bof, 0); put32(bof, 0);
  std::string name = "Sheet1";
  std::string bs;
  put32(bs, 0);  // lbPlyPos, not used by the rule
  bs += static_cast<char>(hs_state);
  bs += static_cast<char>(dt);
  bs += static_cast<char>(name.size());
  bs += '\0';
  bs += name;
  std::string wb = biff_record(0x0809, bof) + biff_record(0x0085, bs) + biff_record(0x000A, "");
  std::string sbof;
  put16(sbof, 0x0600); put16(sbof, dt == 1 ? 0x0040 : 0x0010); put32(sbof, 0); put32(sbof, 0); put32(sbof, 0);
  wb += biff_record(0x0809, sbof);
  std::uint16_t row = 0;
  for (auto lit : literals) {
    std::string rgce;
    rgce += '\x17';  // ptgStr
    rgce += static_cast<char>(lit.size());
    rgce += '\0';
    rgce += lit;
    std::string f;
    put16(f, row++); put16(f, 0); put16(f, 0x0F);
    f += std::string(8, '\0');
    put16(f, 0); put32(f, 0);
    put16(f, static_cast<std::uint16_t>(rgce.size()));
    f += rgce;
    wb += biff_record(0x0006, f);
  }
  wb += biff_record(0x000A, "");
  return cfb_one_stream("Workbook", wb);
}

// ShellLinkHeader (MS-SHLLINK 2.1) with HasRelativePath|HasArguments|
// IsUnicode, the RELATIVE_PATH and COMMAND_LINE_ARGUMENTS StringData, then
// whatever `appended` holds.
inline std::string lnk_with_arguments(std::string_view args, std::string_view appended = {},
                                      std::string_view target = "..\\..\\..\\Windows\\System32\\cmd.exe") {
  std::string s;
  put32(s, 0x4C);
  s += std::string("\x01\x14\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46", 16);
  put32(s, 0x08 | 0x20 | 0x80);  // LinkFlags
  put32(s, 0x20);         // FILE_ATTRIBUTE_ARCHIVE
  s += std::string(24, '\0');  // times
  put32(s, 0); put32(s, 0); put32(s, 7);  // size, icon, SW_SHOWMINNOACTIVE
  put16(s, 0); put16(s, 0); put32(s, 0); put32(s, 0);
  put16(s, static_cast<std::uint16_t>(target.size()));
  s += utf16le(target);
  put16(s, static_cast<std::uint16_t>(args.size()));
  s += utf16le(args);
  s += appended;
  return s;
}

// OneNote section: file format GUID header, then one FileDataStoreObject
// (header GUID, size, reserved, data, footer GUID) holding `embedded`.
inline std::string onenote_with_embedded(std::string_view embedded) {
  std::string s("\xE4\x52\x5C\x7B\x8C\xD8\xA7\x4D\xAE\xB1\x53\x78\xD0\x29\x96\xD3", 16);
  s += std::string(16, '\x11');  // guidFile
  s += std::string(0x400 - s.size(), '\0');
  s += std::string("\xE7\x16\xE3\xBD\x65\x26\x11\x45\xA4\xC4\x8D\x4D\x0B\x7A\x9E\xAC", 16);
  put32(s, static_cast<std::uint32_t>(embedded.size()));
  put32(s, 0);
  s += std::string(8, '\0');
  s += embedded;
  s += std::string("\x22\xA7\xFB\x71\x79\x0F\x0B\x4A\xBB\x13\x89\x92\x56\x42\x6B\x24", 16);
  return s;
}

inline std::string png_stub() {
  std::string s("\x89PNG\r\n\x1A\n", 8);
  s += std::string("\0\0\0\x0DIHDR", 8);
  s += std::string(64, '\x7F');
  return s;
}

}  // namespace emogate::test
