// libFuzzer target: the Windows shortcut parser ([MS-SHLLINK]) on arbitrary
// bytes (the header check is skipped by forcing a valid header size field
// half of the time so that the fuzzer reaches the structures behind it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/lnk/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto s = lnk::parse(bytes);
  lnk::runs_interpreter(s);
  if (bytes.size() >= 4) {
    bytes[0] = 0x4C;
    bytes[1] = bytes[2] = bytes[3] = 0;
    auto t = lnk::parse(bytes);
    lnk::runs_interpreter(t);
  }
  return 0;
}
