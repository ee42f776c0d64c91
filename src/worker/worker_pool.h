// WorkerPool: scans run in a pool of sandboxed worker processes forked by
// the caller after it loaded config, rules and lists (the compiled rules are
// shared copy-on-write). A message reaches a worker as a descriptor (a
// sealed memfd or the input file), the Report comes back over a socketpair.
// The pool kills a worker past its deadline or memory bound, replaces one
// that died at once, retries a message that killed a worker once in a fresh
// one, and recycles workers after max_scans scans or past an RSS bound.
// A worker that could not be forked (no memory, no process slots) is owed:
// the pool forks it when a later scan arrives, backing off between tries,
// so a passing shortage never leaves it smaller for good.
// Failures are told apart: `load` (no worker free in time) and `content`
// (the message crashed, exhausted or outran a worker twice).
// Worker answers are not trusted.
// Trusted input: the Scanner and settings.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emogate/config.h"
#include "emogate/scanner.h"
#include "worker/wire.h"

namespace emogate {

struct WorkerPoolSettings {
  unsigned workers = 1;
  unsigned queue_size = 64;             // callers waiting for a worker
  std::uint32_t scan_timeout_ms = 30000;
  std::uint64_t worker_memory = 1ull << 30;
  std::uint32_t max_scans = 1000;       // 0 = never recycle by count
  std::uint64_t max_rss = 256ull << 20;  // recycle once its peak RSS passed this; 0 = never
  uid_t uid = 0;                        // identity taken when run as root
  gid_t gid = 0;
  pid_t (*fork)() = nullptr;            // tests: a fork that can fail; null: ::fork
};

// From [limits] and [milter]. Resolves the unprivileged identity a root
// process hands its workers ([milter] user, else "nobody"); throws
// std::runtime_error when root and neither exists.
WorkerPoolSettings worker_pool_settings(const Config& cfg, unsigned workers);

// What happened to a worker, for logs and metrics.
struct WorkerEvent {
  pid_t pid = 0;
  // worker_crash, worker_memory, scan_timeout_ms, max_scans, max_rss,
  // reload, start_failed; fork_failed: no process was made (pid 0), one
  // worker is owed
  std::string cause;
  std::string how;       // e.g. "killed by signal 6 (SIGABRT)"
  std::string queue_id;  // message it held, if any
  unsigned scans = 0;    // scans it finished
  bool died = false;     // true: died or was killed; false: retired
  bool killed = false;   // true: the pool killed it for a limit
};

class WorkerPool {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Failure { none, load, content };
  struct Outcome {
    Failure failure = Failure::none;
    // load: queue_full, queue_timeout, worker_start;
    // content: worker_crash, worker_memory, scan_timeout_ms.
    std::string cause;
    std::string error;  // human-readable
    Report report;      // failure none: the scan; content: see content_report()
    bool have_report = false;
    int attempts = 0;
  };

  WorkerPool(const Scanner& scanner, WorkerPoolSettings s, std::function<void(const WorkerEvent&)> on_event = {});
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Forks the workers and waits until each entered its sandbox. Throws
  // std::runtime_error with the first worker's reason when one cannot.
  void start();
  // Scans the first `bytes` bytes behind `fd` (not closed). Waits for a
  // free worker until queue_deadline (then load failure); each attempt has
  // scan_timeout_ms.
  Outcome scan(const wire::Request& req, int fd, std::uint64_t bytes, Clock::time_point queue_deadline);
  // Workers started from now on see the scanner's current rules; idle old
  // ones are replaced at once, busy ones when their scan ends.
  void reload();
  void shutdown();

  unsigned workers() const;  // live worker processes
  unsigned owed() const;     // workers that could not be forked, not yet made up
  unsigned depth() const;    // callers waiting or scanning

 private:
  struct Worker;
  struct Attempt;
  std::unique_ptr<Worker> spawn();
  // spawn() for a worker the pool should have: a failure is told through
  // on_event and the worker owed, to be made up by top_up().
  std::unique_ptr<Worker> replacement();
  // Forks one owed worker into the idle list when the backoff allows.
  void top_up();
  Attempt attempt(Worker& w, const std::string& req, int fd, const std::string& queue_id);
  void discard(std::unique_ptr<Worker> w, WorkerEvent ev);
  void release(std::unique_ptr<Worker> w);
  void emit(const WorkerEvent& ev);

  const Scanner& scanner_;
  WorkerPoolSettings s_;
  std::function<void(const WorkerEvent&)> on_event_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Worker>> idle_;
  unsigned live_ = 0, waiting_ = 0, busy_ = 0;
  unsigned owed_ = 0;                 // forks that failed, not yet made up
  Clock::time_point next_top_up_{};   // no fork for an owed worker before this
  Clock::duration top_up_backoff_{};  // after the next failure (doubles, bounded)
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
};

// A finished scan whose report says the engine ran out of its own clock.
bool report_timed_out(const Report& r);

// The report a message gets when it defeated the worker twice: one
// limit_exceeded finding naming the cause (in Finding::limit and the
// detail) at `verdict` on the whole input.
Report content_failure_report(const WorkerPool::Outcome& o, Verdict verdict, const std::string& input);

}  // namespace emogate
