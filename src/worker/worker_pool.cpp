// WorkerPool and the worker process's main loop; see worker_pool.h.
// Everything a worker sends back is checked (frame sizes, enums) because a
// worker may be compromised.
// Trusted input: the Scanner and settings.
#include "worker/worker_pool.h"

#include <iconv.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>
#include <thread>

#include "worker/sandbox.h"
#include "worker/spool.h"

namespace emogate {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kStartTimeout = std::chrono::seconds(20);  // fork to sandbox entered
constexpr auto kGrace = std::chrono::milliseconds(250);   // past scan_timeout_ms
constexpr auto kWatchSlice = std::chrono::milliseconds(100);
// After a failed fork the pool tries again no sooner than this, doubling
// after each further failure up to the most.
constexpr Clock::duration kTopUpFirst = std::chrono::milliseconds(200);
constexpr Clock::duration kTopUpMost = std::chrono::seconds(10);
constexpr int kWorkerFd = 3;

// Charsets whose iconv modules are loaded (and kept) before workers fork: a
// sandboxed worker cannot open a gconv module later.
constexpr const char* kCharsets[] = {
    "ISO-8859-1",  "ISO-8859-2",  "ISO-8859-3",  "ISO-8859-4",   "ISO-8859-5",  "ISO-8859-6",  "ISO-8859-7",
    "ISO-8859-8",  "ISO-8859-9",  "ISO-8859-10", "ISO-8859-13",  "ISO-8859-14", "ISO-8859-15", "ISO-8859-16",
    "CP1250",      "CP1251",      "CP1252",      "CP1253",       "CP1254",      "CP1255",      "CP1256",
    "CP1257",      "CP1258",      "CP874",       "CP932",        "CP936",       "CP949",       "CP950",
    "CP437",       "CP850",       "CP852",       "CP866",        "SHIFT_JIS",   "EUC-JP",      "ISO-2022-JP",
    "ISO-2022-JP-2", "EUC-KR",    "ISO-2022-KR", "GB2312",       "GBK",         "GB18030",     "BIG5",
    "BIG5-HKSCS",  "EUC-TW",      "KOI8-R",      "KOI8-U",       "TIS-620",     "UTF-16",      "UTF-16LE",
    "UTF-16BE",    "UTF-32",      "UTF-7",       "MACINTOSH",    "IBM037",      "VISCII",      "ARMSCII-8",
    "GEORGIAN-PS", "MAC-CYRILLIC", "CP1125",    "HZ",
};

void preload_charsets() {
  // Kept open for the process's life on purpose: closing may unload the
  // module. Held by a static, so leak checkers see them as reachable.
  static const std::vector<iconv_t>* kept = [] {
    auto* v = new std::vector<iconv_t>;  // never destroyed: see above
    for (const char* cs : kCharsets) v->push_back(iconv_open("UTF-8", cs));
    return v;
  }();
  (void)kept;
}

// Exercises the lazily initialised parts of the engine (libmagic handles,
// GMime, hashing, the rule scanner) while the worker may still open files.
constexpr std::string_view kWarmUp =
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: =?ISO-8859-1?Q?warm_up?=\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\nhello https://example.org/x\r\n"
    "--b\r\nContent-Type: text/html; charset=windows-1252\r\n\r\n<p>hello</p>\r\n"
    "--b\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nUEsDBAoAAAAAAAAAIQAAAAAAAAAAAAAAAAAFAAAAYS50eHRQSwECFAAKAAAAAAAAACEAAAAAAAAAAAAAAAAABQAAAAAAAAAAAAAAAAAAAAAAYS50eHRQSwUGAAAAAAEAAQAzAAAAIwAAAAAA\r\n"
    "--b--\r\n";

[[noreturn]] void worker_main(int sock, const Scanner& scanner, const WorkerPoolSettings& s) {
  std::set_new_handler([] { ::_exit(kExitOutOfMemory); });
  {
    ScanOptions o;
    o.hash_all_objects = true;
    scanner.scan_message(kWarmUp, {}, o);
    scanner.scan_file("%PDF-1.4\n", "a.pdf", o);
    // A PE header: the descriptive libmagic handle loads on executables.
    std::string pe(256, '\0');
    pe[0] = 'M', pe[1] = 'Z', pe[0x3C] = 0x40;
    pe.replace(0x40, 6, std::string("PE\0\0\x4c\x01", 6));
    scanner.scan_file(pe, "a.exe", o);
  }
  SandboxSettings sb;
  sb.memory = s.worker_memory;
  sb.uid = s.uid;
  sb.gid = s.gid;
  std::string err = enter_sandbox(sb);
  if (!err.empty()) {
    wire::send_frame(sock, wire::kFailed, err);
    ::_exit(1);
  }
  if (!wire::send_frame(sock, wire::kReady, "")) ::_exit(0);
  for (;;) {
    char type = 0;
    std::string body;
    int fd = -1;
    if (wire::recv_frame(sock, type, body, &fd) != wire::Recv::ok) ::_exit(0);
    wire::Request req;
    struct stat st;
    if (type != wire::kRequest || fd < 0 || !wire::decode(body, req) || ::fstat(fd, &st) != 0 ||
        req.bytes > static_cast<std::uint64_t>(st.st_size))
      ::_exit(2);
    Report r;
    {
      MappedFd m(fd, req.bytes, /*populate=*/true);
      if (!m.ok()) ::_exit(kExitOutOfMemory);  // mapping failed: address space
      r = req.message ? scanner.scan_message(m.view(), req.env, req.opts)
                      : scanner.scan_file(m.view(), req.name, req.opts);
    }
    ::close(fd);
    // The answer: the worker's peak RSS (for recycling; reading it from
    // /proc in the daemon after every scan would cost more), then the report.
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    std::uint64_t peak = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
    std::string answer(reinterpret_cast<const char*>(&peak), sizeof peak);
    answer += wire::encode(r);
    if (!wire::send_frame(sock, wire::kAnswer, answer)) ::_exit(0);
  }
}

std::uint64_t rss_bytes(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (!f) return 0;
  unsigned long long size = 0, rss = 0;
  if (std::fscanf(f, "%llu %llu", &size, &rss) != 2) rss = 0;
  std::fclose(f);
  return rss * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return "signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string());
}

// Cause and description of a worker's end from its wait status.
std::pair<std::string, std::string> classify(int status) {
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    if (code == kExitOutOfMemory) return {"worker_memory", "ran out of memory ([limits] worker_memory)"};
    return {"worker_crash", "exited with status " + std::to_string(code)};
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    // Not sent by the pool (those are classified where they are sent): the
    // kernel's OOM killer is the usual source.
    if (sig == SIGKILL) return {"worker_memory", "killed by SIGKILL from outside (out of memory?)"};
    return {"worker_crash", "killed by " + signal_name(sig)};
  }
  return {"worker_crash", "ended"};
}

}  // namespace

struct WorkerPool::Worker {
  pid_t pid = -1;    // -1 once reaped
  pid_t id = -1;     // the pid it had, for logs
  int sock = -1;
  unsigned scans = 0;
  std::uint64_t peak_rss = 0;  // as the worker reported it after its last scan
  std::uint64_t generation = 0;
  bool ready = false;
  ~Worker() {
    if (sock >= 0) ::close(sock);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      int st;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) continue;
    }
  }
  // Kills (if asked) and reaps; returns the wait status.
  int reap(bool kill_first) {
    if (sock >= 0) ::close(sock), sock = -1;
    int st = 0;
    if (pid > 0) {
      if (kill_first) ::kill(pid, SIGKILL);
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) continue;
      pid = -1;
    }
    return st;
  }
};

struct WorkerPool::Attempt {
  enum Kind { ok, content, load, idle_death } kind = ok;
  std::string cause, how;
  Report report;
  bool have_report = false;
  bool killed = false;
};

WorkerPoolSettings worker_pool_settings(const Config& cfg, unsigned workers) {
  WorkerPoolSettings s;
  s.workers = workers ? workers : 1;
  s.queue_size = cfg.milter.queue_size;
  s.scan_timeout_ms = cfg.limits.scan_timeout_ms;
  s.worker_memory = cfg.limits.worker_memory;
  s.max_scans = cfg.limits.worker_max_scans;
  s.max_rss = cfg.limits.worker_max_rss;
  if (::geteuid() == 0) {
    passwd* pw = cfg.milter.user.empty() ? nullptr : ::getpwnam(cfg.milter.user.c_str());
    if (!pw || pw->pw_uid == 0) pw = ::getpwnam("nobody");
    if (!pw || pw->pw_uid == 0)
      throw std::runtime_error("running as root, but neither [milter] user nor 'nobody' exists for the scan workers");
    s.uid = pw->pw_uid;
    s.gid = pw->pw_gid;
  }
  return s;
}

bool report_timed_out(const Report& r) {
  for (const Finding& f : r.findings)
    if (f.type == FindingType::limit_exceeded && f.limit == "scan_timeout_ms") return true;
  return false;
}

Report content_failure_report(const WorkerPool::Outcome& o, Verdict verdict, const std::string& input) {
  if (o.have_report) return o.report;  // the engine's own partial report (its clock ran out)
  Report r;
  r.input = input;
  r.verdict = verdict;
  r.findings.push_back({FindingType::limit_exceeded, "(message)",
                        o.cause + ": the scan worker " + o.error + " (" + std::to_string(o.attempts) +
                            " attempts); content not fully inspected",
                        verdict, o.cause});
  return r;
}

WorkerPool::WorkerPool(const Scanner& scanner, WorkerPoolSettings s, std::function<void(const WorkerEvent&)> on_event)
    : scanner_(scanner), s_(s), on_event_(std::move(on_event)) {
  preload_charsets();
}

WorkerPool::~WorkerPool() { shutdown(); }

void WorkerPool::emit(const WorkerEvent& ev) {
  if (on_event_) on_event_(ev);
}

std::unique_ptr<WorkerPool::Worker> WorkerPool::spawn() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return nullptr;
  std::uint64_t gen;
  {
    std::lock_guard lk(mu_);
    gen = generation_;
  }
  pid_t pid = s_.fork ? s_.fork() : ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    errno = err;
    return nullptr;
  }
  if (pid == 0) {
    // Child: keep stdio and its end of the pair, nothing else of the daemon's.
    if (sv[1] != kWorkerFd && ::dup2(sv[1], kWorkerFd) < 0) ::_exit(1);
    ::close_range(kWorkerFd + 1, ~0U, 0);
    sigset_t all;
    sigemptyset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr);
    worker_main(kWorkerFd, scanner_, s_);
  }
  ::close(sv[1]);
  auto w = std::make_unique<Worker>();
  w->pid = w->id = pid;
  w->sock = sv[0];
  w->generation = gen;
  std::lock_guard lk(mu_);
  ++live_;
  return w;
}

std::unique_ptr<WorkerPool::Worker> WorkerPool::replacement() {
  auto w = spawn();
  if (w) {
    std::lock_guard lk(mu_);
    top_up_backoff_ = {};
    return w;
  }
  WorkerEvent ev;
  ev.cause = "fork_failed";
  ev.how = std::string("could not be forked: ") + std::strerror(errno);
  ev.died = true;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return nullptr;
    ++owed_;
    top_up_backoff_ = top_up_backoff_ == Clock::duration{} ? kTopUpFirst : std::min(2 * top_up_backoff_, kTopUpMost);
    next_top_up_ = Clock::now() + top_up_backoff_;
    cv_.notify_all();  // waiters wait until the next try
  }
  emit(ev);
  return nullptr;
}

void WorkerPool::top_up() {
  {
    std::lock_guard lk(mu_);
    if (stopping_ || owed_ == 0 || Clock::now() < next_top_up_) return;
    --owed_;
  }
  auto w = replacement();
  if (!w) return;
  {
    std::lock_guard lk(mu_);
    if (!stopping_) {
      idle_.push_back(std::move(w));
      cv_.notify_one();
      return;
    }
  }
  WorkerEvent ev;
  ev.cause = "shutdown";
  discard(std::move(w), ev);
}

void WorkerPool::start() {
  std::vector<std::unique_ptr<Worker>> ws;
  for (unsigned i = 0; i < s_.workers; ++i) {
    auto w = spawn();
    if (!w) throw std::runtime_error(std::string("cannot start a scan worker: ") + std::strerror(errno));
    ws.push_back(std::move(w));
  }
  for (auto& w : ws) {
    char type = 0;
    std::string body;
    wire::Recv st = wire::recv_frame(w->sock, type, body, nullptr, Clock::now() + kStartTimeout);
    if (st != wire::Recv::ok || type != wire::kReady) {
      std::string why = st == wire::Recv::ok && type == wire::kFailed ? body
                        : st == wire::Recv::timeout ? std::string("no answer")
                                                    : classify(w->reap(false)).second;
      std::lock_guard lk(mu_);
      live_ -= static_cast<unsigned>(ws.size());
      throw std::runtime_error("scan worker could not start: " + why);
    }
    w->ready = true;
  }
  std::lock_guard lk(mu_);
  for (auto& w : ws) idle_.push_back(std::move(w));
  cv_.notify_all();
}

WorkerPool::Attempt WorkerPool::attempt(Worker& w, const std::string& req, int fd, const std::string& queue_id) {
  Attempt a;
  char type = 0;
  std::string body;
  if (!w.ready) {
    wire::Recv st = wire::recv_frame(w.sock, type, body, nullptr, Clock::now() + kStartTimeout);
    if (st != wire::Recv::ok || type != wire::kReady) {
      a.kind = Attempt::load;
      a.cause = "worker_start";
      a.how = st == wire::Recv::ok && type == wire::kFailed ? "could not enter its sandbox: " + body
              : st == wire::Recv::timeout                   ? "did not start in time"
                                                            : "could not start";
      return a;
    }
    w.ready = true;
  }
  if (!wire::send_frame(w.sock, wire::kRequest, req, fd)) {
    a.kind = Attempt::idle_death;
    return a;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(s_.scan_timeout_ms) + kGrace;
  auto kill_for = [&](const char* cause, std::string how) {
    a.kind = Attempt::content;
    a.cause = cause;
    a.how = std::move(how);
    a.killed = true;
    return a;
  };
  // Wait for the answer; past the first slice, watch the worker's memory.
  for (;;) {
    auto now = Clock::now();
    if (now >= deadline)
      return kill_for("scan_timeout_ms",
                      "was killed after " + std::to_string(s_.scan_timeout_ms) + " ms ([limits] scan_timeout_ms)");
    auto slice = std::min<Clock::duration>(deadline - now, kWatchSlice);
    pollfd p{w.sock, POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(slice).count()) + 1);
    if (pr > 0) break;
    if (pr < 0 && errno != EINTR) break;
    if (s_.worker_memory && rss_bytes(w.pid) > s_.worker_memory)
      return kill_for("worker_memory", "was killed past " + std::to_string(s_.worker_memory >> 20) +
                                           " MiB resident ([limits] worker_memory)");
  }
  wire::Recv st = wire::recv_frame(w.sock, type, body, nullptr, deadline);
  if (st == wire::Recv::timeout)
    return kill_for("scan_timeout_ms",
                    "was killed after " + std::to_string(s_.scan_timeout_ms) + " ms ([limits] scan_timeout_ms)");
  if (st == wire::Recv::ok && type == wire::kAnswer && body.size() >= 8 &&
      wire::decode(std::string_view(body).substr(8), a.report)) {
    std::memcpy(&w.peak_rss, body.data(), 8);
    a.have_report = true;
    ++w.scans;
    if (report_timed_out(a.report)) {
      a.kind = Attempt::content;
      a.cause = "scan_timeout_ms";
      a.how = "used its whole deadline ([limits] scan_timeout_ms)";
    }
    return a;
  }
  if (st == wire::Recv::ok) return kill_for("worker_crash", "sent a malformed answer");
  // The worker ended before answering: it crashed or ran out of memory.
  int status = w.reap(false);
  auto [cause, how] = classify(status);
  a.kind = Attempt::content;
  a.cause = cause;
  a.how = how;
  return a;
}

void WorkerPool::discard(std::unique_ptr<Worker> w, WorkerEvent ev) {
  ev.pid = w->id;
  ev.scans = w->scans;
  if (w->pid > 0) w->reap(true);
  w.reset();
  {
    std::lock_guard lk(mu_);
    --live_;
  }
  emit(ev);
}

void WorkerPool::release(std::unique_ptr<Worker> w) {
  const char* retire = nullptr;
  bool stopping;
  {
    std::lock_guard lk(mu_);
    stopping = stopping_;
    if (stopping_) retire = "shutdown";
    else if (w->generation != generation_) retire = "reload";
  }
  if (!retire && s_.max_scans && w->scans >= s_.max_scans) retire = "max_scans";
  if (!retire && s_.max_rss && w->peak_rss > s_.max_rss) retire = "max_rss";
  if (retire) {
    WorkerEvent ev;
    ev.cause = retire;
    discard(std::move(w), ev);
    if (stopping) return;
    w = replacement();
    if (!w) return;  // owed: top_up() forks it for a later scan
  }
  std::lock_guard lk(mu_);
  idle_.push_back(std::move(w));
  cv_.notify_one();
}

WorkerPool::Outcome WorkerPool::scan(const wire::Request& request, int fd, std::uint64_t bytes,
                                     Clock::time_point queue_deadline) {
  wire::Request req = request;
  req.bytes = bytes;
  Outcome out;
  std::unique_ptr<Worker> w;
  {
    std::unique_lock lk(mu_);
    if (idle_.empty() && waiting_ >= s_.queue_size) {
      out.failure = Failure::load;
      out.cause = "queue_full";
      out.error = "all scan workers busy and the queue is full";
      return out;
    }
    ++waiting_;
    for (;;) {
      if (stopping_) break;
      const auto now = Clock::now();
      if (owed_ && now >= next_top_up_) {
        lk.unlock();
        top_up();
        lk.lock();
        continue;
      }
      if (!idle_.empty() || now >= queue_deadline) break;
      cv_.wait_until(lk, owed_ ? std::min(queue_deadline, next_top_up_) : queue_deadline);
    }
    --waiting_;
    if (idle_.empty()) {
      out.failure = Failure::load;
      out.cause = stopping_ ? "shutdown" : "queue_timeout";
      out.error = stopping_ ? "shutting down" : "no scan worker became free before the deadline";
      return out;
    }
    w = std::move(idle_.back());
    idle_.pop_back();
    ++busy_;
  }
  struct Busy {
    WorkerPool* p;
    ~Busy() {
      std::lock_guard lk(p->mu_);
      --p->busy_;
    }
  } busy_guard{this};

  const std::string body = wire::encode(req);
  bool idle_retry_used = false;
  for (;;) {
    ++out.attempts;
    Attempt a = attempt(*w, body, fd, req.env.queue_id);
    if (a.kind == Attempt::ok) {
      release(std::move(w));
      out.report = std::move(a.report);
      out.have_report = true;
      return out;
    }
    WorkerEvent ev;
    ev.queue_id = req.env.queue_id;
    ev.died = a.kind != Attempt::content || !a.have_report;
    ev.killed = a.killed;
    if (a.kind == Attempt::idle_death) {
      // It died while idle, before this message reached it: not the
      // message's doing. Replace it and try once more without counting.
      ev.cause = "worker_crash";
      ev.how = "had ended while idle";
      ev.queue_id.clear();
      discard(std::move(w), ev);
      --out.attempts;
      w = replacement();
      if (w && !idle_retry_used) {
        idle_retry_used = true;
        continue;
      }
      out.failure = Failure::load;
      out.cause = "worker_start";
      out.error = w ? "two scan workers ended before taking the message" : "no scan worker could be started";
      if (w) release(std::move(w));
      return out;
    }
    ev.cause = a.kind == Attempt::load ? "start_failed" : a.cause;
    ev.how = a.how;
    discard(std::move(w), ev);
    w = replacement();  // retries the message, then joins the pool
    if (a.kind == Attempt::load) {
      if (w) release(std::move(w));
      out.failure = Failure::load;
      out.cause = a.cause;
      out.error = "the scan worker " + a.how;
      return out;
    }
    if (out.attempts >= 2 || !w) {
      if (w) release(std::move(w));
      out.failure = Failure::content;
      out.cause = a.cause;
      out.error = a.how;
      if (a.have_report) {  // the engine stopped on its own clock: keep what it found
        out.report = std::move(a.report);
        out.have_report = true;
      }
      return out;
    }
  }
}

void WorkerPool::reload() {
  std::vector<std::unique_ptr<Worker>> old;
  {
    std::lock_guard lk(mu_);
    ++generation_;
    old.swap(idle_);
  }
  for (auto& w : old) {
    WorkerEvent ev;
    ev.cause = "reload";
    discard(std::move(w), ev);
    if (auto n = replacement()) {
      std::lock_guard lk(mu_);
      idle_.push_back(std::move(n));
      cv_.notify_one();
    }
  }
}

void WorkerPool::shutdown() {
  std::vector<std::unique_ptr<Worker>> old;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    old.swap(idle_);
    cv_.notify_all();
  }
  for (auto& w : old) {
    WorkerEvent ev;
    ev.cause = "shutdown";
    discard(std::move(w), ev);
  }
}

unsigned WorkerPool::workers() const {
  std::lock_guard lk(mu_);
  return live_;
}

unsigned WorkerPool::owed() const {
  std::lock_guard lk(mu_);
  return owed_;
}

unsigned WorkerPool::depth() const {
  std::lock_guard lk(mu_);
  return waiting_ + busy_;
}

}  // namespace emogate
