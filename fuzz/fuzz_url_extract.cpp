// libFuzzer target: URL/IP extraction, de-obfuscation and normalisation on
// arbitrary bytes. Checks the invariants the detector relies on: bounded
// output, normalised URLs are fixed points, hosts of IPv4 URLs are dotted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/url/extract.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (emogate::deobfuscate_text(in).size() > size) std::abort();
  auto r = emogate::extract_urls(in, 64);
  if (r.urls.size() > 64 || r.ips.size() > 64 + 64) std::abort();
  for (const auto& u : r.urls) {
    auto again = emogate::normalize_url(u);
    if (!again || *again != u) std::abort();  // normalisation is idempotent
    (void)emogate::url_host(u);
  }
  for (const auto& ip : r.ips)
    if (!emogate::is_ipv4(ip)) std::abort();
  (void)emogate::numeric_host_to_ipv4(in.substr(0, 64));
  return 0;
}
