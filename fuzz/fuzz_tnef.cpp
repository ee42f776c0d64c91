// libFuzzer target: the TNEF attribute and MAPI property reader and the
// compressed-RTF (MS-OXRTFCP) decompressor on arbitrary bytes; the second
// pass puts the TNEF signature in front so the fuzzer reaches the
// attributes, and feeds every RTF body found to the decompressor.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/tnef/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string out;
  tnef::decompress_rtf(bytes, 1 << 20, out);
  const std::string framed = std::string("\x78\x9F\x3E\x22\x00\x00", 6) + std::string(bytes);
  for (std::string_view in : {bytes, std::string_view(framed)}) {
    const tnef::Message m = tnef::parse(in);
    if (m.rtf_compressed) {
      std::string body;
      tnef::decompress_rtf(*m.rtf_compressed, 1 << 20, body);
    }
  }
  return 0;
}
