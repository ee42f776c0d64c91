// ScanPool implementation; see scan_pool.h.
// Trusted input: none.
#include "milter/scan_pool.h"

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace emogate {

namespace {
struct JobState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;  // the waiter gave up; skip if not started yet
  ScanPool::Result result;
};
}  // namespace

ScanPool::ScanPool(unsigned workers, unsigned queue_size)
    : pool_(workers ? workers : 1), capacity_((workers ? workers : 1) + queue_size) {}

ScanPool::~ScanPool() { shutdown(); }

void ScanPool::shutdown() { pool_.join(); }

ScanPool::Result ScanPool::run(std::function<Report()> job, Clock::time_point deadline) {
  if (in_flight_.fetch_add(1) >= capacity_) {
    in_flight_.fetch_sub(1);
    return {Status::queue_full, {}, "scan queue full"};
  }
  auto st = std::make_shared<JobState>();
  boost::asio::post(pool_, [this, st, job = std::move(job), deadline] {
    Result r;
    bool skip;
    {
      std::lock_guard lk(st->mu);
      skip = st->abandoned || Clock::now() >= deadline;
    }
    if (skip) {
      r = {Status::timeout, {}, "deadline passed while queued"};
    } else {
      try {
        r.report = job();
        r.status = Status::ok;
      } catch (const std::exception& e) {
        r = {Status::failed, {}, std::string("scan failed: ") + e.what()};
      } catch (...) {
        r = {Status::failed, {}, "scan failed"};
      }
    }
    in_flight_.fetch_sub(1);
    std::lock_guard lk(st->mu);
    st->result = std::move(r);
    st->done = true;
    st->cv.notify_all();
  });
  std::unique_lock lk(st->mu);
  if (!st->cv.wait_until(lk, deadline, [&] { return st->done; })) {
    st->abandoned = true;
    return {Status::timeout, {}, "scan deadline passed"};
  }
  return std::move(st->result);
}

}  // namespace emogate
