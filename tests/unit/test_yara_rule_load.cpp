// YaraRuleSet loading a folder with broken files among many good ones: every
// good file loads, every broken file is skipped and named with file:line,
// warnings are reported once, and the load uses a handful of libyara
// compilers rather than one per file (each compiler is costly to create,
// see bench/yara_load_repro.cpp).
//
// Trusted input: the rule files are written by the tests. The compiler count
// comes from wrapping yr_compiler_create in this test binary: the wrapper
// counts and forwards to libyara's own function.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <atomic>
#include <string>
#include <vector>

#include <yara.h>

#include "services/yara_rules.h"
#include "unit/test_files.h"

using namespace emogate;
using emogate::test::TempDir;

namespace {
std::atomic<int> g_compilers{0};
}  // namespace

// Takes precedence over libyara's symbol for every caller in this binary.
extern "C" int yr_compiler_create(YR_COMPILER** compiler) {
  using Fn = int (*)(YR_COMPILER**);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "yr_compiler_create"));
  if (!real) return ERROR_INTERNAL_FATAL_ERROR;
  g_compilers.fetch_add(1);
  return real(compiler);
}

namespace {

// A good file whose one rule matches "tok-<i>-end".
std::string good_rule(int i) {
  return "rule Good_" + std::to_string(i) + " {\n  strings:\n    $a = \"tok-" + std::to_string(i) +
         "-end\"\n  condition:\n    $a\n}\n";
}

std::shared_ptr<const YaraRuleSet> load(const TempDir& d, std::vector<std::string>& w, int& compilers,
                                        bool strict = false) {
  RuleSettings s;
  s.paths = {d.path.string()};
  s.strict = strict;
  int before = g_compilers.load();
  auto set = YaraRuleSet::compile(s, w);
  compilers = g_compilers.load() - before;
  return set;
}

std::string all_tokens(int n) {
  std::string data;
  for (int i = 0; i < n; ++i) data += " tok-" + std::to_string(i) + "-end ";
  return data;
}

TEST(YaraRuleLoad, OneBrokenFileAmongManyLoadsEveryGoodFile) {
  TempDir d;
  const int n = 60;
  for (int i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "set_%03d.yar", i);
    d.write(name, good_rule(i));
  }
  // Sorted mid-way through the set; the syntax error is on line 4.
  std::string bad = d.write("set_030_broken.yar", "rule Broken\n{\n  condition:\n    true and and\n}\n");
  std::vector<std::string> w;
  int compilers = 0;
  auto set = load(d, w, compilers);

  EXPECT_EQ(set->rule_count(), static_cast<std::size_t>(n));
  EXPECT_EQ(set->files().size(), static_cast<std::size_t>(n));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find(bad + ":4: "), std::string::npos) << w[0];
  EXPECT_EQ(set->scan(all_tokens(n), {}, 5000).matches.size(), static_cast<std::size_t>(n));
  // One compile that stops at the broken file, one that loads the rest.
  EXPECT_EQ(compilers, 2);
}

TEST(YaraRuleLoad, ManyBrokenFilesAreAllFoundInFewCompiles) {
  TempDir d;
  const int n = 40;
  std::vector<std::string> bad;
  for (int i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "set_%03d.yar", i);
    d.write(name, good_rule(i));
    if (i % 5 == 2) {  // eight broken files, more than the whole-set rounds
      std::snprintf(name, sizeof name, "set_%03d_bad.yar", i);
      bad.push_back(d.write(name, "rule B" + std::to_string(i) + "\n{\n  condition:\n    no_such_" +
                                      std::to_string(i) + "\n}\n"));
    }
  }
  std::vector<std::string> w;
  int compilers = 0;
  auto set = load(d, w, compilers);

  EXPECT_EQ(set->rule_count(), static_cast<std::size_t>(n));
  ASSERT_EQ(w.size(), bad.size());
  for (std::size_t i = 0; i < bad.size(); ++i)
    EXPECT_NE(w[i].find(bad[i] + ":4: "), std::string::npos) << w[i];
  EXPECT_EQ(set->scan(all_tokens(n), {}, 5000).matches.size(), static_cast<std::size_t>(n));
  // Bounded whatever the number of files: the whole-set rounds, one compiler
  // per remaining broken file, the final build.
  EXPECT_LE(compilers, static_cast<int>(bad.size()) + 2);
}

TEST(YaraRuleLoad, WarningsOfLoadedFilesAreReportedOnceAfterRetries) {
  TempDir d;
  std::string slow = d.write("a_slow.yar", "rule Slow { strings: $a = { 00 ?? } condition: $a }\n");
  d.write("b_bad.yar", "rule Bad { condition: nope }\n");
  d.write("c_bad.yar", "rule Bad2 { condition: nope2 }\n");
  d.write("d_good.yar", good_rule(0));
  std::vector<std::string> w;
  int compilers = 0;
  auto set = load(d, w, compilers);
  EXPECT_EQ(set->rule_count(), 2u);
  int slow_warnings = 0, skipped = 0;
  for (const auto& line : w) {
    if (line.rfind(kYaraWarningPrefix, 0) == 0 && line.find(slow + ":1: ") != std::string::npos) ++slow_warnings;
    if (line.find("rule file skipped") != std::string::npos) ++skipped;
  }
  EXPECT_EQ(slow_warnings, 1);
  EXPECT_EQ(skipped, 2);
}

TEST(YaraRuleLoad, StrictStillFailsOnTheBrokenFile) {
  TempDir d;
  for (int i = 0; i < 10; ++i) d.write("set_" + std::to_string(i) + ".yar", good_rule(i));
  std::string bad = d.write("set_5_bad.yar", "rule X { condition: undefined_thing }\n");
  std::vector<std::string> w;
  int compilers = 0;
  try {
    load(d, w, compilers, true);
    FAIL() << "strict load should throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ":1: "), std::string::npos) << e.what();
  }
}

}  // namespace
