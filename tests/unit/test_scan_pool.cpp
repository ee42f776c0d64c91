// ScanPool: bounded queue, deadline, exceptions.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "milter/scan_pool.h"

using namespace emogate;
using namespace std::chrono_literals;

TEST(ScanPool, RunsJobAndReturnsReport) {
  ScanPool p(2, 4);
  auto r = p.run([] { Report x; x.verdict = Verdict::suspicious; return x; }, ScanPool::Clock::now() + 5s);
  EXPECT_EQ(r.status, ScanPool::Status::ok);
  EXPECT_EQ(r.report.verdict, Verdict::suspicious);
  EXPECT_EQ(p.depth(), 0u);
}

TEST(ScanPool, DeadlineGivesTimeoutAndJobStillFinishesSafely) {
  ScanPool p(1, 1);
  auto data = std::make_shared<std::atomic<int>>(0);
  auto r = p.run([data] { std::this_thread::sleep_for(300ms); ++*data; return Report{}; },
                 ScanPool::Clock::now() + 50ms);
  EXPECT_EQ(r.status, ScanPool::Status::timeout);
  p.shutdown();
  EXPECT_EQ(*data, 1);
}

TEST(ScanPool, FullQueueRefusesAtOnce) {
  ScanPool p(1, 1);  // capacity 2
  std::atomic<bool> release{false};
  auto slow = [&] { while (!release) std::this_thread::sleep_for(5ms); return Report{}; };
  std::thread a([&] { p.run(slow, ScanPool::Clock::now() + 5s); });
  std::thread b([&] { p.run(slow, ScanPool::Clock::now() + 5s); });
  for (int i = 0; i < 200 && p.depth() < 2; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(p.depth(), 2u);
  auto t0 = ScanPool::Clock::now();
  auto r = p.run([] { return Report{}; }, ScanPool::Clock::now() + 5s);
  EXPECT_EQ(r.status, ScanPool::Status::queue_full);
  EXPECT_LT(ScanPool::Clock::now() - t0, 1s);
  release = true;
  a.join();
  b.join();
}

TEST(ScanPool, ExceptionBecomesFailure) {
  ScanPool p(1, 0);
  auto r = p.run([]() -> Report { throw std::runtime_error("boom"); }, ScanPool::Clock::now() + 5s);
  EXPECT_EQ(r.status, ScanPool::Status::failed);
  EXPECT_EQ(r.error, "scan failed: boom");
}

TEST(ScanPool, JobQueuedPastDeadlineIsSkipped) {
  ScanPool p(1, 4);
  std::atomic<bool> release{false};
  std::thread a([&] { p.run([&] { while (!release) std::this_thread::sleep_for(5ms); return Report{}; }, ScanPool::Clock::now() + 5s); });
  for (int i = 0; i < 200 && p.depth() < 1; ++i) std::this_thread::sleep_for(5ms);
  std::atomic<bool> ran{false};
  auto r = p.run([&] { ran = true; return Report{}; }, ScanPool::Clock::now() + 30ms);
  EXPECT_EQ(r.status, ScanPool::Status::timeout);
  release = true;
  a.join();
  p.shutdown();
  EXPECT_FALSE(ran);
}
