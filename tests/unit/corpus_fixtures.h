// The password-protected archives of ../shared/corpus/libzip (read-only,
// third-party; absent on machines without the corpus: tests then skip).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace emogate::test {

struct CorpusZip {
  std::string file;
  std::string password;  // documented in MANIFEST.tsv as zip-password:<pw>
  std::string bytes;
};

inline std::filesystem::path libzip_corpus_dir() {
  const char* env = std::getenv("EMOGATE_SHARED");
  return std::filesystem::path(env ? env : EMOGATE_SOURCE_DIR "/../shared") / "corpus/libzip";
}

// Every row of every folder's MANIFEST.tsv under `corpus` (header skipped):
// the file, "folder/path", and the tab-separated columns.
struct ManifestRow {
  std::filesystem::path file;
  std::string rel;
  std::vector<std::string> cols;
};
inline std::vector<ManifestRow> manifest_rows(const std::filesystem::path& corpus) {
  std::vector<ManifestRow> rows;
  if (!std::filesystem::is_directory(corpus)) return rows;
  for (const auto& dir : std::filesystem::directory_iterator(corpus)) {
    std::ifstream in(dir.path() / "MANIFEST.tsv");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      ManifestRow row;
      std::stringstream ss(line);
      for (std::string col; std::getline(ss, col, '\t');) row.cols.push_back(col);
      if (row.cols.empty()) continue;
      row.file = dir.path() / row.cols[0];
      row.rel = dir.path().filename().string() + "/" + row.cols[0];
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

// Empty when the corpus is absent.
inline std::vector<CorpusZip> libzip_password_corpus() {
  std::vector<CorpusZip> out;
  std::filesystem::path dir = libzip_corpus_dir();
  std::ifstream manifest(dir / "MANIFEST.tsv");
  for (std::string line; std::getline(manifest, line);) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string col; std::getline(ss, col, '\t');) f.push_back(col);
    if (f.size() < 8 || f[7].rfind("zip-password:", 0) != 0) continue;
    std::ifstream in(dir / f[0], std::ios::binary);
    out.push_back({f[0], f[7].substr(13), std::string(std::istreambuf_iterator<char>(in), {})});
  }
  return out;
}

}  // namespace emogate::test
