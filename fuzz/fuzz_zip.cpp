// Fuzz target: the ZIP walker. Our central-directory reader and password
// checks on the raw input, then the whole ZIP extractor (libzip, password
// search with a mail text taken from the input's tail, streaming, limits).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/zip/directory.h"
#include "formats/zip/password.h"
#include "extractor_harness.h"

namespace emogate {
std::unique_ptr<Module> make_zip_module();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto dir = emogate::zip::read_directory(in, 1000);
  for (const auto& e : dir.entries) {
    if (!e.data_offset || !e.encrypted()) continue;
    std::string_view body = in.substr(e.data_offset, e.compressed_size);
    emogate::zip::password_ok(e, body, "infected");
    emogate::zip::zipcrypto_password_ok(e, body, "1234", 1u << 16);
  }
  static const auto zip = emogate::make_zip_module();
  std::string_view tail = in.substr(size > 64 ? size - 64 : 0);
  emogate::fuzz::run_module(*zip, in, emogate::tag::zip, tail);
  return 0;
}
