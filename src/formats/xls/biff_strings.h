// Text helpers shared by the BIFF formula decoder (formula.cpp) and the
// BIFF record walker (biff.cpp): quoted cell values, R1C1 cell names and
// the two BIFF string layouts. Internal to formats/xls.
// Trusted input: none (reads go through ByteReader, which stays failed
// after a short read).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace emogate::xlm {

// `s` in double quotes, inner quotes doubled, capped in length.
std::string quote(std::string_view s);
// "R<row+1>C<col+1>".
std::string cell_name(std::uint32_t row, std::uint32_t col);
// ShortXLUnicodeString (BIFF8, .xlsb) or byte string (BIFF5), 8-bit length.
std::string read_short_string(ByteReader& r, int biff);
// XLUnicodeString (BIFF8) or byte string (BIFF5), 16-bit length.
std::string read_long_string(ByteReader& r, int biff);

}  // namespace emogate::xlm
