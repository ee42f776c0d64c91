// libFuzzer target: the PPAP pending blob parser (formats/zip/ppap_blob.h),
// which reads bytes that come back from a shared store. Whatever parses must
// encode again to the same bytes, and its checks must be tryable.
// Trusted input: none.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/zip/ppap_blob.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto blob = emogate::zip::parse_ppap_blob(in, &error);
  if (!blob) return 0;
  auto again = emogate::zip::encode_ppap_blob(*blob);
  if (!again || *again != in) std::abort();  // a parsed blob is canonical
  for (const auto& a : blob->archives)
    for (const auto& m : a.members)
      if (!m.check.aes_strength) emogate::zip::check_password(m.check, "x");  // AES costs 1000 rounds: skip
  return 0;
}
