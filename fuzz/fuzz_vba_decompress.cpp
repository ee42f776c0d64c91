// libFuzzer target: MS-OVBA decompression (bounded output), the dir stream
// parser on its output, and code-page decoding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/vba/ovba.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  bool complete = false;
  const std::string out = ovba::decompress(bytes, 1 << 20, &complete);
  const ovba::Dir dir = ovba::parse_dir(out);
  ovba::to_utf8(std::string_view(out).substr(0, 4096), dir.codepage);
  ovba::parse_dir(bytes);
  return 0;
}
