// libFuzzer target for the config loader: any text is either a Config or a
// ConfigError with a reason; no other exception, crash or stack overflow
// (`emogate check` must survive whatever file it is pointed at).
#include <cstdint>
#include <string>

#include "emogate/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    emogate::Config c = emogate::parse_config(text, "/etc/emogate/fuzz.toml");
    if (c.limits.max_compression_ratio != c.limits.max_compression_ratio) __builtin_trap();  // nan
  } catch (const emogate::ConfigError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
