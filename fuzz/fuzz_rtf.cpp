// libFuzzer target: RTF \objdata extraction, OLE1 object and Package
// decoding, and field URL extraction, on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/rtf/objects.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const auto& obj : rtf::objdata(bytes, 64, 1 << 24)) {
    auto ole = rtf::parse_ole1(obj);
    if (ole.ok) rtf::parse_package(ole.native);
  }
  rtf::parse_package(bytes);
  rtf::field_urls(bytes);
  return 0;
}
