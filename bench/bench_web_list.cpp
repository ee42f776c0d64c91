// The web view's quarantine list with 100,000 entries: the time to render
// the first page, a filtered page (sender and finding type; recipient and
// a date range) and a deep page, from the warm in-memory index, and the
// first page right after a new entry arrived (the store directory rescanned
// and merged). The one-time index build over all entries is timed too.
// Entries are written straight into a temp store in its own layout (the
// store's put() fsyncs each one, which would take minutes here);
// EMOGATE_BENCH_QUARANTINE_ENTRIES changes their number.
// Run: build/bench_web_list --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "quarantine/store.h"
#include "web/pages/pages.h"
#include "web/web.h"

namespace {

using namespace emogate;

constexpr std::size_t kDefaultEntries = 100000;
constexpr std::int64_t kStart = 1793000000;  // 2026-10-26; one entry every 30 s from here

void write_file(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) std::abort();
  ::close(fd);
}

std::string make_id(std::int64_t t, std::size_t n) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  char rnd[16];
  std::snprintf(rnd, sizeof rnd, "%08zx", n);
  return std::string(buf) + "-" + rnd;
}

const char* kTypes[] = {"vba_macro", "encrypted_archive", "xlm_macro", "yara", "dangerous_attachment",
                        "url_reputation", "ole_object", "sender_spoof"};

void write_entry(const std::string& dir, std::size_t i) {
  QuarantineMeta m;
  m.time = kStart + static_cast<std::int64_t>(i) * 30;
  m.id = make_id(m.time, i);
  m.queue_id = "4Q" + std::to_string(i);
  m.sender = "user" + std::to_string(i % 5000) + "@domain" + std::to_string(i % 200) + ".example";
  for (std::size_t k = 0; k <= i % 3; ++k) m.recipients.push_back("staff" + std::to_string((i + k) % 700) + "@example.co.jp");
  m.client = "192.0.2." + std::to_string(i % 250);
  m.verdict = i % 4 ? "suspicious" : "malicious";
  m.action = "quarantine";
  m.findings = {std::string(kTypes[i % 8]) + "@invoice" + std::to_string(i) + ".zip/doc.docm"};
  m.size = 20000 + i % 1000;
  const std::string e = dir + "/" + m.id;
  if (::mkdir(e.c_str(), 0700) != 0) std::abort();
  const std::string subject = i % 2 ? "=?UTF-8?B?6KuL5rGC5pu4?= No." + std::to_string(i) : "Invoice " + std::to_string(i);
  write_file(e + "/message.eml", "From: <" + m.sender + ">\r\nTo: <" + m.recipients[0] + ">\r\nSubject: " + subject +
                                     "\r\nMessage-ID: <" + std::to_string(i) + "@bench>\r\n\r\n" + std::string(2000, 'x') + "\r\n");
  write_file(e + "/report.json", R"({"verdict":"suspicious","findings":[],"objects":[]})");
  write_file(e + "/meta.json", meta_to_json(m).dump());
}

struct Fixture {
  std::string root, dir;
  std::size_t entries = kDefaultEntries, added = 0;
  Config config;
  std::unique_ptr<QuarantineStore> store;
  web::Services services;
  Fixture() {
    if (const char* n = std::getenv("EMOGATE_BENCH_QUARANTINE_ENTRIES")) entries = std::strtoull(n, nullptr, 10);
    char tmpl[] = "/tmp/emogate-bench-web-XXXXXX";
    root = ::mkdtemp(tmpl);
    dir = root + "/quarantine";
    ::mkdir(dir.c_str(), 0700);
    for (std::size_t i = 0; i < entries; ++i) write_entry(dir, i);
    config.quarantine.dir = dir;
    store = std::make_unique<QuarantineStore>(dir);
    services.config = &config;
    services.quarantine = store.get();
    services.now = [] { return kStart + 40 * 86400; };
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  void add_one() { write_entry(dir, entries + added++); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

web::Request list_request(std::multimap<std::string, std::string> query) {
  web::Request r;
  r.method = "GET";
  r.path = "/quarantine";
  r.query = std::move(query);
  r.operator_name = "bench";
  r.csrf_token = "t";
  return r;
}

void render(benchmark::State& state, const std::multimap<std::string, std::string>& query) {
  Fixture& f = fixture();
  const web::Request r = list_request(query);
  web::quarantine_list_page(r, f.services);  // the index, built once (BM_IndexBuild times it)
  std::size_t rows = 0;
  for (auto _ : state) {
    web::Response resp = web::quarantine_list_page(r, f.services);
    benchmark::DoNotOptimize(resp.body.data());
    rows = 0;
    for (auto p = resp.body.find("<tr data-id="); p != std::string::npos; p = resp.body.find("<tr data-id=", p + 1)) ++rows;
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["entries"] = static_cast<double>(f.entries + f.added);
}

void BM_IndexBuild(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) {
    f.services.extras.clear();
    web::Response resp = web::quarantine_list_page(list_request({}), f.services);
    benchmark::DoNotOptimize(resp.body.data());
  }
  state.counters["entries"] = static_cast<double>(f.entries + f.added);
}
BENCHMARK(BM_IndexBuild)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_ListFirstPage(benchmark::State& state) { render(state, {}); }
BENCHMARK(BM_ListFirstPage)->Unit(benchmark::kMillisecond);

void BM_ListFilteredSenderFinding(benchmark::State& state) {
  render(state, {{"sender", "user42@"}, {"finding", "xlm_macro"}});
}
BENCHMARK(BM_ListFilteredSenderFinding)->Unit(benchmark::kMillisecond);

void BM_ListFilteredRecipientDates(benchmark::State& state) {
  render(state, {{"recipient", "staff7"}, {"from", "2026-11-01"}, {"to", "2026-11-10"}, {"page", "2"}});
}
BENCHMARK(BM_ListFilteredRecipientDates)->Unit(benchmark::kMillisecond);

void BM_ListDeepPage(benchmark::State& state) { render(state, {{"page", "1500"}}); }
BENCHMARK(BM_ListDeepPage)->Unit(benchmark::kMillisecond);

// A new entry before each render: the directory is read again and merged.
void BM_ListFirstPageAfterNewEntry(benchmark::State& state) {
  Fixture& f = fixture();
  const web::Request r = list_request({});
  web::quarantine_list_page(r, f.services);
  for (auto _ : state) {
    state.PauseTiming();
    f.add_one();
    state.ResumeTiming();
    web::Response resp = web::quarantine_list_page(r, f.services);
    benchmark::DoNotOptimize(resp.body.data());
  }
  state.counters["entries"] = static_cast<double>(f.entries + f.added);
}
BENCHMARK(BM_ListFirstPageAfterNewEntry)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
