// ScanPool: runs scans on a fixed Boost.Asio thread pool so libmilter's
// per-connection threads only buffer and answer. The queue is bounded
// (workers + queue_size jobs in flight) and every job has a deadline; the
// caller gets queue_full or timeout instead of waiting without bound, and a
// job whose deadline passed before it started is skipped.
// It only moves closures around.
// Trusted input: none.
#pragma once

#include <atomic>
#include <utility>  // Boost 1.74 asio needs it first under C++20
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "emogate/report.h"

namespace emogate {

class ScanPool {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Status { ok, queue_full, timeout, failed };
  struct Result {
    Status status = Status::failed;
    Report report;
    std::string error;
  };

  ScanPool(unsigned workers, unsigned queue_size);
  ~ScanPool();
  ScanPool(const ScanPool&) = delete;
  ScanPool& operator=(const ScanPool&) = delete;

  // Blocks the calling thread until the job finished or `deadline` passed.
  // `job` must own (share) everything it reads: on timeout it may still be
  // running after run() returned.
  Result run(std::function<Report()> job, Clock::time_point deadline);

  unsigned depth() const { return in_flight_.load(); }  // queued + running
  unsigned capacity() const { return capacity_; }
  // Waits for every started job, then stops the threads.
  void shutdown();

 private:
  boost::asio::thread_pool pool_;
  unsigned capacity_;
  std::atomic<unsigned> in_flight_{0};
};

}  // namespace emogate
