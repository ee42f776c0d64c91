// libFuzzer target for the MIME stage: the whole message path (GMime
// parsing, charset decoding, uuencode, HTML reduction) plus whatever the
// extracted parts are dispatched to.
#include <cstdint>
#include <string_view>

#include "emogate/scanner.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static emogate::Scanner* scanner = [] {
    emogate::Config cfg;
    cfg.rules.paths.clear();
    cfg.limits.scan_timeout_ms = 2000;
    cfg.limits.max_extracted_bytes = 64 << 20;
    // Small header and part limits, so the flood guard's rewrite path runs.
    cfg.limits.max_headers = 100;
    cfg.limits.max_mime_parts = 20;
    return new emogate::Scanner(cfg);
  }();
  scanner->scan_message(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
