// libFuzzer target for Postfix's main.cf and master.cf as `emogate check`
// reads them (config/postfix.h): the input is split at the first NUL byte
// into main.cf and master.cf; parsing, `$name` expansion, milter lists,
// time values and the checks themselves must stay bounded and never crash.
#include <cstdint>
#include <string_view>

#include "config/postfix.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate::postfix;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = in.find('\0');
  const std::string_view main_cf = in.substr(0, nul);
  const std::string_view master_cf = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  for (const char* socket : {"unix:/var/spool/postfix/emogate/emogate.sock", "inet:7357@127.0.0.1", "inet:7357"}) {
    const Report r = check_texts(main_cf, master_cf, "/etc/postfix", socket, 90500);
    if (r.reaching > r.services) __builtin_trap();
  }
  const MainCf params = parse_main_cf(main_cf);
  for (const auto& [name, s] : params) {
    if (expand(s.value, params).size() > kMaxValueBytes) __builtin_trap();
    for (const MilterEntry& e : parse_milter_list(s.value)) {
      (void)same_endpoint("unix:/x", e.address, true, s.value);
      (void)parse_seconds(e.address);
    }
  }
  return 0;
}
