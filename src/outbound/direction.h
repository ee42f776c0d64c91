// Outbound policy that needs no store: which way a message goes (the
// submission service's {daemon_name}, an authenticated session, a client
// in [outbound] client_networks), whose account it is, and whether an
// address is in one of our domains. Pure functions, no I/O. (The freeze
// rule, decide_freeze(), is beside the freeze store in state/store.h.)
// Trusted input: the settings; the facts (macros, client address, envelope
// sender) come from the SMTP client and may hold any bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "emogate/config.h"

namespace emogate::outbound {

enum class Direction { in, out };
std::string_view to_string(Direction d);  // "in", "out"

// An IPv4 or IPv6 network. IPv4 is held as its IPv4-mapped IPv6 address
// (::ffff:a.b.c.d, prefix + 96), so "10.0.0.0/8" also holds a client that
// the MTA reports as "::ffff:10.1.2.3".
struct Network {
  std::array<std::uint8_t, 16> addr{};
  unsigned prefix = 128;
};
// "192.0.2.0/24", "2001:db8::/32", "[2001:db8::]/32", or one address
// (a /32 or /128). Bits past the prefix must be zero. None when malformed.
std::optional<Network> parse_network(std::string_view s);
// A client address as the MTA gives it ("192.0.2.7", "2001:db8::1",
// "[2001:db8::1]", "IPv6:2001:db8::1"): none when it is not an address.
std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view s);
bool contains(const Network& n, const std::array<std::uint8_t, 16>& a);

// What the milter knows about a session when it must decide.
struct Facts {
  std::string_view daemon_name;  // {daemon_name}
  std::string_view auth_user;    // {auth_authen}; "" when not authenticated
  std::string_view client_ip;    // the connecting client; "" when unknown
};

// Out when the session came through one of [outbound] submission_daemons,
// is authenticated (when authenticated_is_outbound), or comes from one of
// client_networks; in otherwise. The From or envelope sender never decides
// it (anyone can write our domain there).
Direction direction(const Facts& f, const OutboundSettings& s);

// The account an outbound message is charged to: the SASL user, else the
// envelope sender, lower-cased in ASCII; "" for the null sender without
// authentication (a bounce has no account).
std::string account_of(std::string_view auth_user, std::string_view envelope_sender);

// The domain of an address (after the last '@', lower-cased; without a
// trailing '>' or '.'), "" when there is none.
std::string domain_of(std::string_view address);
// True when the address's domain is one of [outbound] local_domains or a
// subdomain of one.
bool is_local(std::string_view address, const OutboundSettings& s);

}  // namespace emogate::outbound
