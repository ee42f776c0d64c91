// Engine CPU per message over a directory of .eml files, in one process, so
// start-up (rule compile, libmagic's database) is not counted: the figure a
// long-running milter pays per message before the protocol's own cost.
// Directory: $EMOGATE_BENCH_MESSAGES, else the shared bench corpus that
// bench/milter_load.sh generates (/tmp/emogate-bench-milter/corpus). Rules:
// $EMOGATE_BENCH_RULES (a .yar file or directory), else that corpus's rule
// file when present, else none; $EMOGATE_BENCH_SET adds a folder as a
// [[rules.set]] with scope $EMOGATE_BENCH_SET_SCOPE ("files" unless given:
// "files", "loki" or "all"); $EMOGATE_BENCH_REGION_BYTES the worker path's
// spool regions (4 MiB, 0 = off); $EMOGATE_BENCH_CACHE_BYTES sets [rules]
// cache_bytes (0: each copy scanned). Run: build/bench_messages.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/resource.h>

#include "emogate/scanner.h"
#include "worker/spool.h"
#include "worker/wire.h"
#include "worker/worker_pool.h"

using namespace emogate;
namespace fs = std::filesystem;

namespace {

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::vector<std::string> load_messages() {
  fs::path dir = env_or("EMOGATE_BENCH_MESSAGES", "/tmp/emogate-bench-milter/corpus/messages");
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".eml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

Config bench_config() {
  Config c;
  c.rules.paths.clear();
  std::string rules = env_or("EMOGATE_BENCH_RULES", "/tmp/emogate-bench-milter/corpus/rules/emogate-bench.yar");
  std::error_code ec;
  if (fs::exists(rules, ec)) c.rules.paths.push_back(rules);
  // A third-party set (a folder, e.g. bench/make_rules.py's).
  if (std::string set = env_or("EMOGATE_BENCH_SET", ""); !set.empty()) {
    RuleSetSettings s;
    s.name = "bench_set";
    s.paths = {set};
    if (auto v = parse_rule_scope(env_or("EMOGATE_BENCH_SET_SCOPE", "files"))) s.scope = *v;
    c.rules.sets.push_back(s);
  }
  // 0: every copy of a message is scanned again (no verdict cache).
  if (const char* cache = std::getenv("EMOGATE_BENCH_CACHE_BYTES")) c.rules.cache_bytes = std::strtoull(cache, nullptr, 10);
  return c;
}

void BM_ScanMessages(benchmark::State& state) {
  static const std::vector<std::string> messages = load_messages();
  if (messages.empty()) {
    state.SkipWithError("no .eml files (set EMOGATE_BENCH_MESSAGES or run bench/milter_load.sh once)");
    return;
  }
  Scanner scanner(bench_config());
  ScanOptions opts;  // Arg 0: as the milter scans by default; 1: as `emogate scan`
  opts.hash_all_objects = state.range(0) != 0;
  std::size_t bytes = 0;
  for (const auto& m : messages) bytes += m.size();
  for (auto& m : messages) benchmark::DoNotOptimize(scanner.scan_message(m, {}, opts));  // warm-up
  for (auto _ : state)
    for (const auto& m : messages) benchmark::DoNotOptimize(scanner.scan_message(m, {}, opts));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * messages.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["messages"] = static_cast<double>(messages.size());
  state.counters["cpu_ms_per_msg"] = benchmark::Counter(
      static_cast<double>(state.iterations() * messages.size()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ScanMessages)->ArgName("hash_all_objects")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

// CPU seconds of `who` (RUSAGE_THREAD, RUSAGE_CHILDREN) so far.
double cpu_s(int who) {
  rusage u{};
  ::getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The same messages, one at a time, through one sandboxed worker process as
// the milter hands them over (spool to a spool region or a sealed memfd,
// request, report back):
// wall time per message, to set beside BM_ScanMessages' in-process figure,
// and the CPU per message of each side (this thread, as the daemon's session
// thread; the worker processes, counted once reaped), warm-up included.
void BM_WorkerMessages(benchmark::State& state) {
  static const std::vector<std::string> messages = load_messages();
  if (messages.empty()) {
    state.SkipWithError("no .eml files (set EMOGATE_BENCH_MESSAGES or run bench/milter_load.sh once)");
    return;
  }
  Config cfg = bench_config();
  Scanner scanner(cfg);
  const double children0 = cpu_s(RUSAGE_CHILDREN);
  double daemon_s = 0;
  // As the daemon: 2 regions for the one worker ([milter] spool_region_bytes,
  // $EMOGATE_BENCH_REGION_BYTES; 0: a memfd per message).
  const std::uint64_t region_bytes = std::strtoull(env_or("EMOGATE_BENCH_REGION_BYTES", "4194304"), nullptr, 10);
  auto regions = region_bytes ? std::make_shared<SpoolRegions>(region_bytes, 2) : nullptr;
  {
    WorkerPool pool(scanner, worker_pool_settings(cfg, 1));
    pool.start();
    auto one = [&](const std::string& m) {
      MessageSpool spool(m.size() + 1, regions);
      spool.write(m);
      wire::Request req;
      req.opts.hash_all_objects = false;  // as the milter scans by default
      WorkerPool::Outcome o = pool.scan(req, spool.seal(), spool.size(), WorkerPool::Clock::now() + std::chrono::seconds(30));
      if (o.failure != WorkerPool::Failure::none) state.SkipWithError(("worker: " + o.error).c_str());
      benchmark::DoNotOptimize(o);
    };
    const double self0 = cpu_s(RUSAGE_THREAD);
    for (const auto& m : messages) one(m);  // warm-up
    for (auto _ : state)
      for (const auto& m : messages) one(m);
    daemon_s = cpu_s(RUSAGE_THREAD) - self0;
  }  // the pool stops and reaps its workers here
  const double scanned = static_cast<double>((state.iterations() + 1) * messages.size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * messages.size()));
  state.counters["wall_ms_per_msg"] = benchmark::Counter(
      static_cast<double>(state.iterations() * messages.size()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["daemon_cpu_ms_per_msg"] = daemon_s * 1000 / scanned;
  state.counters["worker_cpu_ms_per_msg"] = (cpu_s(RUSAGE_CHILDREN) - children0) * 1000 / scanned;
}
BENCHMARK(BM_WorkerMessages)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
