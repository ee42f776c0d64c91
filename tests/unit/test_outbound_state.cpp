// The outbound state: direction (submission daemon, authenticated session,
// client networks incl. IPv6 and IPv4-mapped clients), the freeze rule, the
// [outbound] keys; then the outbound log, incidents, address counts and
// freezes run against both store backends, with two store objects as two
// hosts; SQLite's batched bookkeeping commits; then `emogate account` and `emogate incident report` on a scripted
// incident, whose JSON must hold the exact known counts and whose English
// and Japanese text must print them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/outbound_admin.h"
#include "emogate/config.h"
#include "outbound/direction.h"
#include "state/store.h"
#include "unit/state_backends.h"

namespace emogate::test {
namespace {

using state::Code;
using state::FlaggedMessage;
using state::OutboundRecord;
using state::StateStore;

constexpr std::int64_t T0 = 1'800'000'000;  // 2027-01-15T08:00:00Z

// ---- direction ---------------------------------------------------------------

OutboundSettings direction_settings() {
  OutboundSettings s;
  s.submission_daemons = {"submission", "smtps"};
  s.client_networks = {"192.0.2.0/24", "2001:db8:10::/48", "10.1.2.3"};
  s.local_domains = {"example.jp"};
  return s;
}

TEST(OutboundDirection, SubmissionDaemonAuthenticatedSessionOrClientNetworkIsOut) {
  const OutboundSettings s = direction_settings();
  using outbound::Direction;
  auto dir = [&](std::string_view daemon, std::string_view auth, std::string_view ip) {
    return outbound::direction({daemon, auth, ip}, s);
  };
  EXPECT_EQ(dir("submission", "", "198.51.100.9"), Direction::out);
  EXPECT_EQ(dir("smtps", "", ""), Direction::out);
  EXPECT_EQ(dir("smtpd", "", "198.51.100.9"), Direction::in);
  EXPECT_EQ(dir("Submission", "", "198.51.100.9"), Direction::in);  // names are exact
  EXPECT_EQ(dir("smtpd", "alice", "198.51.100.9"), Direction::out);
  EXPECT_EQ(dir("smtpd", "", "192.0.2.77"), Direction::out);
  EXPECT_EQ(dir("smtpd", "", "192.0.3.1"), Direction::in);
  EXPECT_EQ(dir("smtpd", "", "::ffff:192.0.2.5"), Direction::out);   // IPv4-mapped
  EXPECT_EQ(dir("smtpd", "", "2001:db8:10:ff::1"), Direction::out);
  EXPECT_EQ(dir("smtpd", "", "[2001:db8:10::25]"), Direction::out);
  EXPECT_EQ(dir("smtpd", "", "IPv6:2001:db8:10::25"), Direction::out);
  EXPECT_EQ(dir("smtpd", "", "2001:db8:11::1"), Direction::in);
  EXPECT_EQ(dir("smtpd", "", "10.1.2.3"), Direction::out);  // a single address
  EXPECT_EQ(dir("smtpd", "", "10.1.2.4"), Direction::in);
  EXPECT_EQ(dir("smtpd", "", "unknown"), Direction::in);
  EXPECT_EQ(dir("", "", ""), Direction::in);

  OutboundSettings off = s;
  off.authenticated_is_outbound = false;
  EXPECT_EQ(outbound::direction({"smtpd", "alice", "198.51.100.9"}, off), outbound::Direction::in);
  EXPECT_EQ(outbound::to_string(outbound::Direction::out), "out");
}

TEST(OutboundDirection, NetworksAreParsedStrictly) {
  EXPECT_TRUE(outbound::parse_network("0.0.0.0/0"));
  EXPECT_TRUE(outbound::parse_network("::/0"));
  EXPECT_TRUE(outbound::parse_network("2001:db8::/32"));
  EXPECT_FALSE(outbound::parse_network("192.0.2.1/24"));  // host bits set
  EXPECT_FALSE(outbound::parse_network("192.0.2.0/33"));
  EXPECT_FALSE(outbound::parse_network("192.0.2.0/"));
  EXPECT_FALSE(outbound::parse_network("192.0.2.0/x"));
  EXPECT_FALSE(outbound::parse_network("2001:db8::/129"));
  EXPECT_FALSE(outbound::parse_network("example.jp"));
  EXPECT_FALSE(outbound::parse_network(""));
  auto any4 = outbound::parse_network("0.0.0.0/0");
  EXPECT_TRUE(outbound::contains(*any4, *outbound::parse_address("203.0.113.1")));
  EXPECT_FALSE(outbound::contains(*any4, *outbound::parse_address("2001:db8::1")));  // v4 only
}

TEST(OutboundDirection, AccountsAndLocalAddresses) {
  const OutboundSettings s = direction_settings();
  EXPECT_EQ(outbound::account_of("Alice", "<bob@example.jp>"), "alice");
  EXPECT_EQ(outbound::account_of("", "<Bob@Example.JP>"), "bob@example.jp");
  EXPECT_EQ(outbound::account_of("", ""), "");
  EXPECT_EQ(outbound::domain_of("bob@Mail.Example.JP>"), "mail.example.jp");
  EXPECT_EQ(outbound::domain_of("nobody"), "");
  EXPECT_TRUE(outbound::is_local("bob@example.jp", s));
  EXPECT_TRUE(outbound::is_local("bob@sales.example.jp", s));
  EXPECT_FALSE(outbound::is_local("bob@badexample.jp", s));
  EXPECT_FALSE(outbound::is_local("bob@example.jp.evil.com", s));
}

TEST(OutboundFreezeRule, OneMaliciousOrNFlaggedInTheWindow) {
  OutboundSettings s;  // defaults: 1 malicious, 3 suspicious
  EXPECT_FALSE(state::decide_freeze({0, 0}, s).freeze);
  EXPECT_FALSE(state::decide_freeze({0, 2}, s).freeze);
  auto m = state::decide_freeze({1, 0}, s);
  EXPECT_TRUE(m.freeze);
  EXPECT_NE(m.why.find("1 malicious"), std::string::npos) << m.why;
  auto sus = state::decide_freeze({0, 3}, s);
  EXPECT_TRUE(sus.freeze);
  EXPECT_NE(sus.why.find("3 flagged"), std::string::npos) << sus.why;
  s.freeze_after_malicious = 0;  // never on malicious alone
  EXPECT_FALSE(state::decide_freeze({2, 0}, s).freeze);
  EXPECT_TRUE(state::decide_freeze({2, 1}, s).freeze);  // malicious count as flagged
  s.freeze_after_suspicious = 0;
  EXPECT_FALSE(state::decide_freeze({50, 50}, s).freeze);
}

TEST(OutboundConfig, KeysAreReadAndBadValuesNameTheLine) {
  Config c = parse_config(
      "[outbound]\nsubmission_daemons = [\"submission\"]\nclient_networks = [\"10.0.0.0/8\", \"2001:db8::/32\"]\n"
      "local_domains = [\"Example.JP\"]\nfreeze_after_suspicious = 5\nfreeze_window = \"2h\"\n"
      "frozen_action = \"tempfail\"\nretention = \"30d\"\nmax_log_entries = 5000\n",
      "/etc/emogate/e.toml");
  EXPECT_EQ(c.outbound.submission_daemons, std::vector<std::string>{"submission"});
  EXPECT_EQ(c.outbound.client_networks.size(), 2u);
  EXPECT_EQ(c.outbound.local_domains, std::vector<std::string>{"example.jp"});
  EXPECT_EQ(c.outbound.freeze_after_suspicious, 5u);
  EXPECT_EQ(c.outbound.freeze_window_s, 7200u);
  EXPECT_EQ(c.outbound.frozen_action, Action::tempfail);
  EXPECT_EQ(c.outbound.retention_s, 30u * 86400);
  EXPECT_EQ(c.outbound.max_log_entries, 5000u);
  Config d = parse_config("", "x.toml");
  EXPECT_EQ(d.outbound.freeze_after_malicious, 1u);
  EXPECT_EQ(d.outbound.freeze_after_suspicious, 3u);
  EXPECT_EQ(d.outbound.freeze_window_s, 3600u);
  EXPECT_EQ(d.outbound.frozen_action, Action::reject);
  EXPECT_EQ(d.outbound.retention_s, 90u * 86400);
  EXPECT_NE(d.outbound.frozen_reply.find("help desk"), std::string::npos);

  auto error = [](const std::string& text) {
    try {
      parse_config(text, "/etc/emogate/e.toml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("[outbound]\n\nclient_networks = [\"10.0.0.1/8\"]\n").rfind("/etc/emogate/e.toml:3: outbound.client_networks", 0), 0u);
  EXPECT_EQ(error("[outbound]\nfrozen_action = \"accept\"\n").rfind("/etc/emogate/e.toml:2: outbound.frozen_action", 0), 0u);
  EXPECT_EQ(error("[outbound]\nfrozen_reply = \"a\\nb\"\n").rfind("/etc/emogate/e.toml:2: outbound.frozen_reply", 0), 0u);
  EXPECT_EQ(error("[outbound]\nretention = \"1h\"\n").rfind("/etc/emogate/e.toml:2: outbound.retention", 0), 0u);
  EXPECT_NE(error("[outbound]\nmax_incident_list = 2\n").find("freeze_after_"), std::string::npos);
  EXPECT_NE(error("[outbound]\nfreez_after = 1\n").find(":2: unknown key 'freez_after' in [outbound]"), std::string::npos);
}

// ---- the store sections, both backends ---------------------------------------

OutboundRecord sent(const std::string& mid, const std::string& account, std::vector<std::string> rcpts,
                    std::int64_t at, std::vector<std::string> hashes = {}) {
  OutboundRecord r;
  r.message_id = mid;
  r.account = account;
  r.recipients = std::move(rcpts);
  r.sent_at = at;
  r.attachment_hashes = std::move(hashes);
  r.queue_id = "Q" + std::to_string(at);
  return r;
}

FlaggedMessage flagged(const std::string& account, std::int64_t at, bool malicious, std::vector<std::string> rcpts,
                       std::vector<std::string> findings = {"vba_macro"}, std::vector<std::string> hashes = {"aa11"},
                       std::string qid = "") {
  FlaggedMessage m;
  m.account = account;
  m.at = at;
  m.malicious = malicious;
  m.recipients = std::move(rcpts);
  m.findings = std::move(findings);
  m.attachment_hashes = std::move(hashes);
  m.queue_id = qid.empty() ? "Q" + std::to_string(at) : qid;
  return m;
}

template <class Backend>
class OutboundStoreTest : public BackendTest<Backend> {
 protected:
  state::OutboundLog& log() { return this->store_->outbound_log(); }
  state::IncidentStore& inc() { return this->store_->incidents(); }
  state::FreezeStore& fz() { return this->store_->freezes(); }
  void record_ok(const OutboundRecord& r) {
    auto n = log().record(r, set_);
    ASSERT_TRUE(n.ok()) << n.status().message();
  }
  state::FlagCounts flag_ok(const FlaggedMessage& m) {
    auto c = inc().flag(m, set_);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : state::FlagCounts{};
  }

  OutboundSettings set_;
};
TYPED_TEST_SUITE(OutboundStoreTest, Backends, BackendNames);

TYPED_TEST(OutboundStoreTest, TheLogAnswersDidWeSendItAndToWhom) {
  this->record_ok(sent("m1@example.jp", "alice", {"bob@partner.com", "carol@partner.com"}, T0, {"aa11"}));
  this->record_ok(sent("m2@example.jp", "alice", {"dave@other.com"}, T0 + 10));
  this->record_ok(sent("m1@example.jp", "alice", {"erin@partner.com"}, T0 + 20));  // sent again
  auto found = this->log().find("m1@example.jp", 10);
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ(found->at(0).recipients, std::vector<std::string>{"erin@partner.com"});  // newest first
  EXPECT_EQ(found->at(1).recipients, (std::vector<std::string>{"bob@partner.com", "carol@partner.com"}));
  EXPECT_EQ(found->at(1).attachment_hashes, std::vector<std::string>{"aa11"});
  EXPECT_EQ(found->at(1).account, "alice");
  EXPECT_EQ(found->at(1).sent_at, T0);
  EXPECT_EQ(found->at(1).queue_id, "Q" + std::to_string(T0));
  EXPECT_FALSE(found->at(1).recipients_truncated);
  EXPECT_EQ(this->log().find("m1@example.jp", 1)->size(), 1u);
  EXPECT_TRUE(this->log().find("never@example.jp", 10)->empty());
  EXPECT_EQ(this->log().by_account("alice", T0 + 10, 10)->size(), 2u);
  EXPECT_EQ(this->log().by_account("alice", 0, 10)->size(), 3u);
  EXPECT_TRUE(this->log().by_account("bob", 0, 10)->empty());

  auto purged = this->log().purge(T0 + 10);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1u);
  EXPECT_EQ(this->log().find("m1@example.jp", 10)->size(), 1u);
  EXPECT_EQ(this->log().by_account("alice", 0, 10)->size(), 2u);

  EXPECT_EQ(this->log().record(sent("", "alice", {"x@y"}, T0), this->set_).status().code(), Code::invalid);
  EXPECT_EQ(this->log().record(sent("a\nb", "alice", {"x@y"}, T0), this->set_).status().code(), Code::invalid);
  EXPECT_EQ(this->log().record(sent("m3", "alice", {}, T0), this->set_).status().code(), Code::invalid);
  EXPECT_EQ(this->log().record(sent("m3", "", {"x@y"}, T0), this->set_).status().code(), Code::invalid);
}

TYPED_TEST(OutboundStoreTest, TheLogIsBoundedByItsSettings) {
  this->set_.max_log_entries = 3;
  this->set_.max_log_recipients = 2;
  for (int i = 0; i < 5; ++i) {
    auto n = this->log().record(sent("m" + std::to_string(i), "alice", {"a@x", "b@x", "c@x"}, T0 + i), this->set_);
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_EQ(n->dropped, i < 3 ? 0u : 1u) << "record " << i;
  }
  EXPECT_TRUE(this->log().find("m0", 10)->empty());
  EXPECT_TRUE(this->log().find("m1", 10)->empty());
  auto m4 = this->log().find("m4", 10);
  ASSERT_EQ(m4->size(), 1u);
  EXPECT_EQ(m4->front().recipients, (std::vector<std::string>{"a@x", "b@x"}));
  EXPECT_TRUE(m4->front().recipients_truncated);
  EXPECT_EQ(this->log().by_account("alice", 0, 100)->size(), 3u);
}

// The volume window record() keeps and returns: distinct recipients of the
// account's last hour with whether this message adds one, and per
// attachment hash the unrelated threads it went to; volume() answers the
// same without writing; another host sees it.
TYPED_TEST(OutboundStoreTest, RecordReturnsTheAccountsVolumeWindow) {
  auto rec = [&](std::vector<std::string> rcpts, std::int64_t at, std::vector<std::string> hashes = {},
                 const std::string& account = "alice") {
    auto r = this->log().record(sent("m" + std::to_string(at), account, std::move(rcpts), at, std::move(hashes)),
                                this->set_);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->volume : state::Volume{};
  };
  auto peek = [&](std::vector<std::string> rcpts, std::int64_t at, std::vector<std::string> hashes = {},
                  state::StateStore* store = nullptr) {
    auto r = (store ? store : this->store_.get())->outbound_log().volume(sent("", "alice", std::move(rcpts), at, std::move(hashes)), this->set_);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : state::Volume{99, true, 99};
  };
  state::Volume v = rec({"a@x", "b@x", "a@x"}, T0, {"h1"});
  EXPECT_EQ(v.recipients, 2u);
  EXPECT_TRUE(v.new_recipient);
  EXPECT_EQ(v.threads, 1u);
  v = rec({"a@x", "c@y"}, T0 + 10, {"h1"});
  EXPECT_EQ(v.recipients, 3u);
  EXPECT_TRUE(v.new_recipient);
  EXPECT_EQ(v.threads, 1u) << "a@x: the same thread";
  v = rec({"b@x"}, T0 + 20);
  EXPECT_EQ(v.recipients, 3u);
  EXPECT_FALSE(v.new_recipient);
  EXPECT_EQ(v.threads, 0u) << "no attachment";
  // Read only: asked twice, the same answer; another host sees it.
  auto other = this->open();
  for (state::StateStore* s : {this->store_.get(), other.get()}) {
    v = peek({"d@z"}, T0 + 30, {}, s);
    EXPECT_EQ(v.recipients, 4u);
    EXPECT_TRUE(v.new_recipient);
  }
  EXPECT_EQ(rec({"a@x"}, T0 + 30, {}, "bob").recipients, 1u) << "per account";
  // Unrelated threads for h1: d@z and e@z now; a@x,b@x and a@x,c@y are one.
  EXPECT_EQ(rec({"d@z"}, T0 + 40, {"h1", "h2"}).threads, 2u);
  EXPECT_EQ(rec({"e@z"}, T0 + 50, {"h2"}).threads, 2u);
  EXPECT_EQ(peek({"f@z"}, T0 + 60, {"h1"}).threads, 3u);
  EXPECT_EQ(peek({"f@z"}, T0 + 60, {"h3"}).threads, 1u);
  EXPECT_EQ(peek({"a@x"}, T0 + 60, {"h1"}).threads, 2u) << "a@x: the first two messages are its thread";
  // The window is the last hour: at T0 + 3610 only what came after T0 + 10 counts.
  v = peek({"a@x"}, T0 + 3610, {"h1"});
  EXPECT_EQ(v.recipients, 4u) << "b@x, d@z, e@z and a@x";
  EXPECT_TRUE(v.new_recipient) << "a@x was last sent to at T0 + 10";
  EXPECT_EQ(v.threads, 2u) << "the T0 and T0 + 10 messages left the window";
  // Pruning drops only what left the window.
  ASSERT_TRUE(this->log().prune_volume(T0 + 3610).ok());
  EXPECT_EQ(peek({"a@x"}, T0 + 3610, {"h1"}).recipients, 4u);
}

// The recipients kept per account stop at max_recipients_per_hour + 1:
// past it a recipient not kept counts as new (the account is past the
// bound either way), a kept one does not.
TYPED_TEST(OutboundStoreTest, TheVolumeWindowKeepsBoundedRecipients) {
  this->set_.max_recipients_per_hour = 2;
  this->set_.max_same_attachment_per_hour = 1;
  auto r = this->log().record(sent("m1", "alice", {"r1@x", "r2@x", "r3@x", "r4@x", "r5@x"}, T0), this->set_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->volume.recipients, 5u);
  auto v = this->log().volume(sent("", "alice", {"r5@x"}, T0 + 1), this->set_);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->recipients, 4u) << "3 kept + r5, not kept";
  EXPECT_TRUE(v->new_recipient);
  v = this->log().volume(sent("", "alice", {"r1@x"}, T0 + 1), this->set_);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->recipients, 3u);
  EXPECT_FALSE(v->new_recipient);
  // Threads are counted up to max_same_attachment_per_hour + 1 = 2 (a
  // burst): five unrelated messages with the hash still give 2.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(this->log().record(sent("h" + std::to_string(i), "bob", {"t" + std::to_string(i) + "@x"}, T0 + i, {"hh"}), this->set_).ok());
  v = this->log().volume(sent("", "bob", {"new@x"}, T0 + 10, {"hh"}), this->set_);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->threads, 2u);
  this->set_.max_same_attachment_per_hour = 2;
  v = this->log().volume(sent("", "bob", {"new@x"}, T0 + 10, {"hh"}), this->set_);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->threads, 3u);
  this->set_.max_same_attachment_per_hour = 0;  // every attachment is a burst: this message alone
  v = this->log().volume(sent("", "bob", {"new@x"}, T0 + 10, {"hh"}), this->set_);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->threads, 1u);
  EXPECT_EQ(this->log().volume(sent("", "", {"new@x"}, T0 + 10), this->set_).status().code(), Code::invalid);
}

TYPED_TEST(OutboundStoreTest, IncidentsCountMessagesRecipientsDomainsAndTheWindow) {
  auto c1 = this->flag_ok(flagged("alice", T0, false, {"a@p.com", "b@p.com"}, {"vba_macro"}, {"h1"}));
  EXPECT_EQ(c1.malicious, 0u);
  EXPECT_EQ(c1.suspicious, 1u);
  auto c2 = this->flag_ok(flagged("alice", T0 + 600, true, {"b@p.com", "c@q.com"}, {"yara", "vba_macro"}, {"h2"}));
  EXPECT_EQ(c2.malicious, 1u);
  EXPECT_EQ(c2.suspicious, 1u);
  // An hour after the first, it has left the window.
  auto c3 = this->flag_ok(flagged("alice", T0 + 3600, false, {"d@r.com"}, {"vba_macro"}, {"h1"}));
  EXPECT_EQ(c3.malicious, 1u);
  EXPECT_EQ(c3.suspicious, 1u);

  auto i = this->inc().get("alice");
  ASSERT_TRUE(i.ok()) << i.status().message();
  EXPECT_EQ(i->first_seen, T0);
  EXPECT_EQ(i->last_seen, T0 + 3600);
  EXPECT_EQ(i->messages, 3u);
  EXPECT_EQ(i->malicious, 1u);
  EXPECT_EQ(i->recipients, 4u);
  EXPECT_EQ(i->domains, 3u);
  EXPECT_FALSE(i->recipients_capped);
  EXPECT_EQ(i->findings, (std::vector<std::string>{"vba_macro", "yara"}));
  EXPECT_EQ(i->attachment_hashes, (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(i->queue_ids.size(), 3u);
  EXPECT_EQ(i->last_sent, 0);
  EXPECT_EQ(this->inc().get("bob").status().code(), Code::not_found);

  // Outbound mail after the incident opened moves last_sent on.
  this->record_ok(sent("later@example.jp", "alice", {"z@p.com"}, T0 + 4000));
  this->record_ok(sent("other@example.jp", "bob", {"z@p.com"}, T0 + 4001));  // no incident: nothing
  i = this->inc().get("alice");
  EXPECT_EQ(i->last_sent, T0 + 4000);
  EXPECT_EQ(i->sent_since, 1u);
  EXPECT_EQ(this->inc().get("bob").status().code(), Code::not_found);

  EXPECT_EQ(this->inc().list(0, 10)->size(), 1u);
  EXPECT_EQ(this->inc().list(T0 + 4000, 10)->size(), 1u);  // still sending
  EXPECT_TRUE(this->inc().list(T0 + 4001, 10)->empty());
  EXPECT_EQ(this->inc().flag(flagged("", T0, true, {}), this->set_).status().code(), Code::invalid);
}

TYPED_TEST(OutboundStoreTest, IncidentListsAndCountsAreBounded) {
  this->set_.max_incidents = 2;
  this->set_.max_incident_recipients = 3;
  this->set_.max_incident_list = 3;
  this->flag_ok(flagged("a1", T0, false, {"r1@d1", "r2@d2"}, {"f1", "f2"}, {"h1", "h2"}));
  this->flag_ok(flagged("a1", T0 + 1, false, {"r3@d3", "r4@d4"}, {"f3", "f4"}, {"h3", "h4"}));
  this->flag_ok(flagged("a2", T0 + 2, false, {"r1@d1"}));
  auto third = this->inc().flag(flagged("a3", T0 + 3, true, {"r1@d1"}), this->set_);
  EXPECT_EQ(third.status().code(), Code::limit);
  EXPECT_EQ(this->inc().get("a3").status().code(), Code::not_found);
  auto a1 = this->inc().get("a1");
  ASSERT_TRUE(a1.ok());
  EXPECT_EQ(a1->recipients, 3u);
  EXPECT_EQ(a1->domains, 3u);
  EXPECT_TRUE(a1->recipients_capped);
  EXPECT_EQ(a1->findings.size(), 3u);
  EXPECT_EQ(a1->attachment_hashes.size(), 3u);
  EXPECT_EQ(a1->messages, 2u);
  // Flagged events in the window: at most max_incident_list are kept.
  for (int k = 0; k < 5; ++k) this->flag_ok(flagged("a2", T0 + 10 + k, false, {"r1@d1"}));
  auto c = this->flag_ok(flagged("a2", T0 + 20, true, {"r1@d1"}));
  EXPECT_EQ(c.malicious + c.suspicious, 3u);
  EXPECT_EQ(c.malicious, 1u);
}

TYPED_TEST(OutboundStoreTest, FreezeIsOneRecordSeenByEveryHostUntilUnfrozen) {
  auto hostB = this->open();
  ASSERT_TRUE(hostB);
  this->flag_ok(flagged("alice", T0, true, {"a@p.com"}));
  EXPECT_FALSE(this->fz().is_frozen("alice")->has_value());
  auto f = this->fz().freeze("alice", "1 malicious outbound message(s) within 3600s", T0 + 1);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(*f);
  EXPECT_FALSE(*hostB->freezes().freeze("alice", "again", T0 + 2));  // first reason stays
  auto seen = hostB->freezes().is_frozen("alice");
  ASSERT_TRUE(seen.ok()) << seen.status().message();
  ASSERT_TRUE(seen->has_value());
  EXPECT_EQ((*seen)->why, "1 malicious outbound message(s) within 3600s");
  EXPECT_EQ((*seen)->at, T0 + 1);
  EXPECT_FALSE(hostB->freezes().is_frozen("bob")->has_value());
  EXPECT_FALSE(hostB->freezes().is_frozen("Alice")->has_value());  // accounts are normalised by the caller

  // Host B's flagged message lands in the same incident.
  auto c = hostB->incidents().flag(flagged("alice", T0 + 5, false, {"b@q.com"}), this->set_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->malicious, 1u);
  EXPECT_EQ(c->suspicious, 1u);
  auto i = this->inc().get("alice");
  EXPECT_EQ(i->messages, 2u);
  EXPECT_EQ(i->recipients, 2u);
  EXPECT_EQ(i->frozen_at, T0 + 1);

  EXPECT_TRUE(*this->fz().freeze("mallory@example.jp", "3 flagged", T0 + 3));
  auto list = hostB->freezes().list_frozen(10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->at(0).account, "alice");
  EXPECT_EQ(list->at(1).account, "mallory@example.jp");
  EXPECT_EQ(hostB->freezes().list_frozen(1)->size(), 1u);

  EXPECT_TRUE(*hostB->freezes().unfreeze("alice", "admin", T0 + 100));
  EXPECT_FALSE(*this->fz().unfreeze("alice", "admin", T0 + 101));
  EXPECT_FALSE(this->fz().is_frozen("alice")->has_value());
  i = this->inc().get("alice");
  EXPECT_EQ(i->frozen_at, T0 + 1);
  EXPECT_EQ(i->unfrozen_at, T0 + 100);
  EXPECT_EQ(i->unfrozen_by, "admin");
  EXPECT_EQ(this->fz().list_frozen(10)->size(), 1u);
}

TYPED_TEST(OutboundStoreTest, AddressCountsFoldIntoTheDomainPastTheirBound) {
  this->set_.max_counter_addresses = 2;
  auto& inc = this->inc();
  ASSERT_TRUE(inc.count(state::AddressEvent::backscatter, "bob@example.jp", T0, this->set_).ok());
  ASSERT_TRUE(inc.count(state::AddressEvent::backscatter, "bob@example.jp", T0 + 5, this->set_).ok());
  ASSERT_TRUE(inc.count(state::AddressEvent::backscatter, "carol@example.jp", T0 + 1, this->set_).ok());
  ASSERT_TRUE(inc.count(state::AddressEvent::backscatter, "dave@example.jp", T0 + 2, this->set_).ok());
  ASSERT_TRUE(inc.count(state::AddressEvent::spoofed_sender, "ceo@example.jp", T0 + 3, this->set_).ok());
  // dave@ found no room: counted under the domain.
  auto c = inc.counts(0, 10);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->size(), 4u);
  EXPECT_EQ(c->at(0).address, "bob@example.jp");
  EXPECT_EQ(c->at(0).count, 2u);
  EXPECT_EQ(c->at(0).first_at, T0);
  EXPECT_EQ(c->at(0).last_at, T0 + 5);
  EXPECT_EQ(c->at(1).address, "@example.jp");
  EXPECT_EQ(c->at(2).address, "carol@example.jp");
  EXPECT_EQ(c->at(3).event, state::AddressEvent::spoofed_sender);
  EXPECT_EQ(c->at(3).address, "ceo@example.jp");
  EXPECT_EQ(inc.counts(T0 + 4, 10)->size(), 1u);
  EXPECT_EQ(inc.counts(0, 2)->size(), 2u);
  // Room for one more: erin@ gets its own count, frank@ folds again.
  this->set_.max_counter_addresses = 4;
  ASSERT_TRUE(inc.count(state::AddressEvent::backscatter, "erin@example.jp", T0 + 6, this->set_).ok());
  ASSERT_TRUE(inc.count(state::AddressEvent::backscatter, "frank@example.jp", T0 + 7, this->set_).ok());
  c = inc.counts(T0 + 6, 10);
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ(c->at(0).address, "@example.jp");
  EXPECT_EQ(c->at(0).count, 2u);
  EXPECT_EQ(c->at(0).first_at, T0 + 2);
  EXPECT_EQ(c->at(1).address, "erin@example.jp");
  EXPECT_EQ(inc.count(state::AddressEvent::backscatter, "", T0, this->set_).code(), Code::invalid);
}

TYPED_TEST(OutboundStoreTest, PurgeKeepsFrozenAccountsAndRecentOnes) {
  this->flag_ok(flagged("old", T0, true, {"a@p.com"}));
  this->flag_ok(flagged("frozen", T0, true, {"a@p.com"}));
  this->flag_ok(flagged("recent", T0 + 1000, true, {"a@p.com"}));
  ASSERT_TRUE(*this->fz().freeze("frozen", "x", T0));
  ASSERT_TRUE(this->inc().count(state::AddressEvent::spoofed_sender, "x@example.jp", T0, this->set_).ok());
  auto n = this->inc().purge(T0 + 500);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2u);  // "old" and the address count
  EXPECT_EQ(this->inc().get("old").status().code(), Code::not_found);
  EXPECT_TRUE(this->inc().get("frozen").ok());
  EXPECT_TRUE(this->inc().get("recent").ok());
  EXPECT_TRUE(this->inc().counts(0, 10)->empty());
  // A new incident for the purged account starts from zero.
  this->flag_ok(flagged("old", T0 + 2000, false, {"b@p.com"}));
  EXPECT_EQ(this->inc().get("old")->messages, 1u);
  EXPECT_EQ(this->inc().get("old")->recipients, 1u);
}

// ---- SQLite: bookkeeping writes that wait for a batch --------------------------

class SqliteBatchTest : public ::testing::Test {
 protected:
  std::unique_ptr<StateStore> open(std::uint32_t commit_ms) {
    StateSettings s = backend_.settings();
    s.outbound_commit_ms = commit_ms;
    auto r = state::open_state_store(s);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(*r) : nullptr;
  }
  // What another process sees: its own connection.
  static std::size_t logged(StateStore& other, const std::string& mid) {
    auto f = other.outbound_log().find(mid, 10);
    EXPECT_TRUE(f.ok()) << f.status().message();
    return f.ok() ? f->size() : 0;
  }
  static std::uint64_t incident_messages(StateStore& other, const std::string& account) {
    auto inc = other.incidents().get(account);
    EXPECT_TRUE(inc.ok()) << inc.status().message();
    return inc.ok() ? inc->messages : 0;
  }

  SqliteBackend backend_;
  OutboundSettings set_;
  static constexpr state::Commit kWait = state::Commit::may_wait;
};

TEST_F(SqliteBatchTest, WaitingWritesAreSeenHereAndCommittedWithTheNextOneThatMayNotWait) {
  auto a = open(1000), b = open(1000);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->outbound_log().record(sent("w1@example.jp", "alice", {"bob@partner.com"}, T0), set_, kWait).ok());
  ASSERT_TRUE(a->incidents().flag(flagged("alice", T0, false, {"bob@partner.com"}), set_, kWait).ok());
  EXPECT_EQ(logged(*a, "w1@example.jp"), 1u);  // this connection reads its batch
  EXPECT_EQ(logged(*b, "w1@example.jp"), 0u);  // another one does not, yet
  EXPECT_EQ(b->incidents().get("alice").status().code(), Code::not_found);
  // The volume window already counts the waiting record.
  auto v = a->outbound_log().record(sent("w2@example.jp", "alice", {"carol@partner.com"}, T0 + 1), set_);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->volume.recipients, 2u);
  EXPECT_EQ(logged(*b, "w1@example.jp"), 1u);
  EXPECT_EQ(logged(*b, "w2@example.jp"), 1u);
  EXPECT_EQ(incident_messages(*b, "alice"), 1u);
}

TEST_F(SqliteBatchTest, AFreezeCommitsTheBatchBeforeItsOwnWrite) {
  auto a = open(1000), b = open(1000);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->outbound_log().record(sent("f1@example.jp", "alice", {"bob@partner.com"}, T0), set_, kWait).ok());
  EXPECT_EQ(logged(*b, "f1@example.jp"), 0u);
  ASSERT_TRUE(*a->freezes().freeze("alice", "test", T0 + 1));
  EXPECT_EQ(logged(*b, "f1@example.jp"), 1u);
  auto f = b->freezes().is_frozen("alice");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->has_value());
}

TEST_F(SqliteBatchTest, TheFlusherCommitsADueBatchWithoutAnotherWrite) {
  auto a = open(20), b = open(20);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->outbound_log().record(sent("t1@example.jp", "alice", {"bob@partner.com"}, T0), set_, kWait).ok());
  std::size_t seen = 0;
  for (int i = 0; i < 500 && seen == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    seen = logged(*b, "t1@example.jp");
  }
  EXPECT_EQ(seen, 1u) << "not committed within 5 s of a 20 ms batch";
}

TEST_F(SqliteBatchTest, ClosingTheStoreCommitsTheBatch) {
  auto a = open(1000);
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->outbound_log().record(sent("c1@example.jp", "alice", {"bob@partner.com"}, T0), set_, kWait).ok());
  a.reset();
  auto b = open(1000);
  ASSERT_TRUE(b);
  EXPECT_EQ(logged(*b, "c1@example.jp"), 1u);
}

TEST_F(SqliteBatchTest, AFailedWriteInTheBatchUndoesOnlyItself) {
  auto a = open(1000), b = open(1000);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->outbound_log().record(sent("k1@example.jp", "alice", {"bob@partner.com"}, T0), set_, kWait).ok());
  OutboundSettings none = set_;
  none.max_incidents = 0;  // flag() opens nothing: Code::limit inside the batch
  EXPECT_EQ(a->incidents().flag(flagged("alice", T0, true, {"bob@partner.com"}), none, kWait).status().code(), Code::limit);
  ASSERT_TRUE(a->outbound_log().record(sent("k2@example.jp", "alice", {"bob@partner.com"}, T0 + 1), set_).ok());
  EXPECT_EQ(logged(*b, "k1@example.jp"), 1u);
  EXPECT_EQ(logged(*b, "k2@example.jp"), 1u);
  EXPECT_EQ(b->incidents().get("alice").status().code(), Code::not_found);
}

TEST_F(SqliteBatchTest, ConcurrentWritersFreezesAndTheFlusherLoseNothing) {
  auto a = open(5);
  ASSERT_TRUE(a);
  constexpr int kThreads = 4, kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const std::string account = "user" + std::to_string(t);
      for (int i = 0; i < kEach; ++i) {
        const std::string mid = "c" + std::to_string(t) + "-" + std::to_string(i) + "@example.jp";
        if (!a->freezes().is_frozen(account).ok()) ++failures;
        if (!a->outbound_log().record(sent(mid, account, {"r@partner.com"}, T0 + i), set_, kWait).ok()) ++failures;
        if (i % 10 == 5 && !a->incidents().flag(flagged(account, T0 + i, false, {"r@partner.com"}), set_, kWait).ok())
          ++failures;
        if (t == 0 && i == kEach / 2 && !a->freezes().freeze("other", "test", T0).ok()) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  a.reset();  // commits what still waits
  auto b = open(5);
  ASSERT_TRUE(b);
  for (int t = 0; t < kThreads; ++t) {
    auto rows = b->outbound_log().by_account("user" + std::to_string(t), 0, 1000);
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    EXPECT_EQ(rows->size(), static_cast<std::size_t>(kEach)) << "user" << t;
    EXPECT_EQ(incident_messages(*b, "user" + std::to_string(t)), 4u);
  }
}

TEST_F(SqliteBatchTest, ZeroCommitsEveryWriteAtOnce) {
  auto a = open(0), b = open(0);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->outbound_log().record(sent("z1@example.jp", "alice", {"bob@partner.com"}, T0), set_, kWait).ok());
  EXPECT_EQ(logged(*b, "z1@example.jp"), 1u);
}

// ---- the commands, on a scripted incident -------------------------------------

template <class Backend>
class OutboundCommandTest : public OutboundStoreTest<Backend> {
 protected:
  Config config() {
    Config c;
    c.state = this->backend_.settings();
    c.outbound.local_domains = {"example.jp"};
    return c;
  }
  int run(bool incident, std::vector<std::string> args, std::string& out, std::string& err, std::int64_t now) {
    std::ostringstream o, e;
    int rc = incident ? incident_main(config(), args, o, e, now) : account_main(config(), args, o, e, now);
    out = o.str();
    err = e.str();
    return rc;
  }
  // Alice's hijacked account: 3 flagged messages (2 malicious) to 5
  // distinct recipients in 3 domains, frozen after the first malicious
  // one, still sending; bob: 1 suspicious an hour before, long quiet;
  // backscatter for 2 of our addresses (3 bounces), 1 forged From.
  void script() {
    auto& s = *this->store_;
    const OutboundSettings& set = this->set_;
    this->record_ok(sent("b1@example.jp", "bob@example.jp", {"x@partner.com"}, T0 - 3600));
    ASSERT_TRUE(s.incidents().flag(flagged("bob@example.jp", T0 - 3600, false, {"x@partner.com"}, {"vba_macro"}, {"cafe01"}), set).ok());
    this->record_ok(sent("a1@example.jp", "alice", {"k1@partner.com", "k2@partner.com"}, T0));
    auto c = s.incidents().flag(flagged("alice", T0, true, {"k1@partner.com", "k2@partner.com"}, {"vba_macro", "yara"}, {"beef01"}, "4QAB1"), set);
    ASSERT_TRUE(c.ok());
    auto d = state::decide_freeze(*c, set);
    ASSERT_TRUE(d.freeze);
    ASSERT_TRUE(*s.freezes().freeze("alice", d.why, T0 + 1));
    this->record_ok(sent("a2@example.jp", "alice", {"k2@partner.com", "k3@client.co.jp"}, T0 + 60));
    ASSERT_TRUE(s.incidents().flag(flagged("alice", T0 + 60, true, {"k2@partner.com", "k3@client.co.jp"}, {"yara"}, {"beef01"}, "4QAB2"), set).ok());
    this->record_ok(sent("a3@example.jp", "alice", {"k4@vendor.com", "k5@vendor.com"}, T0 + 120));
    ASSERT_TRUE(s.incidents().flag(flagged("alice", T0 + 120, false, {"k4@vendor.com", "k5@vendor.com"}, {"encrypted_archive"}, {"beef02"}, "4QAB3"), set).ok());
    this->record_ok(sent("a4@example.jp", "alice", {"k6@vendor.com"}, T0 + 1800));  // not flagged
    for (const char* a : {"bob@example.jp", "bob@example.jp", "carol@example.jp"})
      ASSERT_TRUE(s.incidents().count(state::AddressEvent::backscatter, a, T0 + 300, set).ok());
    ASSERT_TRUE(s.incidents().count(state::AddressEvent::spoofed_sender, "ceo@example.jp", T0 + 400, set).ok());
  }
};
TYPED_TEST_SUITE(OutboundCommandTest, Backends, BackendNames);

TYPED_TEST(OutboundCommandTest, TheJsonReportHoldsTheExactCounts) {
  this->script();
  std::string out, err;
  ASSERT_EQ(this->run(true, {"report", "--json"}, out, err, T0 + 2000), 0) << err;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["totals"]["accounts"], 2);
  EXPECT_EQ(j["totals"]["flagged_messages"], 4);
  EXPECT_EQ(j["totals"]["frozen"], 1);
  EXPECT_EQ(j["totals"]["still_sending"], 1);
  ASSERT_EQ(j["accounts"].size(), 2u);
  const auto& bob = j["accounts"][0];
  const auto& alice = j["accounts"][1];
  EXPECT_EQ(bob["account"], "bob@example.jp");
  EXPECT_EQ(bob["still_sending"], false);
  EXPECT_EQ(bob["frozen"], false);
  EXPECT_TRUE(bob["frozen_at"].is_null());
  EXPECT_EQ(alice["account"], "alice");
  EXPECT_EQ(alice["first_detection"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(alice["last_detection"], "2027-01-15T08:02:00Z");
  EXPECT_EQ(alice["frozen"], true);
  EXPECT_EQ(alice["frozen_at"], "2027-01-15T08:00:01Z");
  EXPECT_EQ(alice["frozen_why"], "1 malicious outbound message(s) within 3600s");
  EXPECT_EQ(alice["last_sent"], "2027-01-15T08:30:00Z");
  EXPECT_EQ(alice["still_sending"], true);
  EXPECT_EQ(alice["sent_last_hour"], 4);
  EXPECT_EQ(alice["sent_since_first_detection"], 3);  // a1 was logged before its incident opened
  EXPECT_EQ(alice["flagged_messages"], 3);
  EXPECT_EQ(alice["malicious"], 2);
  EXPECT_EQ(alice["suspicious"], 1);
  EXPECT_EQ(alice["recipients"], 5);
  EXPECT_EQ(alice["domains"], 3);
  EXPECT_EQ(alice["findings"], nlohmann::json({"encrypted_archive", "vba_macro", "yara"}));
  EXPECT_EQ(alice["attachment_sha256"], nlohmann::json({"beef01", "beef02"}));
  EXPECT_EQ(alice["queue_ids"], nlohmann::json({"4QAB1", "4QAB2", "4QAB3"}));
  EXPECT_EQ(j["domains"]["example.jp"]["backscatter"], 3);
  EXPECT_EQ(j["domains"]["example.jp"]["spoofed_sender"], 1);
  ASSERT_EQ(j["addresses"].size(), 3u);
  EXPECT_EQ(j["addresses"][0]["address"], "bob@example.jp");
  EXPECT_EQ(j["addresses"][0]["count"], 2);

  // --account and --since narrow it.
  ASSERT_EQ(this->run(true, {"report", "--json", "--account", "Alice"}, out, err, T0 + 2000), 0) << err;
  j = nlohmann::json::parse(out);
  ASSERT_EQ(j["accounts"].size(), 1u);
  EXPECT_EQ(j["accounts"][0]["account"], "alice");
  ASSERT_EQ(this->run(true, {"report", "--json", "--since", "1h"}, out, err, T0 + 2000), 0) << err;
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j["totals"]["accounts"], 1);  // bob's last mail was before
  ASSERT_EQ(this->run(true, {"report", "--json", "--since", "2027-01-15"}, out, err, T0 + 2000), 0) << err;
  EXPECT_EQ(nlohmann::json::parse(out)["totals"]["accounts"], 2);
  EXPECT_EQ(this->run(true, {"report", "--since", "yesterday"}, out, err, T0), 2);
  EXPECT_EQ(this->run(true, {"report", "--lang", "fr"}, out, err, T0), 2);
  EXPECT_EQ(this->run(true, {}, out, err, T0), 2);
  // Two hours later alice is no longer sending.
  ASSERT_EQ(this->run(true, {"report", "--json"}, out, err, T0 + 1800 + 3601), 0) << err;
  EXPECT_EQ(nlohmann::json::parse(out)["totals"]["still_sending"], 0);
}

TYPED_TEST(OutboundCommandTest, TheTextReportPrintsTheCountsInEnglishAndJapanese) {
  this->script();
  std::string en, ja, err;
  ASSERT_EQ(this->run(true, {"report"}, en, err, T0 + 2000), 0) << err;
  for (const char* want :
       {"accounts with flagged outbound mail: 2; flagged messages: 4; frozen now: 1; still sending: 1",
        "Account alice\n", "first outbound detection: 2027-01-15T08:00:00Z",
        "frozen:                   2027-01-15T08:00:01Z  why: 1 malicious outbound message(s) within 3600s",
        "yes (4 message(s) in the last hour)", "flagged messages:         3 (2 malicious, 1 suspicious)",
        "distinct recipients:      5 in 3 domain(s)", "findings:                 encrypted_archive, vba_macro, yara",
        "attachment SHA-256:       beef01, beef02", "last message sent:        none since the first detection", "backscatter (bounces for mail we never sent): example.jp 3",
        "    bob@example.jp 2", "spoofed_sender (our address forged from outside): example.jp 1"})
    EXPECT_NE(en.find(want), std::string::npos) << "missing: " << want << "\n" << en;
  ASSERT_EQ(this->run(true, {"report", "--lang", "ja"}, ja, err, T0 + 2000), 0) << err;
  for (const char* want :
       {"不審な送信を検知したアカウント: 2件; 検知した送信メール: 4通; 送信停止中: 1件; 送信継続中: 1件",
        "アカウント alice\n", "最初の検知日時: 2027-01-15 17:00:00 JST", "送信停止: 2027-01-15 17:00:01 JST",
        "はい（直近1時間に 4 通）", "検知した送信メール: 3通（悪性 2通、不審 1通）",
        "最後の送信日時: 最初の検知以降なし", "宛先（重複を除く）: 5 件、3 ドメイン",
        "バックスキャッター（当社が送っていないメールへのエラー通知）: example.jp 3件",
        "なりすまし（外部から当社のアドレスを名乗るメール）: example.jp 1件"})
    EXPECT_NE(ja.find(want), std::string::npos) << "missing: " << want << "\n" << ja;
}

TYPED_TEST(OutboundCommandTest, AccountListAndUnfreeze) {
  std::string out, err;
  ASSERT_EQ(this->run(false, {"list"}, out, err, T0), 0) << err;
  EXPECT_EQ(out, "no frozen accounts\n");
  this->script();
  ASSERT_EQ(this->run(false, {"list"}, out, err, T0 + 10), 0) << err;
  EXPECT_EQ(out, "alice  frozen since 2027-01-15T08:00:01Z  1 malicious outbound message(s) within 3600s\n");
  ASSERT_EQ(this->run(false, {"unfreeze", "ALICE", "--by", "helpdesk"}, out, err, T0 + 3000), 0) << err;
  EXPECT_EQ(out, "alice unfrozen by helpdesk\n");
  EXPECT_FALSE(this->store_->freezes().is_frozen("alice")->has_value());
  EXPECT_EQ(this->run(false, {"unfreeze", "alice"}, out, err, T0 + 3001), 1);
  EXPECT_NE(err.find("alice is not frozen"), std::string::npos) << err;
  EXPECT_EQ(this->run(false, {"unfreeze"}, out, err, T0), 2);
  EXPECT_EQ(this->run(false, {"thaw", "alice"}, out, err, T0), 2);
  ASSERT_EQ(this->run(true, {"report", "--json", "--account", "alice"}, out, err, T0 + 3002), 0) << err;
  auto a = nlohmann::json::parse(out)["accounts"][0];
  EXPECT_EQ(a["frozen"], false);
  EXPECT_EQ(a["unfrozen_by"], "helpdesk");
  EXPECT_EQ(a["unfrozen_at"], "2027-01-15T08:50:00Z");
}

}  // namespace
}  // namespace emogate::test
