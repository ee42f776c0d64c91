// Recall and precision of Excel 4.0 macro detection against third-party
// files whose MANIFEST.tsv states has_xlm (yes/no). Skipped when the shared
// corpus is absent.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "emogate/scanner.h"

namespace fs = std::filesystem;
using namespace emogate;

namespace {

fs::path corpus_dir() {
  if (const char* s = std::getenv("EMOGATE_SHARED")) return fs::path(s) / "corpus";
  return fs::path(EMOGATE_SOURCE_DIR) / ".." / "shared" / "corpus";
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, '\t')) out.push_back(f);
  return out;
}

}  // namespace

TEST(XlmCorpus, RecallAndPrecisionForHasXlm) {
  fs::path dir = corpus_dir();
  if (!fs::exists(dir)) GTEST_SKIP() << "shared corpus not found at " << dir;
  Scanner scanner(Config{});
  int tp = 0, fn = 0, fp = 0, tn = 0;
  std::vector<std::string> misses;
  for (auto& entry : fs::directory_iterator(dir)) {
    fs::path manifest = entry.path() / "MANIFEST.tsv";
    if (!fs::exists(manifest)) continue;
    std::ifstream in(manifest);
    std::string line;
    std::getline(in, line);
    auto header = split(line);
    auto col = std::find(header.begin(), header.end(), "has_xlm") - header.begin();
    while (std::getline(in, line)) {
      auto f = split(line);
      if (std::size_t(col) >= f.size() || (f[col] != "yes" && f[col] != "no")) continue;
      fs::path file = entry.path() / f[0];
      std::ifstream bin(file, std::ios::binary);
      if (!bin) continue;
      std::string bytes((std::istreambuf_iterator<char>(bin)), {});
      auto rep = scanner.scan_file(bytes, file.filename().string());
      bool found = false;
      for (auto& x : rep.findings) found |= x.type == FindingType::xlm_macro;
      bool want = f[col] == "yes";
      if (want && found) ++tp;
      else if (want) { ++fn; misses.push_back("missed " + f[0]); }
      else if (found) { ++fp; misses.push_back("false positive " + f[0]); }
      else ++tn;
    }
  }
  if (tp + fn + fp + tn == 0) GTEST_SKIP() << "no has_xlm rows in " << dir;
  double recall = tp + fn ? double(tp) / (tp + fn) : 1.0;
  double precision = tp + fp ? double(tp) / (tp + fp) : 1.0;
  std::printf("has_xlm: %d rows, recall %.3f (%d/%d), precision %.3f (%d/%d)\n", tp + fn + fp + tn,
              recall, tp, tp + fn, precision, tp, tp + fp);
  for (auto& m : misses) std::printf("  %s\n", m.c_str());
  EXPECT_EQ(fn, 0);
  EXPECT_EQ(fp, 0);
}
