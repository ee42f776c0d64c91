// The milter's TCP listener; see listener.h.
// Trusted input: none.
#include "milter/listener.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>

namespace emogate {

namespace {

bool int_option(int fd, int name, int* value) {
  socklen_t len = sizeof(int);
  return ::getsockopt(fd, SOL_SOCKET, name, value, &len) == 0;
}

}  // namespace

std::set<int> tcp_listeners() {
  std::set<int> out;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    const long n = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || n < 0 || n == ::dirfd(dir)) continue;
    const int fd = static_cast<int>(n);
    int listening = 0, domain = 0, protocol = 0;
    if (!int_option(fd, SO_ACCEPTCONN, &listening) || !listening) continue;
    if (!int_option(fd, SO_DOMAIN, &domain) || !int_option(fd, SO_PROTOCOL, &protocol)) continue;
    if ((domain == AF_INET || domain == AF_INET6) && protocol == IPPROTO_TCP) out.insert(fd);
  }
  ::closedir(dir);
  return out;
}

bool set_nodelay_on_new_listeners(const std::set<int>& before) {
  bool set = false;
  for (int fd : tcp_listeners()) {
    if (before.count(fd)) continue;
    const int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0) set = true;
  }
  return set;
}

}  // namespace emogate
