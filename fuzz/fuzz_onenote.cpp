// libFuzzer target: OneNote FileDataStoreObject scanning, embedded-file name
// candidates and their pairing, and the tolerant XML scanner used for OOXML
// parts, on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/ooxml/xml_scan.h"
#include "formats/onenote/blobs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto blobs = onenote::file_blobs(bytes);
  onenote::pair_names(blobs, onenote::file_names(bytes));
  xml::Scanner sc(bytes);
  xml::Tag t;
  while (sc.next(t))
    for (auto& [k, v] : t.attrs) xml::unescape(v);
  return 0;
}
