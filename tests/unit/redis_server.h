// A private redis-server for tests and benchmarks: started as a child of
// this process on a unix socket (or a free loopback port) in its own temp
// folder, without persistence, and stopped (by its pid) when the object
// goes. Tests skip, saying so, only when redis-server is not installed.
#pragma once

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "unit/test_files.h"

namespace emogate::test {

class RedisServer {
 public:
  RedisServer() = default;
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer() { stop(SIGTERM); }

  // The redis-server binary, "" when it is not installed.
  static std::string binary() {
    for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"})
      if (::access(p, X_OK) == 0) return p;
    return {};
  }

  // Starts the server (unix socket, or TCP on 127.0.0.1 when `tcp`) and
  // waits until it answers PING. `extra` are more command-line options.
  bool start(bool tcp = false, std::vector<std::string> extra = {}) {
    tcp_ = tcp;
    if (tcp) port_ = free_port();
    extra_ = std::move(extra);
    return launch();
  }

  // Starts it again on the same socket or port (after stop()).
  bool restart() { return launch(); }

  void stop(int sig = SIGKILL) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, sig);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = 0;
  }
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  // The [state] redis value for it.
  std::string address() const {
    return tcp_ ? "127.0.0.1:" + std::to_string(port_) : "unix:" + socket_path();
  }
  std::string socket_path() const { return (dir_.path / "redis.sock").string(); }

  // A raw connection, for tests that look at keys directly (caller frees).
  redisContext* connect() const {
    timeval tv{1, 0};
    return tcp_ ? redisConnectWithTimeout("127.0.0.1", port_, tv)
                : redisConnectUnixWithTimeout(socket_path().c_str(), tv);
  }

 private:
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    ::close(fd);
    return port;
  }

  bool launch() {
    std::string bin = binary();
    if (bin.empty()) return false;
    std::vector<std::string> args = {bin,
                                     "--port", tcp_ ? std::to_string(port_) : "0",
                                     "--bind", "127.0.0.1",
                                     "--save", "",
                                     "--appendonly", "no",
                                     "--daemonize", "no",
                                     "--dir", dir_.path.string(),
                                     "--logfile", (dir_.path / "redis.log").string()};
    if (!tcp_) args.insert(args.end(), {"--unixsocket", socket_path(), "--unixsocketperm", "700"});
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    // Up to 10 s (a loaded machine): it answers, or it died.
    for (int i = 0; i < 1000; ++i) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = 0;
        return false;
      }
      if (redisContext* c = connect()) {
        bool up = !c->err;
        redisFree(c);
        if (up) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop();
    return false;
  }

  TempDir dir_;
  bool tcp_ = false;
  int port_ = 0;
  pid_t pid_ = 0;
  std::vector<std::string> extra_;
};

}  // namespace emogate::test
