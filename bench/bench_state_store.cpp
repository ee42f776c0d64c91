// What the state store costs an ordinary message: find() for a sender with
// no pending records while 10,000 records of other senders are pending, in
// SQLite (a file in a temp folder) and in Redis (a private redis-server on a
// unix socket and on loopback TCP, started here). Also find() for a sender
// with one record, for scale. Then the outbound bookkeeping every outbound
// message costs: log it (record) and ask whether its account is frozen
// (is_frozen), with 20,000 records already in the log and 10 accounts
// frozen. Last, the milter's whole outbound path per message
// (OutboundGate: at_mail_from at MAIL FROM, after_scan after the scan)
// over a fresh store, on the load mix's shape (17 accounts, one recipient,
// 9 of 20 messages with an attachment of their own, 10 messages a second):
// --benchmark_filter=Gate, or under callgrind with
// --toggle-collect='*OutboundGate::at_mail_from*' --toggle-collect='*OutboundGate::after_scan*'
// for instructions per message. Redis rows are skipped when redis-server is
// not installed.
// Run: build/bench_state_store --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>

#include "emogate/config.h"
#include "emogate/report.h"
#include "milter/outbound_gate.h"
#include "state/store.h"
#include "unit/redis_server.h"
#include "unit/test_files.h"

namespace {

using namespace emogate;

constexpr int kPending = 10000;
constexpr std::int64_t kNow = 1'000'000;

struct Fixture {
  test::TempDir dir;
  test::RedisServer redis;
  std::unique_ptr<state::StateStore> store;
  std::string error;

  explicit Fixture(const std::string& backend) {
    StateSettings s;
    s.backend = backend == "sqlite" ? "sqlite" : "redis";
    s.path = (dir.path / "state.db").string();
    if (s.backend == "redis") {
      if (!redis.start(backend == "redis-tcp")) {
        error = "redis-server is not installed or did not start";
        return;
      }
      s.redis = redis.address();
    }
    auto r = state::open_state_store(s);
    if (!r.ok()) {
      error = r.status().message();
      return;
    }
    store = std::move(*r);
    const std::string msg(2048, 'm');
    for (int i = 0; i < kPending; ++i) {
      state::PendingRecord rec;
      rec.id = "q" + std::to_string(i);
      rec.sender_key = "sender" + std::to_string(i) + "@example.jp";
      rec.recipients = {"user" + std::to_string(i % 50) + "@example.com"};
      rec.created_at = kNow;
      rec.expires_at = kNow + 1800;
      rec.purge_at = kNow + 90000;
      rec.blob = std::string(200, 'b');
      if (state::Status st = store->pending().put(rec, msg, {}); !st.ok()) {
        error = st.message();
        return;
      }
    }
  }
};

Fixture& fixture(const std::string& backend) {
  static std::map<std::string, std::unique_ptr<Fixture>> all;
  auto& f = all[backend];
  if (!f) f = std::make_unique<Fixture>(backend);
  return *f;
}

void find(benchmark::State& st, const std::string& backend, const std::string& sender) {
  Fixture& f = fixture(backend);
  if (!f.error.empty()) {
    st.SkipWithError(f.error.c_str());
    return;
  }
  const std::vector<std::string> rcpts = {"user7@example.com", "other@example.com"};
  std::size_t found = 0;
  for (auto _ : st) {
    auto r = f.store->pending().find(sender, rcpts, kNow + 60);
    if (!r.ok()) {
      st.SkipWithError(r.status().message().c_str());
      return;
    }
    found += r->size();
    benchmark::DoNotOptimize(found);
  }
  st.SetLabel(std::to_string(kPending) + " pending, " + std::to_string(found / std::max<std::size_t>(1, st.iterations())) +
              " found");
}

void BM_FindNoneSqlite(benchmark::State& st) { find(st, "sqlite", "nobody@example.org"); }
void BM_FindNoneRedisUnix(benchmark::State& st) { find(st, "redis-unix", "nobody@example.org"); }
void BM_FindNoneRedisTcp(benchmark::State& st) { find(st, "redis-tcp", "nobody@example.org"); }
void BM_FindOneSqlite(benchmark::State& st) { find(st, "sqlite", "sender7@example.jp"); }
void BM_FindOneRedisUnix(benchmark::State& st) { find(st, "redis-unix", "sender7@example.jp"); }
BENCHMARK(BM_FindNoneSqlite)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FindNoneRedisUnix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FindNoneRedisTcp)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FindOneSqlite)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FindOneRedisUnix)->Unit(benchmark::kMicrosecond);

constexpr int kLogged = 20000;

// Fills the outbound log of the backend's store once.
const std::string& fill_log(Fixture& f) {
  static std::map<const Fixture*, std::string> done;
  if (auto it = done.find(&f); it != done.end()) return it->second;
  std::string& error = done[&f];
  OutboundSettings set;
  for (int i = 0; i < kLogged && error.empty(); ++i) {
    state::OutboundRecord r;
    r.message_id = "old" + std::to_string(i) + "@example.jp";
    r.account = "user" + std::to_string(i % 1000) + "@example.jp";
    r.recipients = {"a" + std::to_string(i) + "@partner.com", "b@partner.com"};
    r.attachment_hashes = {std::string(64, 'a')};
    r.sent_at = kNow - kLogged + i;
    if (auto n = f.store->outbound_log().record(r, set); !n.ok()) error = n.status().message();
  }
  for (int i = 0; i < 10 && error.empty(); ++i)
    if (auto r = f.store->freezes().freeze("user" + std::to_string(i * 7) + "@example.jp", "bench", kNow); !r.ok())
      error = r.status().message();
  return error;
}

void bookkeeping(benchmark::State& st, const std::string& backend) {
  Fixture& f = fixture(backend);
  if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
  if (const std::string& e = fill_log(f); !e.empty()) return st.SkipWithError(e.c_str());
  OutboundSettings set;
  state::OutboundRecord r;
  r.recipients = {"customer@partner.com", "other@partner.com", "third@client.co.jp"};
  r.attachment_hashes = {std::string(64, 'b')};
  std::int64_t i = 0;
  std::size_t frozen = 0;
  for (auto _ : st) {
    r.message_id = "new" + std::to_string(i) + "." + backend + "@example.jp";
    r.account = "user" + std::to_string(i % 1000) + "@example.jp";
    r.sent_at = kNow + i++;
    auto fr = f.store->freezes().is_frozen(r.account);
    auto n = f.store->outbound_log().record(r, set);
    if (!fr.ok() || !n.ok()) return st.SkipWithError((fr.ok() ? n.status() : fr.status()).message().c_str());
    frozen += fr->has_value();
  }
  benchmark::DoNotOptimize(frozen);
  st.SetLabel(std::to_string(kLogged) + " logged, record + is_frozen");
}

void BM_OutboundSqlite(benchmark::State& st) { bookkeeping(st, "sqlite"); }
void BM_OutboundRedisUnix(benchmark::State& st) { bookkeeping(st, "redis-unix"); }
void BM_OutboundRedisTcp(benchmark::State& st) { bookkeeping(st, "redis-tcp"); }
BENCHMARK(BM_OutboundSqlite)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_OutboundRedisUnix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_OutboundRedisTcp)->Unit(benchmark::kMicrosecond);

// A fresh store per backend with nothing in it.
struct GateFixture {
  test::TempDir dir;
  test::RedisServer redis;
  Config cfg;
  std::unique_ptr<OutboundGate> gate;
  std::string error;
  explicit GateFixture(const std::string& backend) {
    cfg.state.backend = backend == "sqlite" ? "sqlite" : "redis";
    cfg.state.path = (dir.path / "state.db").string();
    if (cfg.state.backend == "redis") {
      if (!redis.start(backend == "redis-tcp")) {
        error = "redis-server is not installed or did not start";
        return;
      }
      cfg.state.redis = redis.address();
    }
    auto r = state::open_state_store(cfg.state);
    if (!r.ok()) {
      error = r.status().message();
      return;
    }
    gate = std::make_unique<OutboundGate>(std::move(*r));
  }
};

// `commit`: Commit::may_wait is the milter's while other messages are in
// progress (SQLite then commits a batch per [state] outbound_commit_ms).
void gate(benchmark::State& st, const std::string& backend, state::Commit commit) {
  GateFixture f(backend);
  if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
  ObjectSummary message, body, attachment;
  body.path = "body-1.txt";
  body.depth = 1;
  body.body = true;
  attachment.path = "report.pdf";
  attachment.depth = 1;
  std::int64_t i = 0;
  std::size_t anomalies = 0;
  for (auto _ : st) {
    const std::string account = "sender" + std::to_string(i % 17) + "@partner.example";
    std::string error;
    if (f.gate->at_mail_from(account, f.cfg, &error) || !error.empty()) return st.SkipWithError(("frozen? " + error).c_str());
    Report r;
    r.objects = {message, body};
    if (i % 20 >= 11) {
      attachment.sha256 = std::string(48, 'a') + std::to_string(1'000'000'000'000'000 + i);
      r.objects.push_back(attachment);
    }
    OutboundGate::Message m;
    m.env.queue_id = "4Q" + std::to_string(i);
    m.env.sender = account;
    m.env.recipients = {"user" + std::to_string(i % 23) + "@corp.example"};
    m.account = account;
    m.message_id = "load-" + std::to_string(i) + "@bench.emogate.test";
    m.report = &r;
    m.sent = true;
    m.now = kNow + i / 10;
    m.commit = commit;
    OutboundGate::Outcome o = f.gate->after_scan(m, f.cfg.outbound);
    if (!o.error.empty()) return st.SkipWithError(o.error.c_str());
    anomalies += o.anomalies.size();
    ++i;
  }
  benchmark::DoNotOptimize(anomalies);
  st.SetLabel(commit == state::Commit::now ? "at_mail_from + after_scan" : "at_mail_from + after_scan, may_wait");
}

void BM_GateSqlite(benchmark::State& st) { gate(st, "sqlite", state::Commit::now); }
void BM_GateSqliteBatched(benchmark::State& st) { gate(st, "sqlite", state::Commit::may_wait); }
void BM_GateRedisTcp(benchmark::State& st) { gate(st, "redis-tcp", state::Commit::now); }
BENCHMARK(BM_GateSqlite)->Unit(benchmark::kMicrosecond)->Iterations(3000);
BENCHMARK(BM_GateSqliteBatched)->Unit(benchmark::kMicrosecond)->Iterations(3000);
BENCHMARK(BM_GateRedisTcp)->Unit(benchmark::kMicrosecond)->Iterations(3000);

}  // namespace

BENCHMARK_MAIN();
