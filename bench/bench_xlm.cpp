// Google Benchmark: Excel 4.0 macro analysis of a ~200 KB .xls (BIFF8
// Workbook stream of ~150 KB: a worksheet full of cells and a very hidden
// macro sheet calling EXEC, plus a VBA project) — the issue's "≤ 2 ms
// together with VBA" figure. Levels: the BIFF walker alone on the stream, and
// the whole engine (Scanner::scan_file: OLE2, VBA, XLM, typing, findings).
// Run: build/bench_xlm [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include "formats/xls/biff.h"
#include "emogate/scanner.h"
#include "unit/office_fixtures.h"
#include "unit/ole2_builder.h"
#include "unit/ovba_builder.h"

namespace {

using namespace emogate;

const std::string& workbook() {
  static const std::string wb = [] {
    std::string cells;
    for (std::uint16_t row = 0; cells.size() < 150000; ++row) {
      cells += test::biff(0x0204, test::u16(row) + test::u16(0) + test::u16(15) + test::u16(12) +
                                      test::u8(0) + "Invoice line");
      cells += test::formula_cell(row, 1, test::u8(0x24) + test::u16(row) + test::u16(0) +
                                              test::u8(0x1E) + test::u16(3) + test::u8(0x05));
    }
    return test::biff8_workbook(2, true, {}, "Macro1", cells).stream;
  }();
  return wb;
}

const std::string& xls() {
  static const std::string file = [] {
    test::VbaProjectBuilder p;
    std::string code = "Attribute VB_Name = \"Module1\"\r\nSub Auto_Open()\r\n";
    for (int i = 0; code.size() < 12000; ++i)
      code += "  x" + std::to_string(i) + " = Range(\"A" + std::to_string(i) + "\").Value\r\n";
    code += "  Shell \"cmd /c echo\"\r\nEnd Sub\r\n";
    p.add("Module1", code, std::string(3000, '\x01'));
    test::Ole2Builder b(3);
    b.add("Workbook", workbook()).add("\x05SummaryInformation", std::string(4096, 's'));
    p.add_to(b, "_VBA_PROJECT_CUR/VBA");
    return b.build();
  }();
  return file;
}

// Worst realistic case: the whole 150 KB is macro-sheet formulas in the style
// of obfuscated XLM droppers (FORMULA(CHAR(..)&CHAR(..)&..., Rn C2)).
const std::string& macro_workbook() {
  static const std::string wb = [] {
    std::string cells;
    for (std::uint16_t row = 10; cells.size() < 150000; ++row) {
      std::string rgce;
      for (int k = 0; k < 8; ++k) {
        rgce += test::u8(0x1E) + test::u16(std::uint16_t(60 + k)) + test::u8(0x41) + test::u16(111);
        if (k) rgce += test::u8(0x08);
      }
      rgce += test::u8(0x24) + test::u16(row) + test::u16(1) + test::ptg_funcvar(2, 0x8000 | 96);
      cells += test::formula_cell(row, 0, rgce);
    }
    return test::biff8_workbook(2, true, {}, "Macro1", {}, cells).stream;
  }();
  return wb;
}

void BM_BiffWalkerAllMacroFormulas(benchmark::State& state) {
  const std::string& wb = macro_workbook();
  for (auto _ : state) {
    auto r = xlm::analyse_workbook(wb);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(wb.size()));
}
BENCHMARK(BM_BiffWalkerAllMacroFormulas)->Unit(benchmark::kMicrosecond);

void BM_BiffWalker(benchmark::State& state) {
  const std::string& wb = workbook();
  for (auto _ : state) {
    auto r = xlm::analyse_workbook(wb);
    if (r.xlm.sheets.size() != 1) state.SkipWithError("macro sheet not found");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(wb.size()));
}
BENCHMARK(BM_BiffWalker)->Unit(benchmark::kMicrosecond);

void BM_ScanXlsWithVbaAndXlm(benchmark::State& state) {
  Scanner scanner(Config{});
  const std::string& f = xls();
  state.counters["file_bytes"] = double(f.size());
  for (auto _ : state) {
    auto r = scanner.scan_file(f, "invoice.xls");
    bool xlm = false;
    for (auto& x : r.findings) xlm |= x.type == FindingType::xlm_macro;
    if (!xlm) state.SkipWithError("xlm_macro missing");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ScanXlsWithVbaAndXlm)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
