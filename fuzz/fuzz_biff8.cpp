// libFuzzer target: the BIFF8/BIFF5 record walker (BOUNDSHEET, NAME, SST
// with CONTINUE, macro-sheet cells, FILEPASS and default-password
// decryption), the THEME package reassembly, the formula decoder in all three token layouts, the .xlsb
// record readers and the SYLK reader, on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/office_crypto/office_crypto.h"
#include "formats/xls/biff.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  xlm::analyse_workbook(bytes);
  xlm::theme_package(bytes);
  std::set<std::string> fns;
  for (int biff : {5, 8, 12}) xlm::decode_formula(bytes, biff, {"a", "b"}, &fns);
  auto wb = xlm::parse_xlsb_workbook(bytes);
  xlm::xlsb_sheet_text(bytes, wb.names, xlm::parse_xlsb_sst(bytes, 1 << 20), &fns, 1 << 20);
  if (xlm::is_sylk(bytes)) xlm::parse_sylk(bytes);
  xlm::biff_keystream(bytes, office_crypto::kExcelDefaultPassword, 64);
  return 0;
}
