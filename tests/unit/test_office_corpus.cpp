// Office files others wrote (../shared/corpus, read-only, third-party):
// none of the Word, Excel and PowerPoint files, old or new, is malformed
// (Office 2007+ keeps a theme ZIP inside its binary streams), files opened
// with Excel's default password carry only an informational finding, and a
// real encrypted .ppt stripped of its EncryptedSummary stream is still
// recognised from its records. Skipped when the corpus is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "emogate/scanner.h"
#include "unit/corpus_fixtures.h"

namespace fs = std::filesystem;
using namespace emogate;

namespace {

fs::path corpus_root() { return emogate::test::libzip_corpus_dir().parent_path(); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Row {
  fs::path file;
  std::string rel, kind, encrypted;
};

std::vector<Row> office_rows() {
  std::vector<Row> rows;
  for (const auto& r : emogate::test::manifest_rows(corpus_root())) {
    const auto& c = r.cols;
    if (c.size() >= 8 && (c[4].starts_with("ole-") || c[4].starts_with("ooxml-")))
      rows.push_back({r.file, r.rel, c[4], c[7]});
  }
  return rows;
}

}  // namespace

TEST(OfficeCorpus, NoOfficeFileIsMalformedAndDefaultPasswordIsInformational) {
  const auto rows = office_rows();
  if (rows.empty()) GTEST_SKIP() << "shared corpus absent: " << corpus_root();
  Scanner scanner{Config{}};
  int scanned = 0, default_pw = 0;
  for (const auto& row : rows) {
    if (!fs::is_regular_file(row.file)) continue;
    ++scanned;
    const Report r = scanner.scan_file(slurp(row.file), row.file.filename().string());
    for (const auto& f : r.findings) {
      EXPECT_NE(f.type, FindingType::malformed) << row.rel << ": " << f.path << ": " << f.detail;
      if (row.encrypted == "office-password:VelvetSweatshop" && f.type == FindingType::encrypted_document) {
        ++default_pw;
        EXPECT_EQ(f.verdict, Verdict::clean) << row.rel << ": " << f.detail;
      }
    }
  }
  EXPECT_GT(scanned, 60);
  EXPECT_GT(default_pw, 5);
}

// msoffcrypto-tool's encrypted .ppt has no EncryptedSummary stream; the
// oletools one does. Renaming that stream's directory entry makes the one
// from the other: the records must still say encrypted.
TEST(OfficeCorpus, EncryptedPptWithoutEncryptedSummaryStream) {
  const fs::path file = corpus_root() / "oletools/encrypted/encrypted.ppt";
  if (!fs::is_regular_file(file)) GTEST_SKIP() << "corpus file absent: " << file;
  std::string bytes = slurp(file);
  const std::string name = std::string("E\0n\0c\0r\0y\0p\0t\0e\0d\0S\0u\0m\0m\0a\0r\0y\0", 32);
  const std::size_t at = bytes.find(name);
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'X';
  const Report r = Scanner{Config{}}.scan_file(bytes, "encrypted.ppt");
  const Finding* enc = nullptr;
  for (const auto& f : r.findings)
    if (f.type == FindingType::encrypted_document) enc = &f;
  ASSERT_NE(enc, nullptr) << to_json(r);
  EXPECT_EQ(enc->detail.find("EncryptedSummary"), std::string::npos) << enc->detail;
  EXPECT_NE(enc->detail.find("CryptSession10Container"), std::string::npos) << enc->detail;
  EXPECT_EQ(enc->verdict, Verdict::suspicious);
}
