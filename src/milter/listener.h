// The milter's TCP listener, which libmilter opens and keeps to itself:
// found among the process's descriptors to set TCP_NODELAY on it, which
// Linux passes on to every connection accepted from it. Without it each
// message stalls: libmilter writes each header change and the final reply
// as a small write of its own, and the MTA, with nothing to send back,
// delays its ACK (40 ms on Linux) while Nagle's algorithm holds the next
// write until that ACK. A unix socket has no such delays.
// Trusted input: none (only the process's own descriptors are read).
#pragma once

#include <set>

namespace emogate {

// The process's listening TCP sockets (IPv4 and IPv6), by descriptor.
std::set<int> tcp_listeners();

// Sets TCP_NODELAY on each listening TCP socket not in `before` (taken
// just before libmilter's smfi_opensocket()). False when none was set.
bool set_nodelay_on_new_listeners(const std::set<int>& before);

}  // namespace emogate
