// YARA throughput with the shipped rules (rules/) over a mixed ~50 MB set of
// objects, and the compile time of the rule set. Build with
// -DEMOGATE_BENCH=ON, run build/bench_yara. The set: files of the shared
// corpus when present (office documents, mails, archives), plus generated
// text/HTML with URLs, random (compressed-looking) binary, and sparse binary
// with long zero runs, in objects of 4 KB to 4 MB like mail attachments.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <cstring>
#include <sstream>

#include "services/yara_rules.h"

using namespace emogate;
namespace fs = std::filesystem;

namespace {

RuleSettings shipped() {
  RuleSettings s;
  s.paths = {std::string(EMOGATE_SOURCE_DIR) + "/rules"};
  s.strict = true;
  return s;
}

std::vector<std::string> corpus_files() {
  std::vector<std::string> out;
  const char* env = std::getenv("EMOGATE_SHARED");
  fs::path dir = fs::path(env ? env : std::string(EMOGATE_SOURCE_DIR) + "/../shared") / "corpus";
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().filename() == "MANIFEST.tsv") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

std::vector<std::string> mixed_set(std::size_t total) {
  std::mt19937_64 rng(20261125);
  std::vector<std::string> objs;
  std::size_t have = 0;
  auto corpus = corpus_files();
  for (std::size_t round = 0; have < total / 4 && !corpus.empty(); ++round)
    for (const auto& f : corpus) {
      objs.push_back(f);
      have += f.size();
    }
  const char* words[] = {"invoice", "payment", "the", "attached", "please", "http://shop.example.com/a/",
                         "regards", "<a href=\"https://intranet.example/x\">", "order", "</p>", "\r\n",
                         "kind", "document", "2022", "urgent", "account"};
  while (have < total) {
    std::size_t size = std::size_t(4096) << (rng() % 11);  // 4 KB .. 4 MB
    std::string o;
    o.reserve(size);
    switch (objs.size() % 3) {
      case 0:
        while (o.size() < size) (o += words[rng() % 16]) += ' ';
        break;
      case 1:
        while (o.size() < size) {
          auto v = rng();
          o.append(reinterpret_cast<const char*>(&v), 8);
        }
        break;
      default:
        while (o.size() < size) {
          if (rng() % 4 == 0) o.append(512, '\0');
          auto v = rng();
          o.append(reinterpret_cast<const char*>(&v), 8);
        }
    }
    o.resize(size);
    have += o.size();
    objs.push_back(std::move(o));
  }
  return objs;
}

void BM_CompileShippedRules(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<std::string> w;
    auto set = YaraRuleSet::compile(shipped(), w);
    benchmark::DoNotOptimize(set);
  }
}
BENCHMARK(BM_CompileShippedRules)->Unit(benchmark::kMillisecond);

void BM_ScanMixedSet(benchmark::State& state) {
  std::vector<std::string> w;
  auto set = YaraRuleSet::compile(shipped(), w);
  static const auto objs = mixed_set(50u << 20);
  std::size_t bytes = 0, hits = 0;
  for (auto _ : state) {
    for (const auto& o : objs) {
      YaraVars v;
      v.type = "binary";
      auto r = set->scan(o, v, 5000);
      hits += r.matches.size();
      bytes += o.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["objects"] = static_cast<double>(objs.size());
  state.counters["hits"] = static_cast<double>(hits);
}
BENCHMARK(BM_ScanMixedSet)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_ScanPaddedDocument(benchmark::State& state) {
  // The padded-document case: 256 MB (max_object_size) of mostly zeros.
  std::vector<std::string> w;
  auto set = YaraRuleSet::compile(shipped(), w);
  std::string doc(256u << 20, '\0');
  std::memcpy(doc.data(), "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
  for (auto _ : state) {
    auto r = set->scan(doc, {}, 30000);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * doc.size()));
}
BENCHMARK(BM_ScanPaddedDocument)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
