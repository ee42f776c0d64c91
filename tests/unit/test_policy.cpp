// Policy: verdict + findings + [actions] -> milter decision.
#include <gtest/gtest.h>

#include "milter/policy.h"

using namespace emogate;
using policy::decide;
using policy::decide_error;

namespace {

Report make_report(Verdict v, std::vector<std::pair<FindingType, std::string>> fs = {}) {
  Report r;
  r.verdict = v;
  for (auto& [t, p] : fs) r.findings.push_back(Finding{t, p, "detail", v});
  return r;
}

const std::string* header(const policy::Decision& d, const std::string& name) {
  for (const auto& [n, v] : d.headers)
    if (n == name) return &v;
  return nullptr;
}

}  // namespace

TEST(Policy, RankOrdersByHowMuchGetsThrough) {
  EXPECT_LT(policy::rank(Action::accept), policy::rank(Action::tag));
  EXPECT_LT(policy::rank(Action::tag), policy::rank(Action::hold));
  EXPECT_LT(policy::rank(Action::hold), policy::rank(Action::quarantine));
  EXPECT_LT(policy::rank(Action::quarantine), policy::rank(Action::tempfail));
  EXPECT_LT(policy::rank(Action::tempfail), policy::rank(Action::reject));
  EXPECT_LT(policy::rank(Action::reject), policy::rank(Action::discard));
  EXPECT_EQ(policy::stronger(Action::hold, Action::tag), Action::hold);
  EXPECT_EQ(policy::stronger(Action::tag, Action::reject), Action::reject);
}

TEST(Policy, DefaultsTagCleanHoldSuspiciousRejectMalicious) {
  ActionSettings s;
  auto clean = decide(make_report(Verdict::clean), s);
  EXPECT_EQ(clean.action, Action::tag);
  ASSERT_NE(header(clean, "X-Emogate-Verdict"), nullptr);
  EXPECT_EQ(*header(clean, "X-Emogate-Verdict"), "clean");
  EXPECT_EQ(header(clean, "X-Emogate-Findings"), nullptr);
  EXPECT_TRUE(clean.hold_reason.empty());

  auto sus = decide(make_report(Verdict::suspicious, {{FindingType::vba_macro, "a.docm/word/vbaProject.bin"}}), s);
  EXPECT_EQ(sus.action, Action::hold);
  EXPECT_EQ(*header(sus, "X-Emogate-Verdict"), "suspicious");
  EXPECT_EQ(*header(sus, "X-Emogate-Findings"), "vba_macro@a.docm/word/vbaProject.bin");
  EXPECT_NE(sus.hold_reason.find("emogate: suspicious vba_macro@a.docm"), std::string::npos);
  EXPECT_EQ(sus.why, "verdict=suspicious");

  auto mal = decide(make_report(Verdict::malicious, {{FindingType::yara, "body"}}), s);
  EXPECT_EQ(mal.action, Action::reject);
  EXPECT_EQ(mal.rcode, "550");
  EXPECT_EQ(mal.xcode, "5.7.1");
  EXPECT_EQ(mal.text, s.reject_text);
  EXPECT_TRUE(mal.headers.empty());
}

TEST(Policy, FindingOverrideOnlyRaisesTheAction) {
  ActionSettings s;
  s.findings[FindingType::encrypted_archive] = Action::reject;
  s.findings[FindingType::vba_macro] = Action::tag;  // weaker than hold: ignored
  auto d = decide(make_report(Verdict::suspicious, {{FindingType::vba_macro, "x.doc"},
                                                    {FindingType::encrypted_archive, "y.zip"}}),
                  s);
  EXPECT_EQ(d.action, Action::reject);
  EXPECT_EQ(d.why, "finding=encrypted_archive");
  auto d2 = decide(make_report(Verdict::suspicious, {{FindingType::vba_macro, "x.doc"}}), s);
  EXPECT_EQ(d2.action, Action::hold);
  EXPECT_EQ(d2.why, "verdict=suspicious");
}

TEST(Policy, QuarantineThenHoldKeepsHeadersQuarantineThenDiscardDoesNot) {
  ActionSettings s;
  s.suspicious = Action::quarantine;
  auto r = make_report(Verdict::suspicious, {{FindingType::xlm_macro, "b.xls"}});
  auto held = decide(r, s, Action::hold);
  EXPECT_EQ(held.action, Action::quarantine);
  EXPECT_EQ(held.after_quarantine, Action::hold);
  EXPECT_NE(header(held, "X-Emogate-Verdict"), nullptr);
  EXPECT_FALSE(held.hold_reason.empty());
  auto dropped = decide(r, s, Action::discard);
  EXPECT_EQ(dropped.after_quarantine, Action::discard);
  EXPECT_TRUE(dropped.headers.empty());
  // Anything else than hold after storing means discard.
  EXPECT_EQ(decide(r, s, Action::tag).after_quarantine, Action::discard);
}

TEST(Policy, SubjectPrefixOnlyForFlaggedDeliveredMail) {
  ActionSettings s;
  s.subject_prefix_suspicious = "[SUSPICIOUS]";
  s.subject_prefix_malicious = "[MALICIOUS]";
  s.malicious = Action::tag;
  EXPECT_EQ(decide(make_report(Verdict::suspicious), s).subject_prefix, "[SUSPICIOUS]");
  EXPECT_EQ(decide(make_report(Verdict::malicious), s).subject_prefix, "[MALICIOUS]");
  EXPECT_EQ(decide(make_report(Verdict::clean), s).subject_prefix, "");
  s.malicious = Action::reject;
  EXPECT_EQ(decide(make_report(Verdict::malicious), s).subject_prefix, "");
}

TEST(Policy, NoHeadersWhenDisabledOrAccepted) {
  ActionSettings s;
  s.add_headers = false;
  EXPECT_TRUE(decide(make_report(Verdict::clean), s).headers.empty());
  s.add_headers = true;
  s.clean = Action::accept;
  EXPECT_TRUE(decide(make_report(Verdict::clean), s).headers.empty());
}

TEST(Policy, ErrorUsesOnErrorDefaultTempfail) {
  ActionSettings s;
  auto d = decide_error(s, "scan deadline passed");
  EXPECT_EQ(d.action, Action::tempfail);
  EXPECT_EQ(d.rcode, "451");
  EXPECT_EQ(d.xcode, "4.7.1");
  EXPECT_EQ(d.text, s.tempfail_text);
  EXPECT_EQ(d.why, "error=scan%20deadline%20passed");
  s.on_error = Action::tag;
  auto t = decide_error(s, "x");
  ASSERT_NE(header(t, "X-Emogate-Verdict"), nullptr);
  EXPECT_EQ(*header(t, "X-Emogate-Verdict"), "unscanned");
  s.on_error = Action::quarantine;
  EXPECT_EQ(decide_error(s, "x").after_quarantine, Action::hold);
}

TEST(Policy, ReplyTextIsOneSafeLine) {
  EXPECT_EQ(policy::reply_text("100% bad\r\nInjected: x"), "100%% bad  Injected: x");
  EXPECT_EQ(policy::reply_text(""), "Message refused (emogate)");
  EXPECT_LE(policy::reply_text(std::string(5000, 'a')).size(), 401u);
}

TEST(Policy, FindingsHeaderEscapesAndBounds) {
  auto r = make_report(Verdict::suspicious, {{FindingType::vba_macro, "請求書.zip/a,b.xls"},
                                             {FindingType::malformed, "x\r\nBcc: evil"}});
  EXPECT_EQ(policy::findings_header(r),
            "vba_macro@%E8%AB%8B%E6%B1%82%E6%9B%B8.zip/a%2Cb.xls, malformed@x%0D%0ABcc: evil");
  Report many;
  for (int i = 0; i < 30; ++i) many.findings.push_back({FindingType::yara, "p" + std::to_string(i), "", Verdict::malicious});
  std::string h = policy::findings_header(many, 5);
  EXPECT_EQ(h, "yara@p0, yara@p1, yara@p2, yara@p3, yara@p4, (+25 more)");
}

TEST(Policy, HoldReasonIsBoundedAndPrintable) {
  ActionSettings s;
  Report r = make_report(Verdict::suspicious);
  for (int i = 0; i < 50; ++i) r.findings.push_back({FindingType::yara, std::string(30, 'x') + "\n", "", Verdict::suspicious});
  auto d = decide(r, s);
  EXPECT_LE(d.hold_reason.size(), 200u * 3);
  for (unsigned char c : d.hold_reason) EXPECT_TRUE(c >= 0x20 && c < 0x7f);
}

TEST(Policy, HoldReasonIsEscapedOnce) {
  ActionSettings s;
  // A Japanese name: its UTF-8 bytes are escaped once (%E8...), never %25E8.
  auto d = decide(make_report(Verdict::suspicious, {{FindingType::vba_macro, "\xE8\xAB\x8B.docm"}}), s);
  EXPECT_NE(d.hold_reason.find("vba_macro@%E8%AB%8B.docm"), std::string::npos) << d.hold_reason;
  EXPECT_EQ(d.hold_reason.find("%25"), std::string::npos) << d.hold_reason;
  s.on_error = Action::hold;
  auto e = decide_error(s, "temp file: \xE8 100%\r\nX");
  EXPECT_NE(e.hold_reason.find("scan failed: temp file: %E8 100%25%0D%0AX"), std::string::npos) << e.hold_reason;
  // A long reason is cut before an escape sequence, not inside it.
  Report r = make_report(Verdict::suspicious);
  for (int i = 0; i < 40; ++i) r.findings.push_back({FindingType::yara, "\xE8\xE8\xE8\xE8\xE8", "", Verdict::suspicious});
  auto long_d = decide(r, s);
  std::string body = long_d.hold_reason.substr(0, long_d.hold_reason.size() - 3);
  ASSERT_GE(body.size(), 3u);
  EXPECT_NE(body[body.size() - 1], '%');
  EXPECT_NE(body[body.size() - 2], '%');
}

// A whole stored message gets the tag action's Subject prefix (a PPAP
// release delivers it later than the milter's own edits).
TEST(Policy, SubjectPrefixOnAStoredMessage) {
  using policy::with_subject_prefix;
  EXPECT_EQ(with_subject_prefix("From: a@b\r\nSubject: Hello\r\n\r\nbody Subject: x\r\n", "[SUSPICIOUS]"),
            "From: a@b\r\nSubject: [SUSPICIOUS] Hello\r\n\r\nbody Subject: x\r\n");
  // Folded, encoded, case-insensitive name, LF line ends.
  EXPECT_EQ(with_subject_prefix("subject: =?UTF-8?B?44GK6KaL?=\n =?UTF-8?B?56mN?=\nTo: c@d\n\nbody\n", "[MALWARE]"),
            "subject: [MALWARE] =?UTF-8?B?44GK6KaL?=\n =?UTF-8?B?56mN?=\nTo: c@d\n\nbody\n");
  // Already there: unchanged; none: added; no prefix: unchanged.
  EXPECT_EQ(with_subject_prefix("Subject: [MALWARE] x\r\n\r\nb", "[MALWARE]"), "Subject: [MALWARE] x\r\n\r\nb");
  EXPECT_EQ(with_subject_prefix("From: a@b\r\n\r\nSubject: in the body\r\n", "[MALWARE]"),
            "Subject: [MALWARE]\r\nFrom: a@b\r\n\r\nSubject: in the body\r\n");
  EXPECT_EQ(with_subject_prefix("Subject: x\n\nb", ""), "Subject: x\n\nb");
  EXPECT_EQ(with_subject_prefix("Subject:", "[S]"), "Subject:[S]");
}
