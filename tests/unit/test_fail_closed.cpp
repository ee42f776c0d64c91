// The fail-closed audit (README, "Fail-closed audit"): every place where the
// engine or an extractor gives up is walked here and must leave a finding,
// never a clean report. Paths with their own test files are named there:
// libarchive entries and names (test_archive_entries.cpp), temp storage
// (test_scan_incomplete.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "emogate/scanner.h"
#include "engine/context.h"
#include "engine/engine.h"
#include "unit/fixtures.h"
#include "unit/zip_fixtures.h"

using namespace emogate;
using namespace emogate::test;

namespace {

class Throwing : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "thrower"; }
  std::vector<std::string> types() const override { return {"*"}; }
  void run(const Object&, ScanContext&) const override { throw std::runtime_error("parser gave up"); }
};

class Slow : public Module {
 public:
  Phase phase() const override { return Phase::inspect; }
  std::string_view name() const override { return "slow"; }
  std::vector<std::string> types() const override { return {"*"}; }
  void run(const Object&, ScanContext&) const override { std::this_thread::sleep_for(std::chrono::milliseconds(60)); }
};

Report run_with(Registry& reg, Config cfg, const std::string& bytes) {
  ScannerState st;
  st.config = std::move(cfg);
  st.registry = &reg;
  auto root = std::make_unique<Object>();
  root->name = root->path = "file.bin";
  root->data = Blob::borrow(bytes);
  return run_scan(st, std::move(root), {}, "file.bin");
}

void tnef_attr(std::string& s, int level, std::uint32_t id, const std::string& data) {
  s += static_cast<char>(level);
  test::put32(s, id);
  test::put32(s, static_cast<std::uint32_t>(data.size()));
  s += data;
  std::uint32_t sum = 0;
  for (unsigned char c : data) sum += c;
  test::put16(s, sum & 0xFFFF);
}

}  // namespace

TEST(FailClosed, ModuleExceptionIsAFindingAndIncomplete) {
  Registry reg;
  reg.modules.push_back(std::make_unique<Throwing>());
  Report r = run_with(reg, Config{}, "plain text");
  ASSERT_TRUE(has_finding(r, FindingType::malformed, {.path = "file.bin"})) << dump(r);
  EXPECT_NE(r.verdict, Verdict::clean);
  EXPECT_FALSE(r.complete());
  EXPECT_NE(r.incomplete.front().find("thrower"), std::string::npos) << dump(r);
}

// The deadline passing inside the last object's analysis: no object is left
// in the queue to trigger the engine's per-object check.
TEST(FailClosed, DeadlineInTheLastObjectIsReported) {
  Registry reg;
  reg.modules.push_back(std::make_unique<Slow>());
  Config cfg;
  cfg.limits.scan_timeout_ms = 20;
  Report r = run_with(reg, cfg, "plain text");
  EXPECT_TRUE(has_finding(r, FindingType::limit_exceeded, {.path = "file.bin"})) << dump(r);
  EXPECT_NE(r.verdict, Verdict::clean);
  Config roomy;
  roomy.limits.scan_timeout_ms = 5000;
  EXPECT_EQ(run_with(reg, roomy, "plain text").verdict, Verdict::clean);
}

// TNEF attachment data before the attAttachRendData that opens an
// attachment used to be dropped.
TEST(FailClosed, TnefDataBeforeRendDataIsScanned) {
  std::string s;
  test::put32(s, 0x223E9F78);
  test::put16(s, 0x0001);
  tnef_attr(s, 2, 0x00018010, std::string("invoice.exe") + '\0');  // attAttachTitle
  tnef_attr(s, 2, 0x0006800F, fake_pe());                           // attAttachData
  Report r = Scanner(Config{}).scan_file(s, "winmail.dat");
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type)) << dump(r);
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "winmail.dat"})) << dump(r);
}

// A ZIP "directory" entry with data: unzip tools make a folder and drop the
// data, which is still scanned and reported.
TEST(FailClosed, ZipDirectoryEntryWithDataIsScanned) {
  std::string zip = test::raw_zip({{"invoice.exe/", fake_pe()}});
  Report r = Scanner(Config{}).scan_file(zip, "a.zip");
  EXPECT_TRUE(has_finding(r, FindingType::malformed, {.path = "a.zip"})) << dump(r);
  EXPECT_TRUE(has_finding(r, FindingType::dangerous_type, {.path = "a.zip/invoice.exe"})) << dump(r);
  std::string empty_dir = test::raw_zip({{"docs/", ""}, {"docs/a.txt", "hello"}});
  EXPECT_EQ(Scanner(Config{}).scan_file(empty_dir, "b.zip").verdict, Verdict::clean);
}
