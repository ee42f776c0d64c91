// libFuzzer target: the outbound direction decision on arbitrary session
// facts ({daemon_name}, {auth_authen}, client address: the input split at
// its first two NUL bytes), and the network, address, account and domain
// parsers it uses, on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "emogate/config.h"
#include "outbound/direction.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const OutboundSettings settings = [] {
    OutboundSettings s;
    s.submission_daemons = {"submission"};
    s.client_networks = {"192.0.2.0/24", "2001:db8::/32", "::ffff:10.0.0.0/104"};
    s.local_domains = {"example.jp"};
    return s;
  }();
  std::string_view parts[3];
  std::string_view rest = bytes;
  for (int i = 0; i < 3; ++i) {
    auto nul = i < 2 ? rest.find('\0') : std::string_view::npos;
    parts[i] = rest.substr(0, nul);
    rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  }
  outbound::direction({parts[0], parts[1], parts[2]}, settings);
  if (auto n = outbound::parse_network(bytes))
    if (auto a = outbound::parse_address(parts[2])) outbound::contains(*n, *a);
  outbound::account_of(parts[1], parts[0]);
  outbound::is_local(bytes, settings);
  outbound::domain_of(bytes);
  return 0;
}
