// Google Benchmark: analysis of a ~200 KB .xls-like compound file with a VBA
// project (3 modules, ~36 KB of source, auto-exec + Shell) — the issue's
// "≤ 2 ms" figure. Three levels: the OLE2 reader alone, reader + VBA project
// reading, and the whole engine (Scanner::scan_file: typing, every stream as
// a child, VBA extraction and keywords, findings).
// Run: build/bench_ole2 [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include "formats/vba/keywords.h"
#include "emogate/scanner.h"
#include "formats/ole2/reader.h"
#include "formats/vba/ovba.h"
#include "unit/ovba_builder.h"

namespace {

using namespace emogate;

const std::string& fixture() {
  static const std::string file = [] {
    test::VbaProjectBuilder p;
    std::string code = "Attribute VB_Name = \"Module1\"\r\nSub Auto_Open()\r\n";
    for (int i = 0; code.size() < 12000; ++i)
      code += "  cell" + std::to_string(i) + " = Range(\"A" + std::to_string(i) + "\").Value * " + std::to_string(i % 17) + "\r\n";
    code += "  Shell \"cmd /c echo\"\r\nEnd Sub\r\n";
    p.add("Module1", code, std::string(3000, '\x01'));
    p.add("Module2", code, std::string(3000, '\x02'));
    p.add("ThisWorkbook", code, std::string(2000, '\x03'));
    test::Ole2Builder b(3);
    std::string workbook;
    for (int i = 0; workbook.size() < 150000; ++i) workbook += "\x09\x08\x10\x00record " + std::to_string(i);
    b.add("Workbook", workbook)
        .add("\x05SummaryInformation", std::string(4096, 's'))
        .add("\x05" "DocumentSummaryInformation", std::string(4096, 'd'));
    p.add_to(b, "_VBA_PROJECT_CUR/VBA");
    return b.build();
  }();
  return file;
}

void BM_Ole2ReaderAllStreams(benchmark::State& state) {
  const std::string& f = fixture();
  for (auto _ : state) {
    auto file = ole2::Ole2File::open(f);
    std::size_t n = 0;
    for (const auto& e : file.entries()) n += file.read_stream(e).size();
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(f.size()));
}
BENCHMARK(BM_Ole2ReaderAllStreams)->Unit(benchmark::kMicrosecond);

void BM_VbaProjectAndKeywords(benchmark::State& state) {
  const std::string& f = fixture();
  for (auto _ : state) {
    auto file = ole2::Ole2File::open(f);
    for (const auto& where : ovba::find_projects(file)) {
      auto p = ovba::read_project(file, where, 1 << 24);
      std::vector<std::string_view> texts;
      for (const auto& m : p.modules) texts.push_back(m.text);
      benchmark::DoNotOptimize(vba::analyze_vba(texts).malicious());
    }
  }
}
BENCHMARK(BM_VbaProjectAndKeywords)->Unit(benchmark::kMicrosecond);

void BM_ScanFileXlsWithVba(benchmark::State& state) {
  const std::string& f = fixture();
  static Scanner scanner{Config{}};
  for (auto _ : state) {
    Report r = scanner.scan_file(f, "bench.xls");
    if (r.verdict != Verdict::malicious) state.SkipWithError("fixture not detected");
  }
  state.counters["file_KB"] = static_cast<double>(f.size()) / 1024.0;
}
BENCHMARK(BM_ScanFileXlsWithVba)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
