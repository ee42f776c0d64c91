// Proof against files others wrote: every ../shared/corpus row whose
// MANIFEST says has_vba=yes/no (and, for information, whether it is an
// Office file encrypted with a password) is scanned; recall and precision are
// printed. Skipped when the shared corpus is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "emogate/scanner.h"
#include "unit/corpus_fixtures.h"
#include "unit/findings.h"

namespace fs = std::filesystem;
using namespace emogate;
using emogate::test::has_finding;

namespace {

struct Row {
  fs::path file;
  std::string rel, has_vba, encrypted;
};

std::vector<Row> manifest_rows(const fs::path& corpus) {
  std::vector<Row> rows;
  for (const auto& r : emogate::test::manifest_rows(corpus))
    if (r.cols.size() >= 8) rows.push_back({r.file, r.rel, r.cols[5], r.cols[7]});
  return rows;
}

struct Score {
  int tp = 0, fp = 0, fn = 0, tn = 0;
  std::vector<std::string> misses;
  void add(bool expected, bool got, const std::string& name) {
    if (expected && got) ++tp;
    else if (!expected && !got) ++tn;
    else if (got) ++fp, misses.push_back("false positive: " + name);
    else ++fn, misses.push_back("missed: " + name);
  }
  void print(const char* what) const {
    std::cout << what << ": recall " << (tp + fn ? 100.0 * tp / (tp + fn) : 100.0) << "% (" << tp << "/"
              << tp + fn << "), precision " << (tp + fp ? 100.0 * tp / (tp + fp) : 100.0) << "% (" << tp
              << "/" << tp + fp << "), " << tn << " true negatives\n";
    for (const auto& m : misses) std::cout << "  " << m << "\n";
  }
};

}  // namespace

TEST(VbaCorpus, HasVbaRecallAndPrecision) {
  const char* shared = std::getenv("EMOGATE_SHARED");
  const fs::path corpus = fs::path(shared ? shared : "../shared") / "corpus";
  if (!fs::is_directory(corpus)) GTEST_SKIP() << "shared corpus absent: " << corpus;
  Scanner scanner{Config{}};
  Score vba, enc;
  for (const auto& row : manifest_rows(corpus)) {
    const bool vba_known = row.has_vba == "yes" || row.has_vba == "no";
    const bool office_pw = row.encrypted.rfind("office-password:", 0) == 0;
    const bool enc_known = office_pw || row.encrypted == "no";
    if ((!vba_known && !enc_known) || !fs::is_regular_file(row.file)) continue;
    std::ifstream in(row.file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const Report r = scanner.scan_file(ss.str(), row.file.filename().string());
    if (vba_known) vba.add(row.has_vba == "yes", has_finding(r, FindingType::vba_macro), row.rel);
    if (enc_known) enc.add(office_pw, has_finding(r, FindingType::encrypted_document), row.rel);
  }
  vba.print("has_vba");
  enc.print("encrypted (office password; BIFF8 FILEPASS is the BIFF8 module's)");
  EXPECT_GT(vba.tp + vba.fn, 0) << "no has_vba rows found";
  // No macro-free file may be flagged as carrying VBA.
  EXPECT_EQ(vba.fp, 0);
  // Every has_vba=yes row is found.
  EXPECT_EQ(vba.fn, 0);
}
