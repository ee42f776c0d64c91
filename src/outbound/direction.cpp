// The store-free outbound policy: networks, direction, account and domain
// of an address; see direction.h.
// Trusted input: the settings; session facts are untrusted bytes.
#include "outbound/direction.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/text.h"

namespace emogate::outbound {

std::string_view to_string(Direction d) { return d == Direction::out ? "out" : "in"; }

std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.size() > 5 && ascii_lower(s.substr(0, 5)) == "ipv6:") s.remove_prefix(5);
  if (s.empty() || s.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

std::optional<Network> parse_network(std::string_view s) {
  std::string_view addr = s, bits;
  if (auto slash = s.rfind('/'); slash != std::string_view::npos) {
    addr = s.substr(0, slash);
    bits = s.substr(slash + 1);
  }
  auto a = parse_address(addr);
  if (!a) return std::nullopt;
  const bool v4 = addr.find(':') == std::string_view::npos;
  unsigned max = v4 ? 32 : 128, prefix = max;
  if (!bits.empty() || s.find('/') != std::string_view::npos) {
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || prefix > max) return std::nullopt;
  }
  Network n;
  n.addr = *a;
  n.prefix = v4 ? prefix + 96 : prefix;
  for (unsigned bit = n.prefix; bit < 128; ++bit)
    if (n.addr[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;  // host bits set: a typo
  return n;
}

bool contains(const Network& n, const std::array<std::uint8_t, 16>& a) {
  unsigned full = n.prefix / 8, rest = n.prefix % 8;
  if (!std::equal(n.addr.begin(), n.addr.begin() + full, a.begin())) return false;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (n.addr[full] & mask) == (a[full] & mask);
}

Direction direction(const Facts& f, const OutboundSettings& s) {
  if (!f.daemon_name.empty() &&
      std::find(s.submission_daemons.begin(), s.submission_daemons.end(), f.daemon_name) != s.submission_daemons.end())
    return Direction::out;
  if (s.authenticated_is_outbound && !f.auth_user.empty()) return Direction::out;
  if (!s.client_networks.empty()) {
    if (auto a = parse_address(f.client_ip))
      for (const std::string& text : s.client_networks)
        if (auto n = parse_network(text); n && contains(*n, *a)) return Direction::out;
  }
  return Direction::in;
}

std::string account_of(std::string_view auth_user, std::string_view envelope_sender) {
  std::string_view a = auth_user.empty() ? envelope_sender : auth_user;
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
  return ascii_lower(a);
}

std::string domain_of(std::string_view address) {
  while (!address.empty() && (address.back() == '>' || address.back() == '.')) address.remove_suffix(1);
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 == address.size()) return {};
  return ascii_lower(address.substr(at + 1));
}

bool is_local(std::string_view address, const OutboundSettings& s) {
  const std::string d = domain_of(address);
  if (d.empty()) return false;
  for (const std::string& l : s.local_domains)
    if (d == l || (d.size() > l.size() && d.ends_with(l) && d[d.size() - l.size() - 1] == '.')) return true;
  return false;
}

}  // namespace emogate::outbound
