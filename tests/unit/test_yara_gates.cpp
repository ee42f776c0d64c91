// Rule gates and rule-set groups: which `filesize` bounds and "MZ" header
// checks are read from a rule's condition (only through top-level `and`s),
// which files are left whole, that blanking keeps line numbers, and that a
// set compiled in groups finds exactly what the same files compiled whole
// find, on objects of every group, also with the default set's rules
// compiled into the last group.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "services/yara_gates.h"
#include "services/yara_sets.h"
#include "unit/test_files.h"

using namespace emogate;
using namespace emogate::test;

namespace {

RuleGate gate_of(const std::string& condition, const std::string& extra = "") {
  auto shape = analyse_rule_file(extra + "rule r { strings: $a = \"x\" condition: " + condition + " }\n");
  EXPECT_TRUE(shape.splittable) << condition;
  EXPECT_EQ(shape.rules.size(), 1u);
  return shape.rules.empty() ? RuleGate{} : shape.rules[0].gate;
}

TEST(YaraGates, ReadsTopLevelConjuncts) {
  RuleGate g = gate_of("( uint16(0) == 0x5a4d and filesize < 100KB and 1 of them )");
  EXPECT_TRUE(g.mz);
  EXPECT_EQ(g.below, 100u * 1024);
  EXPECT_EQ(gate_of("$a and filesize <= 10").below, 11u);
  EXPECT_EQ(gate_of("filesize < 2MB and ($a and filesize < 0x100)").below, 0x100u);
  EXPECT_TRUE(gate_of("uint16be(0) == 0x4D5A and $a").mz);
  EXPECT_EQ(gate_of("$a and filesize < 10 // or in a comment\n").below, 10u);
  EXPECT_EQ(gate_of("$a and filesize < 10 and \"or\" == \"or\"").below, 10u);
}

TEST(YaraGates, LeavesAnythingElseUngated) {
  for (const char* c : {"filesize < 100KB and $a or $a",        // a disjunction
                        "not filesize < 100KB and $a",           // negated
                        "filesize < 100 * 1024 and $a",          // not a literal
                        "for any i in (0..1) : ( filesize < 5 ) and $a",
                        "uint16(0) == 0x4b50 and $a",            // another header
                        "uint16(2) == 0x5a4d and $a", "uint32(0) == 0x5a4d and $a",
                        "(filesize < 100 or $a) and $a", "filesize > 100 and $a"}) {
    RuleGate g = gate_of(c);
    EXPECT_EQ(g.below, kNoSizeBound) << c;
    EXPECT_FALSE(g.mz) << c;
  }
}

TEST(YaraGates, FilesItCannotSplitStayWhole) {
  EXPECT_FALSE(analyse_rule_file("include \"other.yar\"\nrule a { condition: true }").splittable);
  EXPECT_FALSE(analyse_rule_file("rule a { strings: $a = \"unterminated condition: $a }").splittable);
  EXPECT_FALSE(analyse_rule_file("rule a { condition: filesize < 5 }\nrule b { condition: a and filesize < 9 }")
                   .splittable);  // b names public a
  EXPECT_FALSE(analyse_rule_file("global rule g { condition: filesize < 5 }").splittable);
  EXPECT_FALSE(analyse_rule_file("rule a { condition: true } junk").splittable);
  auto ok = analyse_rule_file(
      "import \"pe\"\nprivate rule p { condition: uint16(0) == 0x5A4D }\n"
      "global private rule g { condition: filesize < 20MB }\n"
      "rule a : tag1 tag2 { meta: condition = \"x\" strings: $h = { 4D 5A [2-4] ( 01 | 02 ) ?? } "
      "$r = /a\\/b[}]{2}/i condition: p and $h and $r and pe.number_of_sections > 1 }\n");
  ASSERT_TRUE(ok.splittable);
  ASSERT_EQ(ok.rules.size(), 3u);
  EXPECT_TRUE(ok.rules[0].shared);
  EXPECT_TRUE(ok.rules[1].shared);
  EXPECT_FALSE(ok.rules[2].shared);
  EXPECT_EQ(ok.rules[2].modules, std::vector<std::string>{"pe"});
}

TEST(YaraGates, BlankingKeepsLinesAndDropsUnusedImports) {
  const std::string text =
      "import \"pe\"\nimport \"math\"\nrule a {\n condition:\n  pe.is_dll()\n}\nrule b {\n condition:\n  "
      "math.entropy(0, 1) > 1\n}\n";
  auto shape = analyse_rule_file(text);
  ASSERT_TRUE(shape.splittable);
  std::string kept = keep_rules(text, shape, {false, true});
  EXPECT_EQ(kept.size(), text.size());
  EXPECT_EQ(std::count(kept.begin(), kept.end(), '\n'), std::count(text.begin(), text.end(), '\n'));
  EXPECT_EQ(kept.find("pe"), std::string::npos);
  EXPECT_NE(kept.find("import \"math\""), std::string::npos);
  EXPECT_NE(kept.find("rule b"), std::string::npos);
  EXPECT_EQ(kept.find("rule a"), std::string::npos);
}

// Rule files whose rules fall into every group, with private and global
// rules, a module, rules no group can take, and a file left whole.
void write_set(const TempDir& d) {
  d.write("set/a.yar",
          "import \"pe\"\n"
          "private rule IsPe { condition: uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 }\n"
          "rule Mz_Small { strings: $a = \"alpha\" condition: uint16(0) == 0x5A4D and filesize < 200KB and $a }\n"
          "rule Mz_Pe { strings: $a = \"alpha\" condition: uint16(0) == 0x5a4d and pe.number_of_sections >= 0 and $a }\n"
          "rule Small { strings: $a = \"alpha\" condition: ( filesize < 500KB and $a ) }\n"
          "rule Medium { strings: $a = \"beta\" wide ascii condition: filesize < 4MB and $a }\n"
          "rule Any { strings: $a = \"gamma\" condition: $a }\n"
          "rule Either { strings: $a = \"alpha\" condition: filesize < 10 and $a or $a and IsPe }\n");
  d.write("set/b.yar",
          "global private rule NotHuge { condition: filesize < 6MB }\n"
          "rule B_Small { strings: $a = \"alpha\" condition: filesize < 100KB and $a }\n"
          "rule B_Any { strings: $a = \"beta\" condition: $a }\n"
          "rule B_Mz { strings: $a = \"gamma\" condition: uint16(0) == 0x5A4D and $a }\n");
  d.write("set/c_whole.yar",
          "rule C1 { strings: $a = \"alpha\" condition: filesize < 300KB and $a }\n"
          "rule C2 { condition: C1 and filesize < 9MB }\n");
  for (int i = 0; i < 4; ++i)
    d.write("set/more" + std::to_string(i) + ".yar",
            "rule M" + std::to_string(i) + "_mz { strings: $a = \"delta\" condition: uint16(0) == 0x5A4D and $a }\n" +
                "rule M" + std::to_string(i) + "_s { strings: $a = \"delta\" condition: filesize < 1MB and $a }\n" +
                "rule M" + std::to_string(i) + "_m { strings: $a = \"delta\" condition: filesize < 7MB and $a }\n");
}

std::set<std::string> names(const std::vector<YaraMatch>& ms) {
  std::set<std::string> out;
  for (const auto& m : ms) out.insert(m.ns.substr(m.ns.rfind('/') + 1) + ":" + m.rule);
  return out;
}

// Objects of each size, without and with an "MZ" header, of random 'a'-'c'
// bytes with every marker of write_set's rules at a few places.
std::vector<std::pair<std::string, std::string>> marked_objects(unsigned seed, std::initializer_list<std::size_t> sizes) {
  std::mt19937 rng(seed);
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t size : sizes)
    for (bool mz : {false, true}) {
      std::string obj(size, '\0');
      for (auto& c : obj) c = static_cast<char>('a' + rng() % 3);
      if (mz) obj.replace(0, 2, "MZ");
      const std::string marks[] = {"alpha", std::string("b\0e\0t\0a\0", 8), "gamma", "delta", "beta"};
      for (std::size_t k = 0; k < std::size(marks); ++k) obj.replace(size / 6 * (k + 1) - 4, marks[k].size(), marks[k]);
      out.emplace_back("size " + std::to_string(size) + (mz ? " MZ" : ""), std::move(obj));
    }
  return out;
}

// write_set's folder as the "files" set "g", after a default set of
// `default_paths` (none: no default set); no cache.
RuleSettings settings_with_g(const TempDir& d, std::vector<std::string> default_paths) {
  RuleSettings rs;
  rs.paths = std::move(default_paths);
  rs.cache_bytes = 0;
  RuleSetSettings one;
  one.name = "g";
  one.paths = {(d.path / "set").string()};
  rs.sets.push_back(one);
  return rs;
}

TEST(YaraGroups, GroupedSetFindsWhatTheWholeSetFinds) {
  TempDir d;
  write_set(d);
  RuleSettings rs = settings_with_g(d, {});
  std::vector<std::string> w;
  auto rules = YaraRules::load(rs, w);
  const LoadedRuleSet* set = nullptr;
  for (const auto& s : rules->sets())
    if (s->settings.name == "g") set = s.get();
  ASSERT_NE(set, nullptr);
  EXPECT_TRUE(w.empty()) << w.front();
  ASSERT_EQ(set->groups.size(), 2u);  // MZ, any
  RuleSettings whole_settings;
  whole_settings.paths = {(d.path / "set").string()};
  auto whole = YaraRuleSet::compile(whole_settings, w);
  EXPECT_EQ(set->rules_count, whole->rule_count());
  EXPECT_EQ(set->files, whole->files().size());

  std::size_t checked = 0;
  for (const auto& [what, obj] : marked_objects(7, {50, 150 << 10, 450 << 10, 2 << 20, 5 << 20, 9 << 20})) {
    {
      YaraVars v;
      std::vector<YaraMatch> grouped;
      for (const RuleGroup& g : set->groups)
        if (g.applies(obj)) {
          auto r = g.rules->scan(obj, v, 0);
          ASSERT_TRUE(r.error.empty());
          grouped.insert(grouped.end(), r.matches.begin(), r.matches.end());
        }
      auto all = whole->scan(obj, v, 0);
      ASSERT_TRUE(all.error.empty());
      EXPECT_EQ(names(grouped), names(all.matches)) << what;
      EXPECT_EQ(grouped.size(), all.matches.size());
      checked += all.matches.size();
    }
  }
  EXPECT_GT(checked, 20u);  // the objects do hit rules of every kind
}

// The default set's rules ride in the "files" set's last group: each set's
// part of the groups that apply (split by namespace, as the YARA module
// does) is what each set compiled whole finds alone.
TEST(YaraGroups, MergedPassFindsWhatEachSetFindsAlone) {
  TempDir d;
  write_set(d);
  d.write("own/o1.yar",
          "rule Own_Alpha { strings: $a = \"alpha\" condition: $a }\n"
          "rule Own_Mz { strings: $a = \"gamma\" condition: $a at 0 or uint16(0) == 0x5A4D and $a }\n");
  d.write("own/o2.yar",
          "import \"pe\"\n"
          "global private rule Own_NotTiny { condition: filesize > 100 }\n"
          "rule Own_Beta { strings: $a = \"beta\" wide condition: $a or pe.number_of_sections > 90 }\n");
  RuleSettings rs = settings_with_g(d, {(d.path / "own").string()});
  std::vector<std::string> w;
  auto rules = YaraRules::load(rs, w);
  EXPECT_TRUE(w.empty()) << w.front();
  ASSERT_EQ(rules->sets().size(), 2u);
  const LoadedRuleSet& base = *rules->sets()[0];
  const LoadedRuleSet& set = *rules->sets()[1];
  ASSERT_EQ(rules->merged_base(), &base);
  ASSERT_EQ(set.groups.size(), 2u);
  EXPECT_NE(set.groups.back().merged, nullptr);
  for (std::size_t i = 0; i + 1 < set.groups.size(); ++i) EXPECT_EQ(set.groups[i].merged, nullptr);

  RuleSettings whole_settings;
  whole_settings.paths = {(d.path / "set").string()};
  auto whole = YaraRuleSet::compile(whole_settings, w);
  whole_settings.paths = rs.paths;
  auto own = YaraRuleSet::compile(whole_settings, w);
  EXPECT_EQ(set.rules_count, whole->rule_count());
  EXPECT_EQ(set.files, whole->files().size());
  EXPECT_EQ(base.rules_count, own->rule_count());

  std::size_t checked_own = 0, checked_set = 0;
  for (const auto& [what, obj] : marked_objects(11, {50, 450 << 10, 5 << 20, 9 << 20})) {
    {
      YaraVars v;
      std::vector<YaraMatch> mine, theirs;
      for (const RuleGroup& g : set.groups)
        if (g.applies(obj)) {
          auto r = g.rules->scan(obj, v, 0);
          ASSERT_TRUE(r.error.empty());
          for (const YaraMatch& m : r.matches) (g.from_merged(m) ? theirs : mine).push_back(m);
        }
      auto all = whole->scan(obj, v, 0);
      auto all_own = own->scan(obj, v, 0);
      EXPECT_EQ(names(mine), names(all.matches)) << what;
      EXPECT_EQ(mine.size(), all.matches.size());
      EXPECT_EQ(names(theirs), names(all_own.matches)) << what;
      EXPECT_EQ(theirs.size(), all_own.matches.size());
      checked_set += all.matches.size();
      checked_own += all_own.matches.size();
    }
  }
  EXPECT_GT(checked_set, 10u);
  EXPECT_GT(checked_own, 10u);
}

TEST(YaraGroups, SetsSharingARuleFileAreNotMerged) {
  TempDir d;
  write_set(d);
  RuleSettings rs = settings_with_g(d, {(d.path / "set" / "b.yar").string()});
  std::vector<std::string> w;
  auto rules = YaraRules::load(rs, w);
  EXPECT_EQ(rules->merged_base(), nullptr);
  for (const RuleGroup& g : rules->sets()[1]->groups) EXPECT_EQ(g.merged, nullptr);
}

// The set plus broken.yar (`text`, its second line broken): the file is
// skipped, once, and its good rule fires in no group.
void expect_broken_file_skipped(const std::string& text) {
  TempDir d;
  write_set(d);
  d.write("set/broken.yar", text);
  RuleSettings rs;
  rs.paths = {(d.path / "set").string()};
  std::vector<std::string> w;
  auto rules = YaraRules::load(rs, w);
  const LoadedRuleSet& set = *rules->sets().front();
  ASSERT_EQ(set.skipped.size(), 1u);
  EXPECT_NE(set.skipped[0].find("broken.yar:2:"), std::string::npos) << set.skipped[0];
  for (const RuleGroup& g : set.groups) {
    auto r = g.rules->scan("MZ alpha xx", YaraVars{}, 0);
    for (const auto& m : r.matches) EXPECT_NE(m.rule, "Good");
  }
}

TEST(YaraGroups, ABrokenRuleDropsItsWholeFile) {
  // Its good rule would go to the "MZ" group, its broken one to "any".
  expect_broken_file_skipped(
      "rule Good { strings: $a = \"alpha\" condition: uint16(0) == 0x5A4D and $a }\n"
      "rule Bad { strings: $a = \"alpha\" condition: $a and undefined_name }\n");
}

TEST(YaraGroups, ABrokenGatedRuleDropsItsWholeFileToo) {
  // The broken rule is the gated one: its group fails, the other would not.
  expect_broken_file_skipped(
      "rule Good { strings: $a = \"alpha\" condition: $a }\n"
      "rule Bad { strings: $a = \"alpha\" condition: uint16(0) == 0x5A4D and $a and undefined_name }\n");
}

}  // namespace
