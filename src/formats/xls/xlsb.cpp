// .xlsb workbook and macro-sheet parts ([MS-XLSB]): BrtBundleSh gives each
// sheet's name, visibility and relationship id; BrtName the defined names;
// cell records of a macro sheet give formulas (BIFF12 Rgce) and strings.
// Trusted input: none — records are walked linearly with checked lengths.
#include "common/bytes.h"
#include "common/text.h"
#include "formats/xls/biff.h"

namespace emogate::xlm {
namespace {

using Reader = ByteReader;

// BIFF12 record header: type in 1-2 bytes and size in 1-4 bytes, 7 bits each.
bool next_record(Reader& r, std::uint32_t& type, std::string_view& data) {
  if (r.left() == 0) return false;
  std::uint8_t b0 = r.u8();
  type = b0 & 0x7F;
  if (b0 & 0x80) type |= std::uint32_t(r.u8() & 0x7F) << 7;
  std::uint32_t size = 0;
  for (int k = 0; k < 4; ++k) {
    std::uint8_t b = r.u8();
    size |= std::uint32_t(b & 0x7F) << (7 * k);
    if (!(b & 0x80)) break;
  }
  if (!r.ok()) return false;
  data = r.bytes(std::min<std::size_t>(size, r.left()));
  return true;
}

std::string wide(Reader& r) {
  std::uint32_t cch = r.u32();
  if (cch == 0xFFFFFFFF || cch > r.left() / 2) return {};
  return utf16le_to_utf8(r.bytes(cch * 2u), false);
}

constexpr std::uint32_t kBrtSstItem = 19, kBrtName = 39, kBrtBundleSh = 156, kBrtRowHdr = 0, kBrtCellSt = 6,
                        kBrtCellIsst = 7, kBrtFmlaString = 8, kBrtFmlaNum = 9,
                        kBrtFmlaBool = 10, kBrtFmlaError = 11;

}  // namespace

XlsbWorkbook parse_xlsb_workbook(std::string_view bin) {
  XlsbWorkbook wb;
  Reader r(bin);
  std::uint32_t type;
  std::string_view d;
  while (next_record(r, type, d)) {
    Reader f(d);
    if (type == kBrtBundleSh) {
      XlsbSheet s;
      s.state = int(f.u32() & 3);
      f.u32();  // iTabID
      s.rel_id = wide(f);
      s.name = wide(f);
      wb.sheets.push_back(std::move(s));
    } else if (type == kBrtName) {
      f.u32();  // flags
      f.u8();   // chKey
      f.u32();  // itab
      std::string name = wide(f);
      if (auto_exec_name(name)) wb.auto_names.push_back(name);
      wb.names.push_back(std::move(name));
    }
  }
  return wb;
}

std::vector<std::string> parse_xlsb_sst(std::string_view bin, std::size_t max_bytes) {
  std::vector<std::string> out;
  std::size_t total = 0;
  Reader r(bin);
  std::uint32_t type;
  std::string_view d;
  while (next_record(r, type, d) && total < max_bytes) {
    if (type != kBrtSstItem) continue;
    Reader f(d);
    f.u8();  // rich-text and phonetic flags; the runs follow the text
    out.push_back(wide(f));
    total += out.back().size();
  }
  return out;
}

std::string xlsb_sheet_text(std::string_view bin, const std::vector<std::string>& names,
                            const std::vector<std::string>& sst, std::set<std::string>* functions,
                            std::size_t max_text) {
  std::string out;
  Reader r(bin);
  std::uint32_t type, row = 0;
  std::string_view d;
  while (next_record(r, type, d) && out.size() < max_text) {
    Reader f(d);
    if (type == kBrtRowHdr) {
      row = f.u32();
      continue;
    }
    if (type < kBrtCellSt || type > kBrtFmlaError) continue;
    std::uint32_t col = f.u32();
    f.u32();  // style and flags
    std::string line = "R" + std::to_string(std::uint64_t(row) + 1) + "C" +
                       std::to_string(std::uint64_t(col) + 1) + ": ";
    if (type == kBrtCellSt) {
      line += "\"" + wide(f) + "\"";
    } else if (type == kBrtCellIsst) {
      std::uint32_t i = f.u32();
      line += i < sst.size() ? "\"" + sst[i] + "\"" : "<sst " + std::to_string(i) + ">";
    } else {
      if (type == kBrtFmlaString) wide(f);
      else f.skip(type == kBrtFmlaNum ? 8 : 1);  // kBrtFmlaBool / kBrtFmlaError: one byte
      static_assert(kBrtFmlaBool + 1 == kBrtFmlaError && kBrtFmlaNum + 1 == kBrtFmlaBool);
      f.u16();  // grbitFlags
      std::uint32_t cce = f.u32();
      std::string_view rgce = f.bytes(std::min<std::size_t>(cce, f.left()));
      line += "=" + decode_formula(rgce, 12, names, functions);
    }
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace emogate::xlm
