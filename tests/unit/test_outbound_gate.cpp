// The milter's outbound gate against both store backends: a malicious
// outbound message opens the account's incident and freezes it; the frozen
// account gets [outbound] frozen_action with frozen_reply on every host
// sharing the store, other accounts do not, and unfreezing lets it send;
// every outbound message that goes out is logged with its Message-ID,
// recipients and attachment hashes and purged after the retention; the two
// volume anomalies count as suspicious and freeze at freeze_after_suspicious;
// a store that cannot answer is [actions] on_error. Also the Message-ID and
// attachment-hash readers, the scan option that hashes the attachments of
// outbound mail, and dir= in the log lines.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"
#include "milter/log.h"
#include "milter/outbound_gate.h"
#include "milter/policy.h"
#include "state/store.h"
#include "unit/fixtures.h"
#include "unit/state_backends.h"
#include "unit/test_files.h"

namespace emogate::test {
namespace {

constexpr std::int64_t T0 = 1'800'000'000;  // 2027-01-15T08:00:00Z

ObjectSummary object(std::string path, int depth, std::string sha, bool body = false, bool derived = false) {
  ObjectSummary o;
  o.path = std::move(path);
  o.depth = depth;
  o.sha256 = std::move(sha);
  o.body = body;
  o.derived = derived;
  return o;
}

// A scan report: the message, its text body, one attachment `hash` and,
// for a flagged one, a finding of `type` on it.
Report report(Verdict v, const std::string& hash, FindingType type = FindingType::vba_macro) {
  Report r;
  r.verdict = v;
  r.objects = {object("", 0, ""), object("body-1.txt", 1, "b0d1", /*body=*/true), object("invoice.doc", 1, hash),
               object("invoice.doc/vba/Module1", 2, "dead", false, /*derived=*/true)};
  if (v != Verdict::clean) r.findings.push_back(Finding{type, "invoice.doc", "", v});
  return r;
}

TEST(OutboundGateReaders, MessageIdTakesTheFirstAngleAddrOrTheTrimmedValue) {
  EXPECT_EQ(message_id_of(" <abc.123@mail.example.jp>"), "abc.123@mail.example.jp");
  EXPECT_EQ(message_id_of("(comment) <a@b> <c@d>"), "a@b");
  EXPECT_EQ(message_id_of("  bare-id@host \t"), "bare-id@host");
  EXPECT_EQ(message_id_of(""), "");
  EXPECT_EQ(message_id_of("<>"), "");
  EXPECT_EQ(message_id_of("<unclosed@x"), "");
  EXPECT_EQ(message_id_of(std::string("<a\0b@x>", 7)), "");
  EXPECT_EQ(message_id_of("<" + std::string(999, 'a') + ">"), "");
  EXPECT_EQ(message_id_of("<" + std::string(998, 'a') + ">"), std::string(998, 'a'));
}

TEST(OutboundGateReaders, AttachmentHashesAreTheCarriedFilesOnly) {
  Report r = report(Verdict::clean, "aa11");
  r.objects.push_back(object("invoice.doc", 1, "aa11"));  // the same file twice
  r.objects.push_back(object("scan.pdf", 1, ""));         // not hashed: not listed
  r.objects.push_back(object("b.zip/inner.doc", 2, "cc33"));
  EXPECT_EQ(attachment_hashes(r), std::vector<std::string>{"aa11"});
  EXPECT_TRUE(attachment_hashes(Report{}).empty());
}

// The milter hashes only archives and flagged objects; for outbound mail
// it asks for the carried files too (not the text bodies).
TEST(OutboundGateReaders, HashAttachmentsHashesTheCarriedFilesOnly) {
  Config c;
  c.rules.paths.clear();
  Scanner scanner(c);
  const std::string msg = multipart("From: a@example.jp\r\nTo: b@partner.example\r\nSubject: q3\r\n",
                                    {Part{"Content-Type: text/plain", "see the figures"},
                                     attachment("=\"figures.csv\"", "q,1\r\nr,2\r\n", "text/csv")});
  ScanOptions lean;
  lean.hash_all_objects = false;
  Report before = scanner.scan_message(msg, Envelope{}, lean);
  ASSERT_EQ(before.verdict, Verdict::clean) << to_json(before);
  EXPECT_TRUE(attachment_hashes(before).empty()) << to_json(before);
  lean.hash_attachments = true;
  Report out = scanner.scan_message(msg, Envelope{}, lean);
  EXPECT_EQ(attachment_hashes(out), std::vector<std::string>{"b3439375866f9c9e87b321de8b863ad48270ac4287de2455511dcde235320ec3"})
      << to_json(out);
  for (const ObjectSummary& o : out.objects) {
    if (o.body) {
      EXPECT_EQ(o.sha256, "") << o.path;
    }
  }
}

TEST(OutboundGateReaders, TheLogLinesSayTheDirection) {
  MessageLog m;
  m.verdict = "clean";
  m.env.queue_id = "4QAB1";
  m.env.auth_user = "alice";
  m.dir = "out";
  const std::string line = format_log_line(m);
  EXPECT_NE(line.find(" client=- dir=out sasl_username=alice"), std::string::npos) << line;
  EXPECT_EQ(nlohmann::json::parse(format_json_line(m, 1.0))["dir"], "out");
  m.dir.clear();
  EXPECT_EQ(format_log_line(m).find("dir="), std::string::npos);
}

TEST(OutboundGateReaders, FrozenDecisionCarriesTheConfiguredActionAndReply) {
  OutboundSettings s;
  s.frozen_reply = "Blocked: call 0120-000-000 (100% sure)";
  state::FreezeRecord f{"alice@example.jp", "1 malicious", T0};
  policy::Decision d = OutboundGate::frozen_decision(f, s);
  EXPECT_EQ(d.action, Action::reject);
  EXPECT_EQ(d.rcode, "550");
  EXPECT_EQ(d.xcode, "5.7.1");
  EXPECT_EQ(d.text, "Blocked: call 0120-000-000 (100%% sure)");  // '%' doubled for smfi_setreply
  EXPECT_EQ(d.why, "frozen account=alice@example.jp");
  s.frozen_action = Action::tempfail;
  EXPECT_EQ(OutboundGate::frozen_decision(f, s).rcode, "451");
  s.frozen_action = Action::hold;
  d = OutboundGate::frozen_decision(f, s);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.hold_reason, "emogate: account frozen: alice@example.jp");
}

TEST(OutboundGateReaders, AStoreThatCannotAnswerIsOnError) {
  TempDir dir;
  Config c;
  c.state.backend = "redis";
  c.state.redis = "unix:" + (dir.path / "none.sock").string();
  c.actions.on_error = Action::tempfail;
  OutboundGate gate(c);
  std::string error;
  auto d = gate.at_mail_from("alice", c, &error);
  ASSERT_TRUE(d.has_value()) << "a store that cannot say must not let the account send";
  EXPECT_EQ(d->action, Action::tempfail);
  EXPECT_NE(error.find("state store"), std::string::npos) << error;
  Report r = report(Verdict::clean, "aa11");
  OutboundGate::Message m;
  m.account = "alice";
  m.env.recipients = {"bob@partner.example"};
  m.report = &r;
  m.sent = true;
  m.now = T0;
  EXPECT_FALSE(gate.after_scan(m, c.outbound).error.empty());
  // The null sender without authentication has no account: nothing to ask.
  error.clear();
  EXPECT_FALSE(gate.at_mail_from("", c, &error).has_value());
  EXPECT_TRUE(error.empty());
}

template <class Backend>
class OutboundGateTest : public BackendTest<Backend> {
 protected:
  void SetUp() override {
    BackendTest<Backend>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    gate_ = std::make_unique<OutboundGate>(std::move(this->store_));
    cfg_.outbound.frozen_reply = "Your account is blocked. Call the help desk.";
  }

  OutboundGate::Outcome send(const std::string& account, std::vector<std::string> rcpts, const Report* r,
                             std::int64_t at, bool sent = true, OutboundGate* gate = nullptr) {
    OutboundGate::Message m;
    m.env.queue_id = "Q" + std::to_string(at);
    m.env.recipients = std::move(rcpts);
    m.account = account;
    m.message_id = "m" + std::to_string(at) + "@example.jp";
    m.report = r;
    m.sent = sent;
    m.now = at;
    OutboundGate::Outcome o = (gate ? gate : gate_.get())->after_scan(m, cfg_.outbound);
    EXPECT_TRUE(o.error.empty()) << o.error;
    return o;
  }
  std::optional<policy::Decision> frozen(const std::string& account, OutboundGate* gate = nullptr) {
    std::string error;
    auto d = (gate ? gate : gate_.get())->at_mail_from(account, cfg_, &error);
    EXPECT_TRUE(error.empty()) << error;
    return d;
  }

  Config cfg_;
  std::unique_ptr<OutboundGate> gate_;
};
TYPED_TEST_SUITE(OutboundGateTest, Backends, BackendNames);

TYPED_TEST(OutboundGateTest, AMaliciousMessageFreezesItsAccountOnEveryHostUntilUnfrozen) {
  OutboundGate host_b(this->open());
  EXPECT_FALSE(this->frozen("alice").has_value());
  const Report clean = report(Verdict::clean, "aa11");
  EXPECT_FALSE(this->send("alice", {"x@partner.example"}, &clean, T0).flagged);
  EXPECT_FALSE(this->frozen("alice").has_value()) << "a clean message must not freeze";

  const Report dropper = report(Verdict::malicious, "dd44");
  // Rejected by the policy: not sent, so not logged, but counted.
  OutboundGate::Outcome o = this->send("alice", {"Bob@Partner.example", "carol@other.example"}, &dropper, T0 + 60,
                                       /*sent=*/false);
  EXPECT_TRUE(o.flagged);
  EXPECT_TRUE(o.froze);
  EXPECT_FALSE(o.logged);
  EXPECT_EQ(o.freeze_why, "1 malicious outbound message(s) within 3600s");

  for (OutboundGate* g : {this->gate_.get(), &host_b}) {
    auto d = this->frozen("alice", g);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->action, Action::reject);
    EXPECT_EQ(d->text, "Your account is blocked. Call the help desk.");
  }
  EXPECT_FALSE(this->frozen("bob@partner.example").has_value()) << "another account is not frozen";

  auto inc = this->gate_->store().incidents().get("alice");
  ASSERT_TRUE(inc.ok()) << inc.status().message();
  EXPECT_EQ(inc->messages, 1u);
  EXPECT_EQ(inc->malicious, 1u);
  EXPECT_EQ(inc->recipients, 2u);
  EXPECT_EQ(inc->domains, 2u);
  EXPECT_EQ(inc->findings, std::vector<std::string>{"vba_macro"});
  EXPECT_EQ(inc->attachment_hashes, std::vector<std::string>{"dd44"});
  EXPECT_EQ(inc->queue_ids, std::vector<std::string>{"Q" + std::to_string(T0 + 60)});
  EXPECT_EQ(inc->frozen_at, T0 + 60);

  // A second malicious message: counted, the account was frozen already.
  o = this->send("alice", {"dave@third.example"}, &dropper, T0 + 120, false, &host_b);
  EXPECT_TRUE(o.flagged);
  EXPECT_FALSE(o.froze);
  EXPECT_EQ(this->gate_->store().incidents().get("alice")->messages, 2u);

  // `emogate account unfreeze`: its own connection to the store.
  auto cli = this->open();
  auto un = cli->freezes().unfreeze("alice", "admin", T0 + 600);
  ASSERT_TRUE(un.ok() && *un);
  EXPECT_FALSE(this->frozen("alice", &host_b).has_value());
  EXPECT_TRUE(this->send("alice", {"x@partner.example"}, &clean, T0 + 700).logged);
  inc = cli->incidents().get("alice");
  ASSERT_TRUE(inc.ok());
  EXPECT_EQ(inc->sent_since, 1u) << "the message sent after the unfreeze";
  EXPECT_EQ(inc->last_sent, T0 + 700);
  EXPECT_EQ(cli->outbound_log().by_account("alice", 0, 10)->size(), 2u);
  EXPECT_EQ(*this->gate_->frozen_accounts_if_due(T0 + 600, this->cfg_.outbound), 0u);
  EXPECT_FALSE(this->gate_->frozen_accounts_if_due(T0 + 601, this->cfg_.outbound).has_value()) << "once a minute";
}

TYPED_TEST(OutboundGateTest, MessagesThatGoOutAreLoggedAndPurgedAfterTheRetention) {
  const Report clean = report(Verdict::clean, "aa11");
  EXPECT_TRUE(this->send("alice", {"Bob@Partner.example"}, &clean, T0).logged);
  EXPECT_FALSE(this->send("alice", {"carol@partner.example"}, &clean, T0 + 1, /*sent=*/false).logged);
  EXPECT_TRUE(this->send("alice", {"dave@partner.example"}, nullptr, T0 + 2).logged) << "an unscanned message that went out";
  auto found = this->gate_->store().outbound_log().find("m" + std::to_string(T0) + "@example.jp", 10);
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().account, "alice");
  EXPECT_EQ(found->front().recipients, std::vector<std::string>{"bob@partner.example"});
  EXPECT_EQ(found->front().attachment_hashes, std::vector<std::string>{"aa11"});
  EXPECT_EQ(found->front().queue_id, "Q" + std::to_string(T0));
  EXPECT_EQ(found->front().sent_at, T0);
  EXPECT_TRUE(this->gate_->store().outbound_log().find("m" + std::to_string(T0 + 1) + "@example.jp", 10)->empty());

  // No Message-ID: still logged (volume, report), under an id no reply can name.
  OutboundGate::Message m;
  m.env.queue_id = "4QXYZ";
  m.env.recipients = {"erin@partner.example"};
  m.account = "alice";
  m.sent = true;
  m.now = T0 + 3;
  ASSERT_TRUE(this->gate_->after_scan(m, this->cfg_.outbound).logged);
  EXPECT_EQ(this->gate_->store().outbound_log().find("no-message-id.4QXYZ@emogate.invalid", 10)->size(), 1u);

  // The retention runs once an hour: the records older than it go.
  this->cfg_.outbound.retention_s = 86400;
  this->send("alice", {"frank@partner.example"}, &clean, T0 + 86400 + 2);
  auto left = this->gate_->store().outbound_log().by_account("alice", 0, 100);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 3u);  // T0 + 2, T0 + 3 and the last
  EXPECT_EQ(left->back().sent_at, T0 + 2);
}

TYPED_TEST(OutboundGateTest, TooManyRecipientsInAnHourAreAnAnomalyThatFreezesAtTheSuspiciousCount) {
  this->cfg_.outbound.max_recipients_per_hour = 3;
  const Report clean = report(Verdict::clean, "aa11");
  int i = 0;
  auto next = [&](std::vector<std::string> r) { return this->send("alice", std::move(r), &clean, T0 + 10 * ++i); };
  EXPECT_TRUE(next({"a@x.example", "b@x.example"}).anomalies.empty());
  EXPECT_TRUE(next({"c@y.example", "A@x.example"}).anomalies.empty()) << "3 distinct: at the bound";
  OutboundGate::Outcome o = next({"d@z.example"});
  EXPECT_EQ(o.anomalies, std::vector<std::string>{"recipient_volume"});
  EXPECT_TRUE(o.flagged);
  EXPECT_FALSE(o.froze);
  EXPECT_TRUE(next({"a@x.example"}).anomalies.empty()) << "no new recipient";
  EXPECT_FALSE(next({"e@z.example"}).froze);
  o = next({"f@z.example"});
  EXPECT_TRUE(o.froze) << "the third suspicious message in the window";
  EXPECT_EQ(o.freeze_why, "3 flagged outbound message(s) within 3600s");
  auto inc = this->gate_->store().incidents().get("alice");
  ASSERT_TRUE(inc.ok());
  EXPECT_EQ(inc->findings, std::vector<std::string>{"recipient_volume"});
  EXPECT_EQ(inc->malicious, 0u);
  // An hour later the old recipients have left the window.
  EXPECT_TRUE(this->send("bob", {"a@x.example"}, &clean, T0 + 10).anomalies.empty()) << "per account";
  EXPECT_TRUE(this->send("alice", {"g@z.example"}, &clean, T0 + 10 * i + 3600).anomalies.empty());
}

TYPED_TEST(OutboundGateTest, OneAttachmentToManyUnrelatedThreadsIsABurst) {
  this->cfg_.outbound.max_same_attachment_per_hour = 2;
  const Report same = report(Verdict::clean, "ee55");
  const Report other = report(Verdict::clean, "ff66");
  EXPECT_TRUE(this->send("alice", {"a@x.example"}, &same, T0).anomalies.empty());
  EXPECT_TRUE(this->send("alice", {"a@x.example", "b@x.example"}, &same, T0 + 1).anomalies.empty()) << "same thread";
  EXPECT_TRUE(this->send("alice", {"c@y.example"}, &other, T0 + 2).anomalies.empty()) << "another file";
  EXPECT_TRUE(this->send("alice", {"c@y.example"}, &same, T0 + 3).anomalies.empty()) << "2 threads: at the bound";
  OutboundGate::Outcome o = this->send("alice", {"d@z.example"}, &same, T0 + 4);
  EXPECT_EQ(o.anomalies, std::vector<std::string>{"attachment_burst"});
  EXPECT_TRUE(o.flagged);
  auto inc = this->gate_->store().incidents().get("alice");
  ASSERT_TRUE(inc.ok());
  EXPECT_EQ(inc->attachment_hashes, std::vector<std::string>{"ee55"});
  EXPECT_EQ(inc->findings, std::vector<std::string>{"attachment_burst"});
}

}  // namespace
}  // namespace emogate::test
