// libFuzzer target: the Message-ID reader of the outbound gate on arbitrary
// header values; what it returns must be storable in the outbound log (no
// CR, LF or NUL, 1..998 bytes) or empty.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "milter/outbound_gate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string id = emogate::message_id_of(bytes);
  if (id.size() > 998 || id.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) std::abort();
  return 0;
}
