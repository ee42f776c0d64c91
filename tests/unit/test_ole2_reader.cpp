// OLE2 reader: well-formed v3/v4 files, mini streams, DIFAT, and the hostile
// cases (truncation, FAT loop, directory loop, padding, wrong counts).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <chrono>
#include <cstring>

#include "formats/ole2/reader.h"
#include "unit/ole2_builder.h"

using emogate::ole2::EntryType;
using emogate::ole2::Ole2File;
using emogate::test::Ole2Builder;

namespace {

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + i / 251) & 0xFF);
  return s;
}

Ole2Builder sample(int version) {
  Ole2Builder b(version);
  b.add("WordDocument", pattern(9000, 1))
      .add("\x01" "CompObj", pattern(100, 2))
      .add("Macros/VBA/dir", pattern(700, 3))
      .add("Macros/VBA/Module1", pattern(5000, 4))
      .add("Macros/PROJECT", pattern(64, 5));
  return b;
}

void expect_roundtrip(const std::string& file) {
  Ole2File f = Ole2File::open(file);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f.problems().empty()) << f.problems().front();
  struct {
    const char* path;
    std::size_t size;
    unsigned seed;
  } want[] = {{"WordDocument", 9000, 1}, {"\x01" "CompObj", 100, 2}, {"Macros/VBA/dir", 700, 3},
              {"macros/vba/MODULE1", 5000, 4}, {"Macros/PROJECT", 64, 5}};
  for (auto& w : want) {
    const auto* e = f.find(w.path);
    ASSERT_NE(e, nullptr) << w.path;
    EXPECT_EQ(e->type, EntryType::stream);
    std::string problem = "x";
    EXPECT_EQ(f.read_stream(*e, Ole2File::kNoLimit, &problem), pattern(w.size, w.seed)) << w.path;
    EXPECT_EQ(problem, "");
    EXPECT_EQ(f.read_stream(*e, 10), pattern(w.size, w.seed).substr(0, 10));
  }
  const auto* vba = f.find("Macros/VBA");
  ASSERT_NE(vba, nullptr);
  EXPECT_EQ(vba->type, EntryType::storage);
  EXPECT_EQ(f.children(vba).size(), 2u);
  EXPECT_EQ(f.children(nullptr).size(), 3u);  // WordDocument, CompObj, Macros
}

}  // namespace

TEST(Ole2Reader, Version3RoundTrip) {
  auto b = sample(3);
  std::string file = b.build();
  expect_roundtrip(file);
  EXPECT_EQ(Ole2File::open(file).major_version(), 3);
}

TEST(Ole2Reader, Version4RoundTrip) {
  auto b = sample(4);
  std::string file = b.build();
  Ole2File f = Ole2File::open(file);
  EXPECT_EQ(f.major_version(), 4);
  EXPECT_EQ(f.sector_size(), 4096u);
  expect_roundtrip(file);
}

TEST(Ole2Reader, NoMiniStream) {
  auto b = sample(3);
  b.no_mini = true;  // small streams in regular sectors: a reader must use the mini stream anyway
  std::string file = b.build();
  Ole2File f = Ole2File::open(file);
  // The size says "mini", the data is not there: reported, not crashed.
  std::string problem;
  f.read_stream(*f.find("Macros/PROJECT"), Ole2File::kNoLimit, &problem);
  EXPECT_NE(problem, "");
}

TEST(Ole2Reader, DifatChainForLargeFiles) {
  Ole2Builder b(3);
  // > 109 FAT sectors (109 * 128 * 512 bytes) needs DIFAT sectors.
  std::string big = pattern(7600000, 9);
  b.add("Big", big).add("Small", "tiny");
  std::string file = b.build();
  ASSERT_GT(b.fat_sectors.size(), 109u);
  Ole2File f = Ole2File::open(file);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f.problems().empty()) << f.problems().front();
  EXPECT_EQ(f.read_stream(*f.find("Big")), big);
  EXPECT_EQ(f.read_stream(*f.find("Small")), "tiny");
}

TEST(Ole2Reader, TruncatedFileYieldsWhatIsThere) {
  auto b = sample(3);
  std::string file = b.build();
  // Cut in the middle of WordDocument (the only big stream but Module1).
  std::size_t cut = b.sector_offset(b.start["WordDocument"]) + 3 * 512 + 100;
  ASSERT_LT(cut, file.size());
  file.resize(cut);
  Ole2File f = Ole2File::open(file);
  ASSERT_TRUE(f.ok());
  std::string problem;
  std::string got = f.read_stream(*f.find("WordDocument"), Ole2File::kNoLimit, &problem);
  EXPECT_EQ(got, pattern(9000, 1).substr(0, 3 * 512 + 100));
  EXPECT_NE(problem.find("truncated"), std::string::npos) << problem;
  EXPECT_EQ(f.read_stream(*f.find("Macros/VBA/dir")), pattern(700, 3));  // mini stream intact
}

TEST(Ole2Reader, FatLoopIsDetected) {
  auto b = sample(3);
  std::string file = b.build();
  std::uint32_t s = b.start["WordDocument"];
  Ole2Builder::set32(file, b.fat_entry_offset(s + 2), s);  // third sector points back to the first
  Ole2File f = Ole2File::open(file);
  std::string problem;
  std::string got = f.read_stream(*f.find("WordDocument"), Ole2File::kNoLimit, &problem);
  EXPECT_EQ(got.size(), 3u * 512);
  EXPECT_NE(problem.find("loops"), std::string::npos) << problem;
}

TEST(Ole2Reader, DirectoryLoopIsDetected) {
  auto b = sample(3);
  std::string file = b.build();
  // Entry 1's right sibling -> entry 1 (itself), and its child -> root.
  std::size_t e1 = b.sector_offset(b.dir_start) + 128;
  Ole2Builder::set32(file, e1 + 72, 1);
  Ole2File f = Ole2File::open(file);
  ASSERT_TRUE(f.ok());
  bool loop = false;
  for (auto& p : f.problems()) loop |= p.find("loops") != std::string::npos;
  EXPECT_TRUE(loop);
  EXPECT_LT(f.entries().size(), 20u);
}

TEST(Ole2Reader, WrongSectorCountsStillRead) {
  auto b = sample(3);
  std::string file = b.build();
  Ole2Builder::set32(file, 44, 5000);  // FAT sectors
  Ole2Builder::set32(file, 72, 7);     // DIFAT sectors
  Ole2File f = Ole2File::open(file);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f.problems().empty());
  EXPECT_EQ(f.read_stream(*f.find("WordDocument")), pattern(9000, 1));
}

TEST(Ole2Reader, OrphanStreamIsListed) {
  auto b = sample(3);
  std::string file = b.build();
  // Unlink Macros/PROJECT: it is the last child of Macros, reached via the
  // right sibling of Macros/VBA. Find VBA's entry by name and clear the link.
  Ole2File before = Ole2File::open(file);
  std::uint32_t vba_id = before.find("Macros/VBA")->id;
  Ole2Builder::set32(file, b.sector_offset(b.dir_start) + 128 * vba_id + 72, 0xFFFFFFFF);
  Ole2File f = Ole2File::open(file);
  const auto* orphan = f.find("[orphan]/PROJECT");
  ASSERT_NE(orphan, nullptr);
  EXPECT_TRUE(orphan->orphan);
  EXPECT_EQ(f.read_stream(*orphan), pattern(64, 5));
}

TEST(Ole2Reader, GarbageIsNotOle2) {
  EXPECT_FALSE(Ole2File::open("").ok());
  EXPECT_FALSE(Ole2File::open("hello world").ok());
  std::string file = sample(3).build();
  EXPECT_FALSE(Ole2File::open(std::string_view(file).substr(0, 300)).ok());
  std::string junk = file.substr(0, 512) + std::string(4096, '\xFF');
  Ole2File f = Ole2File::open(junk);  // FAT and directory are all 0xFF
  EXPECT_TRUE(f.entries().size() <= 1);
}

TEST(Ole2Reader, PaddedFileIsFastAndUntouched) {
  // 600 MB: the compound file, then zeros the reader must not walk. The
  // mapping is anonymous, so untouched pages never become resident.
  const std::size_t total = 600ull << 20;
  void* map = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  std::string file = sample(3).build();
  std::memcpy(map, file.data(), file.size());
  std::string_view bytes(static_cast<const char*>(map), total);
  auto t0 = std::chrono::steady_clock::now();
  Ole2File f = Ole2File::open(bytes);
  std::size_t streamed = 0;
  for (auto& e : f.entries()) streamed += f.read_stream(e).size();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  munmap(map, total);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(streamed, 9000u + 100 + 700 + 5000 + 64);
  EXPECT_LT(ms, 50.0);
}

TEST(Ole2Reader, SinkGetsContiguousRunsAndCanStop) {
  auto b = sample(3);
  std::string file = b.build();
  Ole2File f = Ole2File::open(file);
  const auto* e = f.find("WordDocument");
  ASSERT_NE(e, nullptr);
  std::string got;
  int pieces = 0;
  std::string problem;
  EXPECT_EQ(f.read_stream(*e, Ole2File::kNoLimit,
                          [&](std::string_view p) {
                            got.append(p);
                            ++pieces;
                            return true;
                          },
                          &problem),
            9000u);
  EXPECT_EQ(got, pattern(9000, 1));
  EXPECT_EQ(pieces, 1);  // the builder writes streams contiguously
  EXPECT_EQ(problem, "");
  // Mini stream sectors are contiguous too; a sink saying stop ends the read.
  const auto* m = f.find("Macros/VBA/dir");
  f.read_stream(*m, Ole2File::kNoLimit, [](std::string_view) { return false; }, &problem);
  EXPECT_EQ(problem, "stopped by the reader");
}
