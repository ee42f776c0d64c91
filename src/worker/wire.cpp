// Frames, descriptor passing and the binary Request/Report forms; see
// wire.h. Every decoded length and enum is checked.
// Trusted input: none.
#include "worker/wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace emogate::wire {

namespace {

class Out {
 public:
  void u8(std::uint8_t v) { s_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { s_.append(reinterpret_cast<const char*>(&v), 4); }
  void u64(std::uint64_t v) { s_.append(reinterpret_cast<const char*>(&v), 8); }
  void f64(double v) { s_.append(reinterpret_cast<const char*>(&v), 8); }
  void str(std::string_view v) {
    u32(static_cast<std::uint32_t>(v.size()));
    s_.append(v);
  }
  void strs(const std::vector<std::string>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& x : v) str(x);
  }
  std::string take() { return std::move(s_); }

 private:
  std::string s_;
};

class In {
 public:
  explicit In(std::string_view s) : s_(s) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && s_.empty(); }
  template <class T>
  T raw() {
    T v{};
    if (s_.size() < sizeof v) return ok_ = false, v;
    std::memcpy(&v, s_.data(), sizeof v);
    s_.remove_prefix(sizeof v);
    return v;
  }
  std::uint8_t u8() { return raw<std::uint8_t>(); }
  bool flag() { return enumeration<std::uint8_t>(1) != 0; }
  std::uint32_t u32() { return raw<std::uint32_t>(); }
  std::uint64_t u64() { return raw<std::uint64_t>(); }
  double f64() { return raw<double>(); }
  std::string str() {
    std::uint32_t n = u32();
    if (!ok_ || n > s_.size()) return ok_ = false, std::string();
    std::string v(s_.substr(0, n));
    s_.remove_prefix(n);
    return v;
  }
  // A count of items that each take at least `min_bytes`: bounded by what is left.
  std::uint32_t count(std::size_t min_bytes) {
    std::uint32_t n = u32();
    if (ok_ && n > s_.size() / min_bytes) ok_ = false;
    return ok_ ? n : 0;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(count(4));
    for (auto& x : v) x = str();
    return v;
  }
  template <class E>
  E enumeration(int last) {
    std::uint8_t v = u8();
    if (v > last) ok_ = false;
    return static_cast<E>(ok_ ? v : 0);
  }

 private:
  std::string_view s_;
  bool ok_ = true;
};

constexpr int kLastVerdict = static_cast<int>(Verdict::malicious);
constexpr int kLastFinding = static_cast<int>(std::size(kAllFindingTypes)) - 1;

bool write_all(int sock, const char* p, std::size_t n, int fd) {
  bool fd_sent = fd < 0;
  while (n > 0) {
    iovec iov{const_cast<char*>(p), n};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    if (!fd_sent) {
      mh.msg_control = cbuf;
      mh.msg_controllen = sizeof cbuf;
      cmsghdr* c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t w = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    fd_sent = true;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

std::string encode(const Request& r) {
  Out o;
  o.u8(r.message ? 1 : 0);
  o.u8(r.opts.hash_all_objects ? 1 : 0);
  o.str(r.name);
  o.str(r.env.queue_id);
  o.str(r.env.sender);
  o.strs(r.env.recipients);
  o.str(r.env.client_addr);
  o.str(r.env.auth_user);
  return o.take();
}

bool decode(std::string_view s, Request& r) {
  In in(s);
  r.message = in.flag();
  r.opts.hash_all_objects = in.flag();
  r.name = in.str();
  r.env.queue_id = in.str();
  r.env.sender = in.str();
  r.env.recipients = in.strs();
  r.env.client_addr = in.str();
  r.env.auth_user = in.str();
  return in.done();
}

std::string encode(const Report& r) {
  Out o;
  o.str(r.input);
  o.u8(static_cast<std::uint8_t>(r.verdict));
  o.u32(static_cast<std::uint32_t>(r.findings.size()));
  for (const Finding& f : r.findings) {
    o.u8(static_cast<std::uint8_t>(f.type));
    o.str(f.path);
    o.str(f.detail);
    o.u8(static_cast<std::uint8_t>(f.verdict));
  }
  o.u32(static_cast<std::uint32_t>(r.objects.size()));
  for (const ObjectSummary& x : r.objects) {
    o.str(x.path);
    o.str(x.name);
    o.str(x.declared_type);
    o.str(x.type);
    o.str(x.mime);
    o.u64(x.size);
    o.str(x.sha256);
    o.u32(static_cast<std::uint32_t>(x.depth));
    o.u8(static_cast<std::uint8_t>((x.truncated ? 1 : 0) | (x.derived ? 2 : 0)));
    o.str(x.provenance);
  }
  o.strs(r.urls);
  o.strs(r.errors);
  o.strs(r.incomplete);
  o.f64(r.scan_ms);
  o.u64(r.size);
  return o.take();
}

bool decode(std::string_view s, Report& r) {
  In in(s);
  r.input = in.str();
  r.verdict = in.enumeration<Verdict>(kLastVerdict);
  r.findings.resize(in.count(10));
  for (Finding& f : r.findings) {
    f.type = in.enumeration<FindingType>(kLastFinding);
    f.path = in.str();
    f.detail = in.str();
    f.verdict = in.enumeration<Verdict>(kLastVerdict);
  }
  r.objects.resize(in.count(41));
  for (ObjectSummary& x : r.objects) {
    x.path = in.str();
    x.name = in.str();
    x.declared_type = in.str();
    x.type = in.str();
    x.mime = in.str();
    x.size = in.u64();
    x.sha256 = in.str();
    x.depth = static_cast<int>(in.u32());
    std::uint8_t flags = in.enumeration<std::uint8_t>(3);
    x.truncated = flags & 1;
    x.derived = flags & 2;
    x.provenance = in.str();
  }
  r.urls = in.strs();
  r.errors = in.strs();
  r.incomplete = in.strs();
  r.scan_ms = in.f64();
  r.size = in.u64();
  return in.done();
}

bool send_frame(int sock, char type, std::string_view body, int fd) {
  if (body.size() + 1 > kMaxFrame) {
    errno = EMSGSIZE;
    return false;
  }
  std::string head(5, '\0');
  std::uint32_t len = static_cast<std::uint32_t>(body.size() + 1);
  std::memcpy(head.data(), &len, 4);
  head[4] = type;
  // Small frames go out in one write; large ones without copying the body.
  if (body.size() < 64 * 1024) {
    head.append(body);
    return write_all(sock, head.data(), head.size(), fd);
  }
  return write_all(sock, head.data(), head.size(), fd) && write_all(sock, body.data(), body.size(), -1);
}

namespace {
// Reads exactly n bytes; takes a passed descriptor if one comes along.
Recv read_exact(int sock, char* p, std::size_t n, int* fd, std::chrono::steady_clock::time_point deadline) {
  using Clock = std::chrono::steady_clock;
  const bool timed = deadline != Clock::time_point::max();
  while (n > 0) {
    if (timed) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return Recv::timeout;
      pollfd pfd{sock, POLLIN, 0};
      int pr = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left + 1, 1 << 30)));
      if (pr < 0 && errno != EINTR) return Recv::error;
      if (pr <= 0) continue;
    }
    iovec iov{p, n};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    ssize_t r = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | (timed ? MSG_DONTWAIT : 0));
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Recv::error;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      std::size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < k; ++i) {
        int got;
        std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
        if (fd && *fd < 0) *fd = got;
        else ::close(got);  // more than one, or none wanted: never keep it
      }
    }
    if (r == 0) return Recv::eof;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return Recv::ok;
}
}  // namespace

Recv recv_frame(int sock, char& type, std::string& body, int* fd, std::chrono::steady_clock::time_point deadline) {
  if (fd) *fd = -1;
  char head[5];
  Recv st = read_exact(sock, head, 5, fd, deadline);
  if (st != Recv::ok) return st;
  std::uint32_t len;
  std::memcpy(&len, head, 4);
  if (len == 0 || len > kMaxFrame) return Recv::error;
  type = head[4];
  body.resize(len - 1);
  return read_exact(sock, body.data(), body.size(), fd, deadline);
}

}  // namespace emogate::wire
