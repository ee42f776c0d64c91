// libFuzzer target: the daemon's decoder of what a scan worker sends back
// (the binary Report and Request forms, src/worker/wire.cpp), on arbitrary
// bytes: a compromised worker controls them. What decodes must re-encode to
// the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "worker/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Report r;
  if (wire::decode(bytes, r) && wire::encode(r) != bytes) std::abort();
  wire::Request q;
  if (wire::decode(bytes, q) && wire::encode(q) != bytes) std::abort();
  return 0;
}
