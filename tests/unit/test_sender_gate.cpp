// The milter's inbound sender checks with the state store (milter/sender_gate),
// against both store backends, the outbound log seeded through the store API
// by a second connection (another host): a message is scanned for real with
// the options the gate gives it, then the gate's checks run on the report.
// Thread hijack (a third address with a ZIP) and its negatives (the original
// recipient, no attachment or link, an unknown Message-ID); a bounce for a
// Message-ID we never sent counted as backscatter, one for a message we sent
// not; our own domain from outside, and not when authenticated or from a
// client network; a store that cannot answer fails closed; the metrics.
// Last, the seeding step tests/integration/sender_postfix.sh runs (skipped
// without its environment).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ctime>

#include "emogate/config.h"
#include "emogate/scanner.h"
#include "milter/log.h"
#include "milter/metrics.h"
#include "milter/policy.h"
#include "milter/sender_gate.h"
#include "state/store.h"
#include "unit/findings.h"
#include "unit/mail_fixtures.h"
#include "unit/state_backends.h"
#include "unit/zip_fixtures.h"

namespace emogate::test {
namespace {

constexpr std::int64_t T0 = 1'800'000'000;
const outbound::Facts kOutside{"smtpd", "", "198.51.100.7"};

Config gate_config() {
  Config c;
  c.rules.paths.clear();
  c.outbound.local_domains = {"example.co.jp"};
  c.outbound.client_networks = {"192.0.2.0/24"};
  return c;
}

// The milter's path for one message: the gate's scan options, a real scan,
// the gate's checks, then its counts for the message `decided` (the first
// store error of the two in outcome.error).
struct Checked {
  Report report;
  SenderGate::Outcome outcome;
};
Checked run(SenderGate& gate, const Config& c, const std::string& msg, const outbound::Facts& facts = kOutside,
            const std::string& envelope_sender = "someone@partner.example", Action decided = Action::accept) {
  SenderGate::Message m = SenderGate::message(&gate, outbound::direction(facts, c.outbound), facts, c, "Q1");
  ScanOptions o;
  m.scan_options(o);
  Envelope env{"Q1", envelope_sender, {"taro@example.co.jp"}, std::string(facts.client_ip), std::string(facts.auth_user)};
  Checked out;
  out.report = Scanner(c).scan_message(msg, env, o);
  out.outcome = m.check(out.report, T0 + 60);
  const std::string counted = m.count(out.outcome, decided, T0 + 60);
  if (out.outcome.error.empty()) out.outcome.error = counted;
  return out;
}

std::string reply(const std::string& from, const std::string& in_reply_to, bool zip, bool link = false) {
  std::string m = "From: " + from + "\r\nTo: taro@example.co.jp\r\nSubject: Re: quote\r\n"
                  "Message-ID: <r1@partner.example>\r\nIn-Reply-To: <" + in_reply_to + ">\r\n"
                  "References: <older@example.co.jp> <" + in_reply_to + ">\r\nMIME-Version: 1.0\r\n";
  const std::string text = link ? "please see https://files.evil.example/invoice\r\n" : "please see the file\r\n";
  if (!zip) return m + "Content-Type: text/plain\r\n\r\n" + text;
  ZipMember member;
  member.name = "invoice.txt";
  member.data = "total: 100 yen\n";
  const std::string z = make_zip({member});
  return m + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n" + text +
         "--b1\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n"
         "Content-Disposition: attachment; filename=invoice.zip\r\n\r\n" + base64(z) + "--b1--\r\n";
}

// A Postfix delivery report returning `message_id`, sent by our user taro.
std::string dsn_for(const std::string& message_id) {
  return "From: MAILER-DAEMON@mx.partner.example (Mail Delivery System)\r\n"
         "Subject: Undelivered Mail Returned to Sender\r\nTo: taro@example.co.jp\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\r\n\r\n"
         "--BB\r\nContent-Type: text/plain\r\n\r\n<nobody@partner.example>: User unknown\r\n\r\n"
         "--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.partner.example\r\n\r\n"
         "Final-Recipient: rfc822; nobody@partner.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
         "--BB\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: Taro <taro@example.co.jp>\r\n"
         "To: nobody@partner.example\r\nSubject: hello\r\nMessage-ID: <" + message_id + ">\r\n\r\n--BB--\r\n";
}

const Finding* trick(const Report& r, const std::string& name) {
  for (const Finding& f : r.findings)
    if (f.type == FindingType::spoofed_sender && f.trick == name) return &f;
  return nullptr;
}

template <class Backend>
class SenderGateTest : public BackendTest<Backend> {
 protected:
  void SetUp() override {
    BackendTest<Backend>::SetUp();
    if (this->IsSkipped() || this->HasFailure()) return;
    cfg_ = gate_config();
    gate_ = std::make_unique<SenderGate>(this->open(), "", nullptr, &metrics_);
    // Our message: taro wrote to partner@partner.example.
    state::OutboundRecord r;
    r.message_id = "orig-1@example.co.jp";
    r.account = "taro@example.co.jp";
    r.recipients = {"partner@partner.example"};
    r.sent_at = T0;
    ASSERT_TRUE(this->store_->outbound_log().record(r, cfg_.outbound).ok());
  }
  std::uint64_t counted(state::AddressEvent e, const std::string& address) {
    auto c = this->store_->incidents().counts(0, 100);
    EXPECT_TRUE(c.ok()) << c.status().message();
    for (const state::AddressCount& a : *c)
      if (a.event == e && a.address == address) return a.count;
    return 0;
  }

  Config cfg_;
  Metrics metrics_;
  std::unique_ptr<SenderGate> gate_;
};
TYPED_TEST_SUITE(SenderGateTest, Backends, BackendNames);

TYPED_TEST(SenderGateTest, ThreadHijackFromAThirdAddressWithAZip) {
  Checked c = run(*this->gate_, this->cfg_, reply("Partner <attacker@evil.example>", "orig-1@example.co.jp", true));
  EXPECT_TRUE(c.outcome.error.empty()) << c.outcome.error;
  const Finding* f = trick(c.report, "thread_hijack");
  ASSERT_NE(f, nullptr) << dump(c.report);
  EXPECT_EQ(f->path, "In-Reply-To");
  EXPECT_EQ(f->sender, "attacker@evil.example");
  EXPECT_EQ(f->claimed, "orig-1@example.co.jp");
  EXPECT_EQ(f->verdict, Verdict::suspicious);
  EXPECT_GE(c.report.verdict, Verdict::suspicious);
  // It joined the report before the decision: the suspicious action applies.
  EXPECT_EQ(policy::decide(c.report, this->cfg_.actions).action, this->cfg_.actions.suspicious);
  EXPECT_NE(this->metrics_.render().find("emogate_spoofed_sender_total{trick=\"thread_hijack\"} 1"), std::string::npos);
  // A link instead of the ZIP is enough too.
  c = run(*this->gate_, this->cfg_, reply("attacker@evil.example", "orig-1@example.co.jp", false, true));
  EXPECT_NE(trick(c.report, "thread_hijack"), nullptr) << dump(c.report);
}

TYPED_TEST(SenderGateTest, NoThreadHijackFromTheRecipientWithoutAttachmentOrForAnUnknownId) {
  // The original recipient answers with a ZIP.
  Checked c = run(*this->gate_, this->cfg_, reply("Partner <Partner@Partner.example>", "orig-1@example.co.jp", true));
  EXPECT_EQ(trick(c.report, "thread_hijack"), nullptr) << dump(c.report);
  // A third address, but no attachment and no link.
  c = run(*this->gate_, this->cfg_, reply("attacker@evil.example", "orig-1@example.co.jp", false));
  EXPECT_EQ(trick(c.report, "thread_hijack"), nullptr) << dump(c.report);
  // A Message-ID we never sent.
  c = run(*this->gate_, this->cfg_, reply("attacker@evil.example", "unknown-9@example.co.jp", true));
  EXPECT_EQ(trick(c.report, "thread_hijack"), nullptr) << dump(c.report);
  EXPECT_TRUE(c.outcome.error.empty()) << c.outcome.error;
  EXPECT_FALSE(has_finding(c.report, FindingType::spoofed_sender)) << dump(c.report);
}

TYPED_TEST(SenderGateTest, BounceForAMessageWeNeverSentIsBackscatter) {
  Checked c = run(*this->gate_, this->cfg_, dsn_for("forged-7@example.co.jp"), kOutside, "");
  EXPECT_TRUE(c.outcome.error.empty()) << c.outcome.error;
  EXPECT_TRUE(c.report.sender.bounce);
  EXPECT_EQ(c.report.sender.bounced_for, "taro@example.co.jp");
  EXPECT_EQ(this->counted(state::AddressEvent::backscatter, "taro@example.co.jp"), 1u);
  EXPECT_NE(this->metrics_.render().find("emogate_backscatter_total 1\n"), std::string::npos);
  // A bounce is not a spoofed sender.
  EXPECT_FALSE(has_finding(c.report, FindingType::spoofed_sender)) << dump(c.report);
}

TYPED_TEST(SenderGateTest, BounceForAMessageWeSentIsNotBackscatter) {
  Checked c = run(*this->gate_, this->cfg_, dsn_for("orig-1@example.co.jp"), kOutside, "");
  EXPECT_TRUE(c.outcome.error.empty()) << c.outcome.error;
  EXPECT_TRUE(c.report.sender.bounce);
  EXPECT_EQ(this->counted(state::AddressEvent::backscatter, "taro@example.co.jp"), 0u);
  EXPECT_NE(this->metrics_.render().find("emogate_backscatter_total 0\n"), std::string::npos);
  ASSERT_FALSE(c.outcome.notes.empty());
  EXPECT_NE(c.outcome.notes.back().find("our message <orig-1@example.co.jp>"), std::string::npos);
}

TYPED_TEST(SenderGateTest, OwnDomainFromOutsideIsSpoofedAndCounted) {
  const std::string msg = "From: Taro <taro@example.co.jp>\r\nTo: hanako@example.co.jp\r\nSubject: invoice\r\n\r\nhi\r\n";
  Checked c = run(*this->gate_, this->cfg_, msg);
  EXPECT_TRUE(c.outcome.error.empty()) << c.outcome.error;
  const Finding* f = trick(c.report, "own_domain_unauthenticated");
  ASSERT_NE(f, nullptr) << dump(c.report);
  EXPECT_EQ(f->path, "From");
  EXPECT_EQ(f->claimed, "example.co.jp");
  EXPECT_EQ(c.report.verdict, Verdict::suspicious);
  EXPECT_EQ(this->counted(state::AddressEvent::spoofed_sender, "taro@example.co.jp"), 1u);

  // Authenticated (with authenticated_is_outbound off the mail stays inbound).
  Config auth = this->cfg_;
  auth.outbound.authenticated_is_outbound = false;
  c = run(*this->gate_, auth, msg, {"smtpd", "taro", "198.51.100.7"});
  EXPECT_FALSE(has_finding(c.report, FindingType::spoofed_sender)) << dump(c.report);
  // From a client network: outbound, the inbound checks do not run at all.
  c = run(*this->gate_, this->cfg_, msg, {"smtpd", "", "192.0.2.25"});
  EXPECT_FALSE(has_finding(c.report, FindingType::spoofed_sender)) << dump(c.report);
  // Authenticated with the default: outbound too.
  c = run(*this->gate_, this->cfg_, msg, {"smtpd", "taro", "198.51.100.7"});
  EXPECT_FALSE(has_finding(c.report, FindingType::spoofed_sender)) << dump(c.report);
  EXPECT_EQ(this->counted(state::AddressEvent::spoofed_sender, "taro@example.co.jp"), 1u);
}

// A message tempfailed (for any reason) comes again: counted when it is taken.
TYPED_TEST(SenderGateTest, ATempfailedMessageIsCountedWhenItComesAgainNotTwice) {
  const std::string msg = "From: Taro <taro@example.co.jp>\r\nTo: hanako@example.co.jp\r\nSubject: invoice\r\n\r\nhi\r\n";
  Checked c = run(*this->gate_, this->cfg_, msg, kOutside, "someone@partner.example", Action::tempfail);
  EXPECT_TRUE(c.outcome.error.empty()) << c.outcome.error;
  ASSERT_NE(trick(c.report, "own_domain_unauthenticated"), nullptr) << dump(c.report);
  ASSERT_EQ(c.outcome.counts.size(), 1u);
  EXPECT_EQ(this->counted(state::AddressEvent::spoofed_sender, "taro@example.co.jp"), 0u);
  c = run(*this->gate_, this->cfg_, msg, kOutside, "someone@partner.example", Action::reject);
  EXPECT_EQ(this->counted(state::AddressEvent::spoofed_sender, "taro@example.co.jp"), 1u);

  const std::string bounce = dsn_for("forged-8@example.co.jp");
  run(*this->gate_, this->cfg_, bounce, kOutside, "", Action::tempfail);
  EXPECT_EQ(this->counted(state::AddressEvent::backscatter, "taro@example.co.jp"), 0u);
  EXPECT_NE(this->metrics_.render().find("emogate_backscatter_total 0\n"), std::string::npos);
  run(*this->gate_, this->cfg_, bounce, kOutside, "", Action::quarantine);
  EXPECT_EQ(this->counted(state::AddressEvent::backscatter, "taro@example.co.jp"), 1u);
  EXPECT_NE(this->metrics_.render().find("emogate_backscatter_total 1\n"), std::string::npos);
}

TYPED_TEST(SenderGateTest, DisplayNameShowingOurAddressCountsIt) {
  Checked c = run(*this->gate_, this->cfg_,
                  "From: \"ceo@example.co.jp\" <jdoe123@mail-hosting.example>\r\nTo: taro@example.co.jp\r\n"
                  "Subject: urgent\r\n\r\nhi\r\n");
  ASSERT_NE(trick(c.report, "display_name_address"), nullptr) << dump(c.report);
  EXPECT_EQ(this->counted(state::AddressEvent::spoofed_sender, "ceo@example.co.jp"), 1u);
}

TYPED_TEST(SenderGateTest, NothingWithoutLocalDomains) {
  Config off = this->cfg_;
  off.outbound.local_domains.clear();
  Checked c = run(*this->gate_, off, "From: taro@example.co.jp\r\nSubject: x\r\n\r\nhi\r\n");
  EXPECT_FALSE(has_finding(c.report, FindingType::spoofed_sender)) << dump(c.report);
  EXPECT_TRUE(c.report.sender.from.empty());  // the scan did not even read it
}

TEST(SenderGateConfig, OutboundKeysOfTheInboundChecks) {
  Config c = parse_config("[outbound]\nlocal_domains = [\"example.co.jp\"]\nlocal_names = [\"山田 太郎\"]\n"
                          "max_thread_lookups = 5\nthread_recipient_domain_is_enough = true\n"
                          "max_bounce_recipients = 7\nmax_bounce_message_ids = 3\n",
                          "t.toml");
  EXPECT_EQ(c.outbound.local_names, std::vector<std::string>{"山田 太郎"});
  EXPECT_EQ(c.outbound.max_thread_lookups, 5u);
  EXPECT_TRUE(c.outbound.thread_recipient_domain_is_enough);
  EXPECT_EQ(c.outbound.max_bounce_recipients, 7u);
  EXPECT_EQ(c.outbound.max_bounce_message_ids, 3u);
  EXPECT_THROW(parse_config("[outbound]\nmax_thread_lookups = 0\n", "t.toml"), ConfigError);
  EXPECT_THROW(parse_config("[outbound]\nmax_bounce_message_ids = 0\n", "t.toml"), ConfigError);
  // The scan options of an inbound message carry the domains and names.
  SenderGate gate(nullptr, "", nullptr, nullptr);
  ScanOptions o;
  SenderGate::message(&gate, outbound::direction(kOutside, c.outbound), kOutside, c, "Q").scan_options(o);
  EXPECT_TRUE(o.sender_checks);
  EXPECT_EQ(o.local_domains, c.outbound.local_domains);
  EXPECT_EQ(o.local_names, c.outbound.local_names);
  ScanOptions out;
  SenderGate::message(&gate, outbound::Direction::out, {"smtpd", "taro", "198.51.100.7"}, c, "Q").scan_options(out);
  EXPECT_FALSE(out.sender_checks);
}

TEST(SenderGateConfig, BoundsReachTheScan) {
  // Only the newest max_thread_lookups References are read.
  Config c = gate_config();
  c.outbound.max_thread_lookups = 2;
  SenderGate gate(nullptr, "", nullptr, nullptr);
  Checked r = run(gate, c, "From: a@partner.example\r\nSubject: x\r\nReferences: <1@x> <2@x> <3@x>\r\n\r\nhi\r\n");
  EXPECT_EQ(r.report.sender.references, (std::vector<std::string>{"2@x", "3@x"}));
}

// ---- fail closed -------------------------------------------------------------

TEST(SenderGate, StoreThatCannotAnswerFailsClosed) {
  const Config cfg = gate_config();
  SenderGate closed(nullptr, "cannot open the state store: permission denied", nullptr, nullptr);
  // Mail that needs no look-up passes untouched.
  Checked c = run(closed, cfg, "From: someone@partner.example\r\nSubject: x\r\n\r\nhi\r\n");
  EXPECT_TRUE(c.outcome.error.empty()) << c.outcome.error;
  // A bounce, a reply with an attachment, a forged local sender: on_error.
  for (const std::string& msg : {dsn_for("x@example.co.jp"), reply("attacker@evil.example", "orig-1@example.co.jp", true),
                                 std::string("From: taro@example.co.jp\r\nSubject: x\r\n\r\nhi\r\n")}) {
    c = run(closed, cfg, msg, kOutside, msg.find("MAILER-DAEMON") != std::string::npos ? "" : "a@partner.example");
    ASSERT_NE(c.outcome.error.find("permission denied"), std::string::npos) << msg;
    MessageLog ml;
    policy::Decision d = sender_fail_closed(policy::decide(c.report, cfg.actions), c.outcome.error, cfg.actions, ml);
    EXPECT_EQ(d.action, cfg.actions.on_error);
    EXPECT_EQ(ml.verdict, "error");
    EXPECT_NE(ml.why.find("permission denied"), std::string::npos);
  }
  // A stronger decision of the scan stays.
  MessageLog ml;
  policy::Decision reject;
  reject.action = Action::reject;
  EXPECT_EQ(sender_fail_closed(reject, "state store: down", cfg.actions, ml).action, Action::reject);
}

TEST(SenderGate, RedisThatStopsFailsClosed) {
  if (RedisServer::binary().empty()) GTEST_SKIP() << "redis-server is not installed (scripts/deps.sh installs it)";
  RedisServer server;
  ASSERT_TRUE(server.start());
  Config cfg = gate_config();
  cfg.state.backend = "redis";
  cfg.state.redis = server.address();
  cfg.state.command_timeout_ms = 500;
  cfg.state.connect_timeout_ms = 500;
  auto gate = SenderGate::open(cfg, nullptr, nullptr);
  Checked c = run(*gate, cfg, dsn_for("x@example.co.jp"), kOutside, "");
  EXPECT_TRUE(c.outcome.error.empty()) << c.outcome.error;
  server.stop();
  c = run(*gate, cfg, dsn_for("x@example.co.jp"), kOutside, "");
  EXPECT_FALSE(c.outcome.error.empty());
}

// ---- two stores in one process ---------------------------------------------------

// The milter opens the SQLite store once per gate (PPAP, sender checks).
// Opening the second must not drop the first one's locks: another process
// (`emogate incident report`) closing its connection would then checkpoint
// and delete the WAL under the first, whose later writes would be lost.
TEST(SenderGateStore, ASecondSqliteStoreInTheProcessKeepsTheFirstOnesWrites) {
  TempDir dir;
  const std::string db = (dir.path / "state.db").string();
  const std::string conf = (dir.path / "c.toml").string();
  std::ofstream(conf) << "[state]\npath = \"" << db << "\"\n[outbound]\nlocal_domains = [\"example.co.jp\"]\n";
  const Config c = load_config(conf);
  auto first = state::open_state_store(c.state);
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = state::open_state_store(c.state);
  ASSERT_TRUE(second.ok()) << second.status().message();
  const std::int64_t now = std::time(nullptr);
  ASSERT_TRUE((*first)->incidents().count(state::AddressEvent::backscatter, "a@example.co.jp", now, c.outbound).ok());
  // `emogate incident report` in another process: opens the store, closes it.
  auto report = [&] {
    std::string out;
    FILE* p = ::popen((std::string(EMOGATE_BIN) + " incident --config " + conf + " report --json").c_str(), "r");
    if (!p) return out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
    return out;
  };
  EXPECT_NE(report().find("a@example.co.jp"), std::string::npos);
  ASSERT_TRUE((*first)->incidents().count(state::AddressEvent::backscatter, "b@example.co.jp", now, c.outbound).ok());
  const std::string after = report();
  EXPECT_NE(after.find("a@example.co.jp"), std::string::npos) << after;
  EXPECT_NE(after.find("b@example.co.jp"), std::string::npos) << after;
}

// ---- the integration test's seeding step --------------------------------------

// tests/integration/sender_postfix.sh seeds the outbound log of its daemon's
// store with one message we "sent" (until the milter records outbound mail
// itself): EMOGATE_SEED_CONFIG names the daemon's config,
// EMOGATE_SEED_MESSAGE_ID, EMOGATE_SEED_ACCOUNT and EMOGATE_SEED_RECIPIENT
// the record.
TEST(SenderGateSeed, OutboundLogForTheIntegrationTest) {
  const char* config = std::getenv("EMOGATE_SEED_CONFIG");
  if (!config) GTEST_SKIP() << "run by tests/integration/sender_postfix.sh only";
  const char* id = std::getenv("EMOGATE_SEED_MESSAGE_ID");
  const char* account = std::getenv("EMOGATE_SEED_ACCOUNT");
  const char* recipient = std::getenv("EMOGATE_SEED_RECIPIENT");
  ASSERT_TRUE(id && account && recipient) << "EMOGATE_SEED_MESSAGE_ID, _ACCOUNT and _RECIPIENT are needed too";
  const Config cfg = load_config(config);
  auto store = state::open_state_store(cfg.state);
  ASSERT_TRUE(store.ok()) << store.status().message();
  state::OutboundRecord r;
  r.message_id = id;
  r.account = account;
  r.recipients = {recipient};
  r.sent_at = std::time(nullptr);
  auto done = (*store)->outbound_log().record(r, cfg.outbound);
  ASSERT_TRUE(done.ok()) << done.status().message();
  auto found = (*store)->outbound_log().find(r.message_id, 1);
  ASSERT_TRUE(found.ok() && found->size() == 1u);
}

}  // namespace
}  // namespace emogate::test
