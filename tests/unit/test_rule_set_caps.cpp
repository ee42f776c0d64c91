// A rule set's max_action: its findings alone never cause a stronger action
// than the cap (a "tag" set never rejects, even when its rule says
// malicious); a finding from an uncapped source still acts normally.
#include <gtest/gtest.h>

#include "emogate/scanner.h"
#include "milter/policy.h"
#include "unit/findings.h"
#include "unit/test_files.h"

using namespace emogate;
using namespace emogate::test;

namespace {

Finding yara_hit(const std::string& set, Verdict v) {
  Finding f{FindingType::yara, "a.exe", "Rule [ns]", v};
  f.rule_set = set;
  return f;
}

Report report_of(std::vector<Finding> fs) {
  Report r;
  r.findings = std::move(fs);
  for (const Finding& f : r.findings) r.verdict = std::max(r.verdict, f.verdict);
  return r;
}

TEST(RuleSetCap, TagSetNeverRejects) {
  ActionSettings a;
  a.rule_set_caps["sb"] = Action::tag;
  policy::Decision d = policy::decide(report_of({yara_hit("sb", Verdict::malicious)}), a);
  EXPECT_EQ(d.action, Action::tag);
  EXPECT_TRUE(d.rcode.empty());
}

TEST(RuleSetCap, PerFindingOverrideIsCappedToo) {
  ActionSettings a;
  a.rule_set_caps["sb"] = Action::tag;
  a.findings[FindingType::yara] = Action::reject;
  EXPECT_EQ(policy::decide(report_of({yara_hit("sb", Verdict::malicious)}), a).action, Action::tag);
}

TEST(RuleSetCap, CapBelowTheVerdictActionHolds) {
  ActionSettings a;
  a.rule_set_caps["sb"] = Action::hold;
  EXPECT_EQ(policy::decide(report_of({yara_hit("sb", Verdict::malicious)}), a).action, Action::hold);
  // A cap above what the verdict asks for changes nothing.
  a.rule_set_caps["sb"] = Action::reject;
  EXPECT_EQ(policy::decide(report_of({yara_hit("sb", Verdict::suspicious)}), a).action, Action::hold);
}

TEST(RuleSetCap, UncappedSourcesStillAct) {
  ActionSettings a;
  a.rule_set_caps["sb"] = Action::tag;
  EXPECT_EQ(policy::decide(report_of({yara_hit("sb", Verdict::malicious), yara_hit("default", Verdict::malicious)}), a)
                .action,
            Action::reject);
  Finding macro{FindingType::vba_macro, "a.doc", "AutoOpen", Verdict::suspicious};
  EXPECT_EQ(policy::decide(report_of({yara_hit("sb", Verdict::malicious), macro}), a).action, Action::hold);
  // Without a cap the same finding rejects.
  EXPECT_EQ(policy::decide(report_of({yara_hit("sb", Verdict::malicious)}), ActionSettings{}).action, Action::reject);
}

TEST(RuleSetCap, ThroughTheScannerAndConfig) {
  TempDir d;
  d.write("sb/r.yar", "rule Evil { meta: verdict = \"malicious\" strings: $a = \"EVIL-MARK\" condition: $a }\n");
  d.write("emogate.toml", "[limits]\nisolation = \"inprocess\"\n[rules]\npaths = []\n"
                          "[[rules.set]]\nname = \"untrusted\"\npaths = [\"sb\"]\nmax_action = \"tag\"\n");
  Config c = load_config((d.path / "emogate.toml").string());
  Scanner s(c);
  Report r = s.scan_file("x EVIL-MARK x", "note.txt");
  ASSERT_EQ(r.verdict, Verdict::malicious) << dump(r);
  EXPECT_EQ(r.findings[0].rule_set, "untrusted");
  EXPECT_EQ(policy::decide(r, c.actions).action, Action::tag);
}

}  // namespace
