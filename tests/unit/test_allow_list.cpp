// The [macros] allow-list is the engine's decision (engine/allow_list.h):
// it lowers only the vba_macro findings of VBA projects the scan recorded,
// by project hash or by the envelope sender's domain, and says why.
#include <gtest/gtest.h>

#include "engine/allow_list.h"

using namespace emogate;

namespace {

std::vector<Finding> findings() {
  return {{FindingType::vba_macro, "a.doc", "VBA project /Macros", Verdict::malicious},
          {FindingType::vba_macro, "b.docm", "content types declare a VBA project", Verdict::suspicious},
          {FindingType::vba_macro, "c.doc", "VBA project /Macros", Verdict::suspicious}};
}

const std::vector<ScanContext::MacroProject> kProjects = {{0, "aa11"}, {2, "cc33"}};

}  // namespace

TEST(AllowList, ProjectHashLowersOnlyThatProject) {
  MacroSettings m;
  m.allow_project_sha256 = {"AA11"};
  auto f = findings();
  apply_macro_allow_list(m, Envelope{}, kProjects, f);
  EXPECT_EQ(f[0].verdict, Verdict::clean);
  EXPECT_EQ(f[0].detail, "VBA project /Macros; allow-listed (project sha256)");
  EXPECT_EQ(f[1].verdict, Verdict::suspicious);
  EXPECT_EQ(f[2].verdict, Verdict::suspicious);
}

TEST(AllowList, SenderDomainLowersEveryProjectButNotOtherFindings) {
  MacroSettings m;
  m.allow_sender_domains = {"Partner.example"};
  Envelope env;
  env.sender = "billing@PARTNER.example";
  auto f = findings();
  apply_macro_allow_list(m, env, kProjects, f);
  EXPECT_EQ(f[0].verdict, Verdict::clean);
  EXPECT_EQ(f[2].verdict, Verdict::clean);
  EXPECT_NE(f[2].detail.find("allow-listed (sender domain partner.example)"), std::string::npos) << f[2].detail;
  EXPECT_EQ(f[1].verdict, Verdict::suspicious);  // not a project the VBA module read
  env.sender = "someone@elsewhere.example";
  auto g = findings();
  apply_macro_allow_list(m, env, kProjects, g);
  EXPECT_EQ(g[0].verdict, Verdict::malicious);
}
