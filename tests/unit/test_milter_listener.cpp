// The milter's TCP listener (milter/listener): TCP_NODELAY is set on the
// listening TCP sockets opened after the snapshot, and only on those; a
// connection accepted from one has it; the listener libmilter's
// smfi_opensocket() opens for an inet socket is found and set.
#include <gtest/gtest.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "milter/listener.h"

namespace emogate::test {
namespace {

int nodelay(int fd) {
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  return v;
}

// A listening TCP socket on 127.0.0.1 (any port); its port in *port.
int tcp_listener(int* port = nullptr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    ADD_FAILURE() << "cannot listen on 127.0.0.1";
  if (port) *port = ntohs(a.sin_port);
  return fd;
}

TEST(MilterListener, NoDelayOnTheNewTcpListenerOnlyAndOnWhatItAccepts) {
  const int old_listener = tcp_listener();
  const std::set<int> before = tcp_listeners();
  ASSERT_TRUE(before.count(old_listener));
  int port = 0;
  const int fresh = tcp_listener(&port);
  const int unix_listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un u{};
  u.sun_family = AF_UNIX;
  const std::string name = "emogate-listener-test-" + std::to_string(::getpid());
  std::copy(name.begin(), name.end(), u.sun_path + 1);  // abstract: nothing on disk
  ASSERT_EQ(::bind(unix_listener, reinterpret_cast<sockaddr*>(&u), sizeof(sa_family_t) + 1 + name.size()), 0);
  ASSERT_EQ(::listen(unix_listener, 1), 0);
  EXPECT_FALSE(tcp_listeners().count(unix_listener));
  EXPECT_EQ(nodelay(fresh), 0);

  EXPECT_TRUE(set_nodelay_on_new_listeners(before));
  EXPECT_EQ(nodelay(fresh), 1);
  EXPECT_EQ(nodelay(old_listener), 0);

  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const int accepted = ::accept(fresh, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  EXPECT_EQ(nodelay(accepted), 1);
  // A connected socket is no listener; nothing new: nothing set.
  EXPECT_FALSE(tcp_listeners().count(accepted));
  EXPECT_FALSE(set_nodelay_on_new_listeners(tcp_listeners()));
  for (int fd : {old_listener, fresh, unix_listener, client, accepted}) ::close(fd);
}

TEST(MilterListener, TheListenerLibmilterOpensForAnInetSocketIsFound) {
  int port = 0;
  ::close(tcp_listener(&port));  // a free port
  static smfiDesc desc{};
  desc.xxfi_name = const_cast<char*>("emogate-test");
  desc.xxfi_version = SMFI_VERSION;
  ASSERT_EQ(smfi_register(desc), MI_SUCCESS);
  std::string conn = "inet:" + std::to_string(port) + "@127.0.0.1";
  ASSERT_EQ(smfi_setconn(conn.data()), MI_SUCCESS);
  const std::set<int> before = tcp_listeners();
  ASSERT_EQ(smfi_opensocket(true), MI_SUCCESS);
  const std::set<int> after = tcp_listeners();
  ASSERT_EQ(after.size(), before.size() + 1);
  EXPECT_TRUE(set_nodelay_on_new_listeners(before));
  for (int fd : after) {
    if (!before.count(fd)) {
      EXPECT_EQ(nodelay(fd), 1);
    }
  }
}

}  // namespace
}  // namespace emogate::test
