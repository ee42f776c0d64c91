// Scan worker processes: the wire format, containment of crashing, spinning
// and allocating parsers (through the test-only poison detector in
// tests/hooks), the sandbox, recycling and reload.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "emogate/scanner.h"
#include "worker/sandbox.h"
#include "worker/spool.h"
#include "worker/wire.h"
#include "unit/sanitized.h"
#include "worker/worker_pool.h"

using namespace emogate;
using namespace std::chrono_literals;
using emogate::test::kSanitized;

namespace {


Config test_config() {
  Config c;
  c.rules.paths.clear();
  c.limits.scan_timeout_ms = 1500;
  return c;
}

struct Events {
  std::mutex mu;
  std::vector<WorkerEvent> all;
  std::function<void(const WorkerEvent&)> sink() {
    return [this](const WorkerEvent& e) {
      std::lock_guard lk(mu);
      all.push_back(e);
    };
  }
  int count(const std::string& cause) {
    std::lock_guard lk(mu);
    int n = 0;
    for (const auto& e : all) n += e.cause == cause;
    return n;
  }
};

// A fork that fails (EAGAIN, as at the process limit) while g_fail_forks
// is above zero, counting it down.
std::atomic<int> g_fail_forks{0};
pid_t flaky_fork() {
  if (g_fail_forks.load() > 0) {
    --g_fail_forks;
    errno = EAGAIN;
    return -1;
  }
  return ::fork();
}

struct Fixture {
  explicit Fixture(Config c = test_config(), unsigned workers = 1, pid_t (*fork)() = nullptr) : scanner(c) {
    auto s = worker_pool_settings(c, workers);
    s.fork = fork;
    pool = std::make_unique<WorkerPool>(scanner, s, events.sink());
    pool->start();
  }
  WorkerPool::Outcome scan_file(std::string_view bytes, const std::string& name = "f.bin") {
    MessageSpool sp(1 << 30);
    sp.write(bytes);
    int fd = sp.seal();
    EXPECT_GE(fd, 0);
    wire::Request r;
    r.message = false;
    r.name = name;
    return pool->scan(r, fd, sp.size(), WorkerPool::Clock::now() + 10s);
  }
  Scanner scanner;
  Events events;
  std::unique_ptr<WorkerPool> pool;
};

}  // namespace

namespace {

// Reports and requests with every data member set away from its default.
// The structured bindings stop compiling when a struct gains a member, so
// the new member gets a value here, and the round trips below fail until
// the wire carries it.
Finding every_finding_field() {
  Finding f{};
  auto& [type, path, detail, verdict, limit, rule_set, score, trick, sender, claimed] = f;
  type = FindingType::limit_exceeded;
  path = "a.zip/b.doc";
  detail = "scan_timeout_ms: rule X";
  verdict = Verdict::malicious;
  limit = "scan_timeout_ms";
  rule_set = "signature-base";
  score = -75;
  trick = "thread_hijack";
  sender = "x@y.example";
  claimed = "id@example.co.jp";
  return f;
}

ObjectSummary every_object_field() {
  ObjectSummary o;
  auto& [path, name, declared_type, type, mime, size, sha256, depth, truncated, derived, provenance, body] = o;
  path = "a.zip";
  name = "a.zip";
  declared_type = "application/zip";
  type = "zip";
  mime = "application/zip";
  size = 42;
  sha256 = std::string(64, 'a');
  depth = 1;
  truncated = true;
  derived = true;
  provenance = "p";
  body = true;
  return o;
}

Report every_report_field() {
  Report r;
  auto& [input, verdict, findings, objects, urls, errors, incomplete, scan_ms, size, ppap, sender_facts, rule_sets] = r;
  input = "q1";
  verdict = Verdict::malicious;
  findings = {every_finding_field(), {FindingType::yara, "a.zip", "rule Y", Verdict::suspicious}};
  objects = {every_object_field(), ObjectSummary{}};
  urls = {"http://x/"};
  errors = {"e"};
  incomplete = {"temp_dir full"};
  scan_ms = 1.5;
  size = 99;
  auto& [from, subject, to, date, locked, passwords] = ppap;
  from = "a@example.org";
  subject = "件名";
  to = {"b@example.org"};
  date = -5;
  locked = {{"a.zip", "x.doc", std::string("\x02\x03", 2) + std::string(18, 's')}, {"a.zip", "y", ""}};
  passwords = {{"Ab3dEf9", "text/plain part 1, line 2"}};
  auto& [sender, in_reply_to, references, bounce, bounced_ids, bounced_for, bounce_problems] = sender_facts;
  sender = "x@partner.example";
  in_reply_to = {"a@example.co.jp"};
  references = {"b@example.co.jp", "c@example.co.jp"};
  bounce = true;
  bounced_ids = {"d@example.co.jp"};
  bounced_for = "taro@example.co.jp";
  bounce_problems = {"no original Message-ID in the bounce"};
  rule_sets = {{"signature-base", 3, 1, 4, 4096, 2.5}, {"default", 7, 0, 7, 9000, 0.75}};
  return r;
}

}  // namespace

TEST(WorkerWire, RequestCarriesEveryField) {
  wire::Request q;
  auto& [message, bytes, name, env, opts] = q;
  auto& [queue_id, sender, recipients, client_addr, auth_user] = env;
  auto& [hash_all_objects, hash_attachments, extra_passwords, mine_follow_up_passwords, sender_checks, local_domains,
         local_names] = opts;
  message = false;
  bytes = (1ull << 33) + 7;
  name = "a.doc";
  queue_id = "Q1";
  sender = "s@example.org";
  recipients = {"r1@example.org", "r2@example.org"};
  client_addr = "192.0.2.1";
  auth_user = "u";
  hash_all_objects = false;
  hash_attachments = true;
  extra_passwords = {{"Ab3dEf9", "password mail Q2: line 3"}};
  mine_follow_up_passwords = true;
  sender_checks = true;
  local_domains = {"example.co.jp"};
  local_names = {"山田 太郎", "Sato"};
  wire::Request back;
  ASSERT_TRUE(wire::decode(wire::encode(q), back));
  EXPECT_EQ(back.message, message);
  EXPECT_EQ(back.bytes, bytes);
  EXPECT_EQ(back.name, name);
  EXPECT_EQ(back.env.queue_id, queue_id);
  EXPECT_EQ(back.env.sender, sender);
  EXPECT_EQ(back.env.recipients, recipients);
  EXPECT_EQ(back.env.client_addr, client_addr);
  EXPECT_EQ(back.env.auth_user, auth_user);
  EXPECT_EQ(back.opts.hash_all_objects, hash_all_objects);
  EXPECT_EQ(back.opts.hash_attachments, hash_attachments);
  EXPECT_EQ(back.opts.extra_passwords, extra_passwords);
  EXPECT_EQ(back.opts.mine_follow_up_passwords, mine_follow_up_passwords);
  EXPECT_EQ(back.opts.sender_checks, sender_checks);
  EXPECT_EQ(back.opts.local_domains, local_domains);
  EXPECT_EQ(back.opts.local_names, local_names);
}

TEST(WorkerWire, ReportRoundTripsAndTruncationsAreRejected) {
  const Report r = every_report_field();
  std::string enc = wire::encode(r);
  Report back;
  ASSERT_TRUE(wire::decode(enc, back));
  EXPECT_TRUE(back == r) << to_json(back) << "\n" << to_json(r);
  EXPECT_EQ(back.findings[0].limit, "scan_timeout_ms");
  for (std::size_t n = 0; n < enc.size(); ++n) {
    Report x;
    EXPECT_FALSE(wire::decode(std::string_view(enc).substr(0, n), x)) << n;
  }
  std::string bad = enc;
  bad[4 + r.input.size()] = 7;  // verdict out of range
  Report x;
  EXPECT_FALSE(wire::decode(bad, x));
}

TEST(WorkerPool, ScansLikeTheInProcessEngine) {
  Fixture f;
  const std::string msg =
      "From: a@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
      "see https://example.net/x\r\n--b\r\nContent-Type: application/octet-stream; name=\"a.exe\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--b--\r\n";
  MessageSpool sp(1 << 20);
  sp.write(msg);
  int fd = sp.seal();
  wire::Request req;
  req.env.queue_id = "Q1";
  auto o = f.pool->scan(req, fd, sp.size(), WorkerPool::Clock::now() + 10s);
  ASSERT_EQ(o.failure, WorkerPool::Failure::none) << o.error;
  Report in = f.scanner.scan_message(msg, req.env);
  o.report.scan_ms = in.scan_ms = 0;
  EXPECT_EQ(to_json(o.report), to_json(in));
  EXPECT_TRUE(o.report.flagged());
}

// A region keeps the previous, longer message behind the new one: the
// worker reads only the new message's bytes.
TEST(WorkerPool, ScansOnlyTheMessageInARegionNotWhatAnEarlierOneLeft) {
  Fixture f;
  auto regions = std::make_shared<SpoolRegions>(1 << 20, 1);
  const std::string flagged =
      "From: a@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
      "hello\r\n--b\r\nContent-Type: application/octet-stream; name=\"a.exe\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--b--\r\n";
  const std::string plain = "From: a@example.org\r\nSubject: t\r\n\r\nhello\r\n";
  int first_fd = -1;
  for (const std::string* msg : {&flagged, &plain}) {
    MessageSpool sp(1 << 20, regions);
    sp.write(*msg);
    const int fd = sp.seal();
    if (msg == &flagged) first_fd = fd;
    else EXPECT_EQ(fd, first_fd);  // the same region again
    wire::Request req;
    auto o = f.pool->scan(req, fd, sp.size(), WorkerPool::Clock::now() + 10s);
    ASSERT_EQ(o.failure, WorkerPool::Failure::none) << o.error;
    Report in = f.scanner.scan_message(*msg, req.env);
    o.report.scan_ms = in.scan_ms = 0;
    EXPECT_EQ(to_json(o.report), to_json(in));
    EXPECT_EQ(o.report.flagged(), msg == &flagged);
  }
}

TEST(WorkerPool, CrashIsRetriedOnceThenReportedAsContentAndThePoolGoesOn) {
  Fixture f;
  auto o = f.scan_file("EMOGATE-TEST-CRASH");
  EXPECT_EQ(o.failure, WorkerPool::Failure::content);
  EXPECT_EQ(o.cause, "worker_crash");
  EXPECT_EQ(o.attempts, 2);
  EXPECT_NE(o.error.find("SIGABRT"), std::string::npos) << o.error;
  EXPECT_EQ(f.events.count("worker_crash"), 2);
  Report r = content_failure_report(o, Verdict::suspicious, "q");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].type, FindingType::limit_exceeded);
  EXPECT_EQ(r.findings[0].limit, "worker_crash");
  EXPECT_EQ(r.findings[0].detail.rfind("worker_crash", 0), 0u);
  EXPECT_EQ(r.verdict, Verdict::suspicious);
  // A replacement is there at once and scans normally.
  EXPECT_EQ(f.pool->workers(), 1u);
  auto ok = f.scan_file("plain text\n", "a.txt");
  EXPECT_EQ(ok.failure, WorkerPool::Failure::none) << ok.error;
  auto segv = f.scan_file("EMOGATE-TEST-SEGV");
  EXPECT_EQ(segv.cause, "worker_crash");
  // Under ASan its own handler reports the fault and exits instead.
  if (!kSanitized) {
    EXPECT_NE(segv.error.find("SIGSEGV"), std::string::npos) << segv.error;
  }
}

TEST(WorkerPool, SpinningScanIsKilledAtTheDeadline) {
  Fixture f;
  auto t0 = std::chrono::steady_clock::now();
  auto o = f.scan_file("EMOGATE-TEST-SPIN");
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(o.failure, WorkerPool::Failure::content);
  EXPECT_EQ(o.cause, "scan_timeout_ms");
  EXPECT_EQ(o.attempts, 2);
  EXPECT_LT(took, 6s);  // two attempts of 1.5 s + grace
  EXPECT_EQ(f.pool->workers(), 1u);
  EXPECT_EQ(f.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
}

TEST(WorkerPool, RunawayAllocationIsStoppedAtWorkerMemory) {
  Config c = test_config();
  c.limits.worker_memory = 256ull << 20;
  c.limits.scan_timeout_ms = 20000;
  Fixture f(c);
  auto o = f.scan_file("EMOGATE-TEST-ALLOC");
  EXPECT_EQ(o.failure, WorkerPool::Failure::content);
  EXPECT_EQ(o.cause, "worker_memory") << o.error;
  EXPECT_EQ(f.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
}

TEST(WorkerSandbox, SocketAndExecKillTheWorker) {
  Fixture f;
  for (const char* marker : {"EMOGATE-TEST-SOCKET", "EMOGATE-TEST-EXEC"}) {
    auto o = f.scan_file(marker);
    EXPECT_EQ(o.failure, WorkerPool::Failure::content) << marker;
    EXPECT_EQ(o.cause, "worker_crash") << marker;
    EXPECT_NE(o.error.find("SIGSYS"), std::string::npos) << marker << ": " << o.error;
  }
}

TEST(WorkerSandbox, OpeningAnExistingFileIsRefused) {
  Fixture f;
  for (const char* path : {"/etc/hostname", "/etc/passwd", "/tmp"}) {
    auto o = f.scan_file(std::string("EMOGATE-TEST-OPEN:") + path);
    ASSERT_EQ(o.failure, WorkerPool::Failure::none) << o.error;
    ASSERT_EQ(o.report.errors.size(), 1u);
    EXPECT_NE(o.report.errors[0].find("= -1"), std::string::npos) << o.report.errors[0];
  }
  // The same hook outside the sandbox does open the file: the test can fail.
  Report r = f.scanner.scan_file("EMOGATE-TEST-OPEN:/etc/passwd", "x");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("opened"), std::string::npos) << r.errors[0];
}

TEST(WorkerSandbox, LargeObjectsStillSpillToAnUnnamedTempFile) {
  Config c = test_config();
  c.limits.max_object_memory = 64 << 10;
  Fixture f(c);
  std::string body(399 << 10, 'A');  // a multiple of 3: "QUFB" is "AAA"
  std::string b64;
  static const char* k = "QUFB";
  for (std::size_t i = 0; i < body.size() / 3; ++i) b64 += k, b64 += (i % 19 == 18) ? "\r\n" : "";
  std::string msg = "From: a@b\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
                    "Content-Type: application/octet-stream; name=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                    b64 + "\r\n--b--\r\n";
  MessageSpool sp(1 << 30);
  sp.write(msg);
  wire::Request req;
  auto o = f.pool->scan(req, sp.seal(), sp.size(), WorkerPool::Clock::now() + 10s);
  ASSERT_EQ(o.failure, WorkerPool::Failure::none) << o.error;
  EXPECT_TRUE(o.report.errors.empty()) << o.report.errors[0];
  for (const Finding& x : o.report.findings) EXPECT_NE(x.type, FindingType::limit_exceeded) << x.detail;
  bool big = false;
  for (const auto& obj : o.report.objects) big |= obj.size == body.size();
  EXPECT_TRUE(big);
}

// Counted scans retire a worker, whatever the time they take: a deadline
// far beyond any scan of "hello" and no RSS bound, so neither a slow
// machine nor a large worker can retire one for another cause.
TEST(WorkerPool, WorkersAreRecycledAfterMaxScans) {
  Config c = test_config();
  c.limits.scan_timeout_ms = 600000;
  c.limits.worker_max_scans = 2;
  c.limits.worker_max_rss = 0;
  Fixture f(c);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
  std::lock_guard lk(f.events.mu);
  ASSERT_EQ(f.events.all.size(), 2u);
  for (const WorkerEvent& e : f.events.all) {
    EXPECT_EQ(e.cause, "max_scans");
    EXPECT_EQ(e.scans, 2u);
    EXPECT_FALSE(e.died);
  }
  EXPECT_NE(f.events.all[0].pid, f.events.all[1].pid);
  EXPECT_EQ(f.pool->workers(), 1u);
}

TEST(WorkerPool, AWorkerThatCouldNotBeForkedIsForkedForALaterScan) {
  Config c = test_config();
  c.limits.worker_max_scans = 1;  // each scan retires its worker and forks another
  c.limits.worker_max_rss = 0;
  Fixture f(c, 2, flaky_fork);
  g_fail_forks = 2;  // both replacements fail: the pool is empty
  EXPECT_EQ(f.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
  EXPECT_EQ(f.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
  EXPECT_EQ(f.pool->workers(), 0u);
  EXPECT_EQ(f.pool->owed(), 2u);
  EXPECT_EQ(f.events.count("fork_failed"), 2);
  {
    std::lock_guard lk(f.events.mu);
    EXPECT_NE(f.events.all.back().how.find("Resource temporarily unavailable"), std::string::npos)
        << f.events.all.back().how;
  }
  // The next scan forks an owed worker once the backoff has passed instead
  // of waiting out its queue deadline (10 s); the one after, the other.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(f.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  std::this_thread::sleep_for(500ms);  // past the doubled backoff
  EXPECT_EQ(f.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
  EXPECT_EQ(f.pool->owed(), 0u);
  EXPECT_EQ(f.pool->workers(), 2u);
  EXPECT_EQ(f.events.count("fork_failed"), 2);
}

TEST(WorkerPool, ReloadReplacesIdleWorkers) {
  Fixture f(test_config(), 2);
  f.pool->reload();
  EXPECT_EQ(f.events.count("reload"), 2);
  EXPECT_EQ(f.pool->workers(), 2u);
  EXPECT_EQ(f.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
}

TEST(WorkerPool, BusyPoolIsALoadFailure) {
  Config c = test_config();
  c.milter.queue_size = 1;
  Fixture f(c);
  std::thread busy([&] { f.scan_file("EMOGATE-TEST-SPIN"); });
  for (int i = 0; i < 200 && f.pool->depth() == 0; ++i) std::this_thread::sleep_for(5ms);
  MessageSpool sp(1024);
  sp.write("x");
  wire::Request req;
  req.message = false;
  auto o = f.pool->scan(req, sp.seal(), sp.size(), WorkerPool::Clock::now() + 200ms);
  EXPECT_EQ(o.failure, WorkerPool::Failure::load);
  EXPECT_EQ(o.cause, "queue_timeout");
  busy.join();
}

TEST(WorkerPool, WorkersAreRecycledPastMaxRss) {
  Config c = test_config();
  c.limits.worker_max_rss = 1 << 20;  // every worker's peak is above 1 MiB
  Fixture f(c);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(f.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
  EXPECT_EQ(f.events.count("max_rss"), 2);
  Config big = test_config();
  big.limits.worker_max_rss = 1ull << 40;
  Fixture g(big);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(g.scan_file("hello", "a.txt").failure, WorkerPool::Failure::none);
  EXPECT_EQ(g.events.count("max_rss"), 0);
}

// ---- spool regions ----

// What a worker holding a region's descriptor can do to it: read it, and
// nothing else; the daemon still writes through its own mapping.
TEST(SpoolRegions, AWorkerCanOnlyReadARegion) {
  auto regions = std::make_shared<SpoolRegions>(64 * 1024, 1);
  MessageSpool sp(1 << 20, regions);
  ASSERT_TRUE(sp.write("hello"));
  const int fd = sp.seal();
  ASSERT_GE(fd, 0) << sp.error() << regions->error();
  EXPECT_LT(::write(fd, "x", 1), 0);
  EXPECT_LT(::pwrite(fd, "x", 1, 0), 0);
  EXPECT_NE(::ftruncate(fd, 10), 0);
  EXPECT_NE(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
  EXPECT_EQ(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
  void* ro = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(ro, MAP_FAILED);
  EXPECT_NE(::mprotect(ro, 4096, PROT_READ | PROT_WRITE), 0);
  ::munmap(ro, 4096);
  EXPECT_NE(::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
  MappedFd m(fd, sp.size());
  EXPECT_EQ(m.view(), "hello");
  // A worker forked now (a replacement) has no writable mapping of it: the
  // daemon's mapping is left out of the child.
  const pid_t child = ::fork();
  if (child == 0) {
    // Exit 0 when the child's address space holds no writable shared
    // mapping of a region.
    std::FILE* maps = std::fopen("/proc/self/maps", "r");
    char line[512];
    bool writable_shared = false;
    while (maps && std::fgets(line, sizeof line, maps))
      if (std::strstr(line, "emogate-region") && std::strstr(line, "rw-s")) writable_shared = true;
    ::_exit(writable_shared ? 1 : 0);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child inherited a writable region mapping";
}

TEST(SpoolRegions, RegionsAreReusedAndAMessageTooLargeMovesToItsOwnMemfd) {
  auto regions = std::make_shared<SpoolRegions>(64 * 1024, 2);
  int a_fd = -1;
  {
    MessageSpool a(1 << 20, regions), b(1 << 20, regions), c(1 << 20, regions);
    ASSERT_TRUE(a.write("a") && b.write("b") && c.write("c"));
    a_fd = a.seal();
    const int b_fd = b.seal(), c_fd = c.seal();
    ASSERT_GE(c_fd, 0);
    EXPECT_NE(a_fd, b_fd);
    struct stat st;
    ASSERT_EQ(::fstat(c_fd, &st), 0);
    EXPECT_EQ(st.st_size, 1);  // two regions only: the third has a memfd of its own
    ASSERT_EQ(::fstat(a_fd, &st), 0);
    EXPECT_EQ(st.st_size, 64 * 1024);
  }
  // A message that outgrows its region: what it had moves along with it,
  // and the region is free again.
  const std::string part(40 * 1024, 'p');
  MessageSpool big(1 << 20, regions);
  ASSERT_TRUE(big.write(part));
  ASSERT_TRUE(big.write(part + "end"));
  const int fd = big.seal();
  ASSERT_GE(fd, 0) << big.error();
  MappedFd m(fd, big.size());
  EXPECT_EQ(m.view(), part + part + "end");
  // A spool takes its region at its first bytes, not when made: spools
  // waiting for their message (a session before DATA) hold none.
  {
    MessageSpool idle1(1 << 20, regions), idle2(1 << 20, regions), idle3(1 << 20, regions);
    MessageSpool writing(1 << 20, regions);
    ASSERT_TRUE(writing.write("w"));
    struct stat st;
    const int w_fd = writing.seal();
    ASSERT_EQ(::fstat(w_fd, &st), 0);
    EXPECT_EQ(st.st_size, 64 * 1024);  // a region, though three spools were made before it
    // An empty message still seals (a region holding nothing).
    EXPECT_GE(idle1.seal(), 0);
    EXPECT_EQ(idle1.size(), 0u);
  }
  MessageSpool next(1 << 20, regions), after(1 << 20, regions);
  next.write("n");
  after.write("m");
  EXPECT_TRUE(next.seal() == a_fd || after.seal() == a_fd);
  // The hard cap still holds in a region.
  MessageSpool capped(4, regions);
  EXPECT_FALSE(capped.write("12345"));
  EXPECT_EQ(capped.size(), 4u);
}
