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
  std::size_t size() const { return s_.size(); }

  // The field vocabulary shared with In (see the *_fields lists below).
  void field(const std::string& v) { str(v); }
  void field(const std::vector<std::string>& v) { strs(v); }
  void field(std::uint64_t v) { u64(v); }
  void field(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void field(double v) { f64(v); }
  void field(int v) { u32(static_cast<std::uint32_t>(v)); }
  void field(bool v) { u8(v ? 1 : 0); }
  template <class E>
  void field(E v, int /*last*/) { u8(static_cast<std::uint8_t>(v)); }
  template <class T, class Fields>
  void list(const std::vector<T>& v, Fields fields) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const T& x : v) fields(*this, x);
  }

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

  void field(std::string& v) { v = str(); }
  void field(std::vector<std::string>& v) { v = strs(); }
  void field(std::uint64_t& v) { v = u64(); }
  void field(std::int64_t& v) { v = static_cast<std::int64_t>(u64()); }
  void field(double& v) { v = f64(); }
  void field(int& v) { v = static_cast<int>(u32()); }
  void field(bool& v) { v = flag(); }
  template <class E>
  void field(E& v, int last) { v = enumeration<E>(last); }
  // The count is bounded by what is left, at the encoded size of an empty item.
  template <class T, class Fields>
  void list(std::vector<T>& v, Fields fields) {
    Out empty;
    fields(empty, static_cast<const T&>(T{}));
    v.resize(count(empty.size()));
    for (T& x : v) fields(*this, x);
  }

 private:
  std::string_view s_;
  bool ok_ = true;
};

constexpr int kLastVerdict = static_cast<int>(Verdict::malicious);
constexpr int kLastFinding = static_cast<int>(std::size(kAllFindingTypes)) - 1;

// One list of fields per struct, used by encode (Io = Out, const struct)
// and decode (Io = In). The structured bindings name every data member, so
// a member added to the struct but not here does not compile.
template <class Io, class F>
void finding_fields(Io& io, F& f) {
  auto& [type, path, detail, verdict, limit, rule_set, score, trick, sender, claimed] = f;
  io.field(type, kLastFinding);
  io.field(path);
  io.field(detail);
  io.field(verdict, kLastVerdict);
  io.field(limit);
  io.field(rule_set);
  io.field(score);
  io.field(trick);
  io.field(sender);
  io.field(claimed);
}

template <class Io, class O>
void object_fields(Io& io, O& o) {
  auto& [path, name, declared_type, type, mime, size, sha256, depth, truncated, derived, provenance, body] = o;
  io.field(path);
  io.field(name);
  io.field(declared_type);
  io.field(type);
  io.field(mime);
  io.field(size);
  io.field(sha256);
  io.field(depth);
  io.field(truncated);
  io.field(derived);
  io.field(provenance);
  io.field(body);
}

template <class Io, class P>
void sourced_password_fields(Io& io, P& p) {
  auto& [password, source] = p;
  io.field(password);
  io.field(source);
}

template <class Io, class P>
void ppap_fields(Io& io, P& p) {
  auto& [from, subject, to, date, locked, passwords] = p;
  io.field(from);
  io.field(subject);
  io.field(to);
  io.field(date);
  io.list(locked, [](auto& i, auto& m) {
    auto& [archive, member, check] = m;
    i.field(archive);
    i.field(member);
    i.field(check);
  });
  io.list(passwords, [](auto& i, auto& x) { sourced_password_fields(i, x); });
}

template <class Io, class S>
void sender_facts_fields(Io& io, S& s) {
  auto& [from, in_reply_to, references, bounce, bounced_ids, bounced_for, bounce_problems] = s;
  io.field(from);
  io.field(in_reply_to);
  io.field(references);
  io.field(bounce);
  io.field(bounced_ids);
  io.field(bounced_for);
  io.field(bounce_problems);
}

template <class Io, class R>
void report_fields(Io& io, R& r) {
  auto& [input, verdict, findings, objects, urls, errors, incomplete, scan_ms, size, ppap, sender, rule_sets] = r;
  io.field(input);
  io.field(verdict, kLastVerdict);
  io.list(findings, [](auto& i, auto& f) { finding_fields(i, f); });
  io.list(objects, [](auto& i, auto& o) { object_fields(i, o); });
  io.field(urls);
  io.field(errors);
  io.field(incomplete);
  io.field(scan_ms);
  io.field(size);
  ppap_fields(io, ppap);
  sender_facts_fields(io, sender);
  io.list(rule_sets, [](auto& i, auto& u) {
    auto& [name, objects, cache_hits, passes, bytes, cpu_ms] = u;
    i.field(name);
    i.field(objects);
    i.field(cache_hits);
    i.field(passes);
    i.field(bytes);
    i.field(cpu_ms);
  });
}

template <class Io, class Q>
void request_fields(Io& io, Q& q) {
  auto& [message, bytes, name, env, opts] = q;
  auto& [queue_id, sender, recipients, client_addr, auth_user] = env;
  auto& [hash_all_objects, hash_attachments, extra_passwords, mine_follow_up_passwords, sender_checks, local_domains,
         local_names] = opts;
  io.field(message);
  io.field(bytes);
  io.field(hash_all_objects);
  io.field(hash_attachments);
  io.list(extra_passwords, [](auto& i, auto& x) { sourced_password_fields(i, x); });
  io.field(mine_follow_up_passwords);
  io.field(sender_checks);
  io.field(local_domains);
  io.field(local_names);
  io.field(name);
  io.field(queue_id);
  io.field(sender);
  io.field(recipients);
  io.field(client_addr);
  io.field(auth_user);
}

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
  request_fields(o, r);
  return o.take();
}

bool decode(std::string_view s, Request& r) {
  In in(s);
  request_fields(in, r);
  return in.done();
}

std::string encode(const Report& r) {
  Out o;
  report_fields(o, r);
  return o.take();
}

bool decode(std::string_view s, Report& r) {
  In in(s);
  report_fields(in, r);
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
