// PPAP against a real SQLite state store (ppap/pending.h): the hold with its
// bounds, the cheap lookup, the match and claim (one host wins), the rescan
// through the real scanner and what each outcome does (release with the
// X-Emogate-PPAP header, quarantine for a dropper, unclaim when still
// locked), the sweeper's on_timeout choices under its lock, the event
// lines, match = "from", the PPAP metrics and `emogate quarantine list`.
// Effects are recorded here instead of reaching an MTA.
#include <gtest/gtest.h>

#include <map>

#include <sstream>

#include "cli/quarantine.h"
#include "common/text.h"
#include "emogate/scanner.h"
#include "formats/passwords/ppap_blob.h"
#include "milter/metrics.h"
#include "ppap/pending.h"
#include "unit/findings.h"
#include "unit/ppap_fixtures.h"
#include "unit/test_files.h"

using namespace emogate;
using namespace emogate::test;

namespace {

const std::string kPw = "Xk7pQ2mZ";

struct Sent {
  std::string sender;
  std::vector<std::string> recipients;
  std::string message;
};

// Effects of one host: the real scanner, recorded sends, quarantines, events.
struct Recorder : ppap::Effects {
  const Scanner& scanner;
  std::vector<Sent> sent;
  std::vector<std::pair<QuarantineMeta, Report>> kept;
  std::vector<ppap::Event> events;
  bool fail_send = false;
  explicit Recorder(const Scanner& s) : scanner(s) {}

  std::optional<Report> rescan(std::string_view raw, const Envelope& env, const ScanOptions& opts,
                               std::string*) override {
    return scanner.scan_message(raw, env, opts);
  }
  bool send(const std::string& sender, const std::vector<std::string>& rcpts, const std::string& msg,
            std::string* error) override {
    if (fail_send) {
      *error = "sendmail down";
      return false;
    }
    sent.push_back({sender, rcpts, msg});
    return true;
  }
  std::optional<std::string> quarantine(std::string_view, const Report& r, QuarantineMeta m, std::string*) override {
    kept.emplace_back(std::move(m), r);
    return "20261204-000000-0000000" + std::to_string(kept.size());
  }
  void event(const ppap::Event& e) override { events.push_back(e); }
  int count(ppap::Event::Kind k) const {
    int n = 0;
    for (const auto& e : events) n += e.kind == k;
    return n;
  }
};

Config ppap_config() {
  Config c;
  c.ppap.window_s = 1800;
  return c;
}

struct Fixture {
  TempDir dir;
  Config cfg = ppap_config();
  Scanner scanner{cfg};
  std::unique_ptr<state::StateStore> store;
  Fixture() {
    StateSettings s;
    s.path = (dir.path / "state.db").string();
    auto opened = state::open_state_store(s);
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    store = std::move(*opened);
  }
};

const Envelope kEnv{"QHELD1", "Tanaka@Sender.example.jp", {"suzuki@rcpt.example.jp"}, {}, {}};

std::string archive_mail(bool dropper) {
  return ppap_archive_mail(make_zip(
      {{dropper ? "見積書.docm" : "見積書.docx", word_package(dropper), static_cast<std::uint16_t>(ZIP_EM_AES_256), kPw}}));
}

// Scans and holds `mail` as the milter does; the record's id.
std::string hold(Fixture& fx, ppap::Desk& desk, const std::string& mail, std::int64_t now, const Envelope& env = kEnv) {
  Report r = fx.scanner.scan_message(mail, env);
  EXPECT_TRUE(ppap::hold_decision(r, fx.cfg.ppap).holdable) << dump(r);
  auto h = desk.hold(r, env, mail, fx.cfg, now);
  EXPECT_EQ(h.result, ppap::Desk::Hold::Result::held) << h.why;
  return h.id;
}

// The password mail as the milter sees it: the cheap lookup, the mined
// passwords, the match and claim.
std::vector<ppap::Claimed> follow_up(Fixture& fx, ppap::Desk& desk, const std::string& sender, std::int64_t now,
                                     const std::string& pw = kPw) {
  auto waiting = desk.waiting(ascii_lower(sender), {"Suzuki@rcpt.example.jp"}, now);
  EXPECT_TRUE(waiting.ok());
  if (waiting->empty()) return {};
  ScanOptions o;
  o.mine_follow_up_passwords = true;
  Envelope env{"QPW2", sender, {"Suzuki@rcpt.example.jp"}, {}, {}};
  Report r = fx.scanner.scan_message(ppap_password_mail("パスワード：" + pw + "\n"), env, o);
  ppap::FollowUp f{sender, r.ppap.from, env.recipients, "QPW2", r.ppap.passwords, now};
  auto claimed = desk.unlock(*waiting, f, fx.cfg);
  EXPECT_TRUE(claimed.ok());
  return *claimed;
}

}  // namespace

TEST(PpapDesk, HeldMessageIsReleasedOnceWithTheHeaderNamingThePasswordMail) {
  Fixture fx;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  const std::string mail = archive_mail(false);
  const std::string id = hold(fx, desk, mail, 1000);
  EXPECT_EQ(desk.awaiting(), 1u);
  EXPECT_EQ(rec.count(ppap::Event::Kind::held), 1);

  auto claimed = follow_up(fx, desk, "tanaka@sender.example.jp", 1100);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].held_queue_id, "QHELD1");
  EXPECT_EQ(desk.settle(claimed[0], "QPW2", fx.cfg, 1101), ppap::Outcome::released);

  ASSERT_EQ(rec.sent.size(), 1u);
  EXPECT_EQ(rec.sent[0].sender, "tanaka@sender.example.jp");
  EXPECT_EQ(rec.sent[0].recipients, std::vector<std::string>{"suzuki@rcpt.example.jp"});
  const std::string& out = rec.sent[0].message;
  EXPECT_EQ(out.rfind("X-Emogate-Verdict: clean\r\n", 0), 0u) << out.substr(0, 300);
  std::string unfolded;  // folds are a line break before an existing blank
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!(out.compare(i, 3, "\r\n ") == 0 || out.compare(i, 3, "\r\n\t") == 0)) unfolded += out[i];
    else i += 1;
  const auto h = unfolded.find("X-Emogate-PPAP: released by password mail QPW2 (password found in text/plain part 1");
  ASSERT_NE(h, std::string::npos) << out.substr(0, 400);
  EXPECT_EQ(unfolded.find("X-Emogate-PPAP", h + 1), std::string::npos) << "one header";
  EXPECT_EQ(out.find(kPw), std::string::npos) << "the password is never shown";
  EXPECT_NE(out.find(mail), std::string::npos) << "the held message follows, unchanged";

  auto r = fx.store->pending().get(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, state::PendingState::released);
  EXPECT_EQ(r->match_queue_id, "QPW2");
  EXPECT_EQ(r->held_bytes, 0u);
  EXPECT_EQ(desk.awaiting(), 0u);
  // A second password mail finds nothing waiting: released once.
  EXPECT_TRUE(follow_up(fx, desk, "tanaka@sender.example.jp", 1200).empty());
  EXPECT_EQ(rec.sent.size(), 1u);
  EXPECT_EQ(rec.count(ppap::Event::Kind::released), 1);
}

TEST(PpapDesk, DropperInsideIsKeptInQuarantineNotDelivered) {
  Fixture fx;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  const std::string id = hold(fx, desk, archive_mail(true), 1000);
  auto claimed = follow_up(fx, desk, "tanaka@sender.example.jp", 1100);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(desk.settle(claimed[0], "QPW2", fx.cfg, 1101), ppap::Outcome::flagged);
  EXPECT_TRUE(rec.sent.empty());
  ASSERT_EQ(rec.kept.size(), 1u);
  EXPECT_EQ(rec.kept[0].first.verdict, "malicious");
  EXPECT_EQ(rec.kept[0].first.action, "reject");  // the default malicious action, kept in quarantine
  EXPECT_TRUE(has_finding(rec.kept[0].second, FindingType::vba_macro));
  auto r = fx.store->pending().get(id);
  EXPECT_EQ(r->state, state::PendingState::matched);
  EXPECT_EQ(rec.count(ppap::Event::Kind::flagged), 1);
}

// A rescan whose new verdict's action is `tag` is delivered tagged, and
// with the tag action's Subject prefix, as the milter would have sent it.
TEST(PpapDesk, FlaggedRescanDeliveredTaggedGetsTheSubjectPrefix) {
  Fixture fx;
  fx.cfg.actions.malicious = Action::tag;
  fx.cfg.actions.subject_prefix_malicious = "[MALWARE]";
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  hold(fx, desk, archive_mail(true), 1000);
  auto claimed = follow_up(fx, desk, "tanaka@sender.example.jp", 1100);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(desk.settle(claimed[0], "QPW2", fx.cfg, 1101), ppap::Outcome::flagged);
  ASSERT_EQ(rec.sent.size(), 1u);
  const std::string& out = rec.sent[0].message;
  EXPECT_NE(out.find("X-Emogate-Verdict: malicious"), std::string::npos) << out.substr(0, 400);
  EXPECT_NE(out.find("\r\nSubject: [MALWARE] =?UTF-8?B?"), std::string::npos) << out.substr(0, 600);
  EXPECT_EQ(out.find("Subject: [MALWARE]", out.find("Subject: [MALWARE]") + 1), std::string::npos) << "once";
  EXPECT_TRUE(rec.kept.empty());
}

TEST(PpapDesk, AnotherSendersPasswordUnlocksNothing) {
  Fixture fx;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  hold(fx, desk, archive_mail(false), 1000);
  EXPECT_TRUE(follow_up(fx, desk, "attacker@evil.example", 1100).empty());
  EXPECT_EQ(rec.count(ppap::Event::Kind::matched), 0);
  EXPECT_EQ(desk.awaiting(), 1u);
}

TEST(PpapDesk, OnlyOneHostWinsTheClaim) {
  Fixture fx;
  Recorder a(fx.scanner), b(fx.scanner);
  ppap::Desk host_a(*fx.store, "host-a", a), host_b(*fx.store, "host-b", b);
  hold(fx, host_a, archive_mail(false), 1000);
  auto won_a = follow_up(fx, host_a, "tanaka@sender.example.jp", 1100);
  auto won_b = follow_up(fx, host_b, "tanaka@sender.example.jp", 1100);
  EXPECT_EQ(won_a.size(), 1u);
  EXPECT_TRUE(won_b.empty());
  // Host A dies before settling: after the claim's TTL host B may take it.
  const std::int64_t later = 1100 + ppap::claim_ttl_s(fx.cfg) + 1;
  auto retaken = follow_up(fx, host_b, "tanaka@sender.example.jp", later);
  ASSERT_EQ(retaken.size(), 1u);
  EXPECT_EQ(host_b.settle(retaken[0], "QPW3", fx.cfg, later), ppap::Outcome::released);
  // A's late settle finds the entry gone from awaiting and does nothing.
  EXPECT_FALSE(host_a.settle(won_a[0], "QPW2", fx.cfg, later + 1));
  EXPECT_TRUE(a.sent.empty());
  EXPECT_EQ(b.sent.size(), 1u);
}

TEST(PpapDesk, WrongPasswordOrFailedSendKeepsItWaiting) {
  Fixture fx;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  const std::string id = hold(fx, desk, archive_mail(false), 1000);
  EXPECT_TRUE(follow_up(fx, desk, "tanaka@sender.example.jp", 1100, "Wr0ngPass9").empty());
  rec.fail_send = true;
  auto claimed = follow_up(fx, desk, "tanaka@sender.example.jp", 1100);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_FALSE(desk.settle(claimed[0], "QPW2", fx.cfg, 1101));
  auto r = fx.store->pending().get(id);
  EXPECT_EQ(r->state, state::PendingState::awaiting);
  EXPECT_EQ(r->claimed_by, "") << "the claim is given up, not left to lapse";
  EXPECT_GT(r->held_bytes, 0u);
  rec.fail_send = false;
  claimed = follow_up(fx, desk, "tanaka@sender.example.jp", 1102);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(desk.settle(claimed[0], "QPW2", fx.cfg, 1103), ppap::Outcome::released);
}

TEST(PpapDesk, ForgottenHoldLeavesNothingToRelease) {
  Fixture fx;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  const std::string id = hold(fx, desk, archive_mail(false), 1000);
  EXPECT_TRUE(desk.forget(id));
  EXPECT_FALSE(desk.forget(id));
  EXPECT_TRUE(follow_up(fx, desk, "tanaka@sender.example.jp", 1100).empty());
  EXPECT_EQ(desk.awaiting(), 0u);
}

TEST(PpapDesk, BoundsRefuseTheHoldWithAReason) {
  Fixture fx;
  fx.cfg.ppap.max_pending_per_sender = 1;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  hold(fx, desk, archive_mail(false), 1000);
  const std::string mail = archive_mail(false);
  Report r = fx.scanner.scan_message(mail, kEnv);
  auto h = desk.hold(r, kEnv, mail, fx.cfg, 1001);
  EXPECT_EQ(h.result, ppap::Desk::Hold::Result::refused);
  EXPECT_EQ(rec.count(ppap::Event::Kind::not_held), 1);
  // The null sender can never send a password mail: not held.
  Envelope null_sender = kEnv;
  null_sender.sender = "";
  fx.cfg.ppap.max_pending_per_sender = 20;
  EXPECT_EQ(desk.hold(r, null_sender, mail, fx.cfg, 1002).result, ppap::Desk::Hold::Result::refused);
}

TEST(PpapDesk, SweeperAppliesEachTimeoutChoiceOnlyUnderItsLock) {
  for (PpapTimeout what : {PpapTimeout::keep, PpapTimeout::deliver, PpapTimeout::return_to_sender}) {
    SCOPED_TRACE(std::string(ppap::to_string(what)));
    Fixture fx;
    fx.cfg.ppap.on_timeout = what;
    Recorder rec(fx.scanner), other(fx.scanner);
    ppap::Desk desk(*fx.store, "host-a", rec), desk_b(*fx.store, "host-b", other);
    const std::string id = hold(fx, desk, archive_mail(false), 1000);
    ASSERT_TRUE(desk.sweep(fx.cfg, 1000 + 1799, 60).ok());
    EXPECT_EQ(rec.count(ppap::Event::Kind::timed_out), 0) << "not before the window ends";
    // Host B holds the sweeper lock: A does nothing.
    auto lock = fx.store->locks().try_lock("ppap-sweeper", "host-b", 2900, 60);
    ASSERT_TRUE(lock.ok() && *lock);
    ASSERT_TRUE(desk.sweep(fx.cfg, 2901, 60).ok());
    EXPECT_EQ(rec.count(ppap::Event::Kind::timed_out), 0);
    ASSERT_TRUE(desk.sweep(fx.cfg, 2961, 60).ok());  // B's lock lapsed
    EXPECT_EQ(rec.count(ppap::Event::Kind::timed_out), 1);
    auto r = fx.store->pending().get(id);
    EXPECT_EQ(r->state, state::PendingState::timed_out);
    EXPECT_EQ(r->held_bytes, 0u);
    if (what == PpapTimeout::keep) {
      ASSERT_EQ(rec.kept.size(), 1u);
      EXPECT_EQ(rec.kept[0].first.action, "ppap_timeout");
      EXPECT_EQ(rec.kept[0].first.findings, std::vector<std::string>{"encrypted_archive@mitsumori.zip"});
      EXPECT_TRUE(rec.sent.empty());
    } else if (what == PpapTimeout::deliver) {
      ASSERT_EQ(rec.sent.size(), 1u);
      EXPECT_EQ(rec.sent[0].recipients, std::vector<std::string>{"suzuki@rcpt.example.jp"});
      EXPECT_NE(rec.sent[0].message.find("X-Emogate-Verdict: suspicious"), std::string::npos);
      EXPECT_NE(rec.sent[0].message.find("X-Emogate-PPAP: no password mail within 30m; delivered unopened"),
                std::string::npos);
    } else {
      ASSERT_EQ(rec.sent.size(), 1u);
      EXPECT_EQ(rec.sent[0].sender, "") << "a notice goes from the null sender";
      EXPECT_EQ(rec.sent[0].recipients, std::vector<std::string>{"tanaka@sender.example.jp"});
      EXPECT_NE(rec.sent[0].message.find("Subject: Undelivered: no password mail"), std::string::npos);
      EXPECT_NE(rec.sent[0].message.find("mitsumori.zip"), std::string::npos);
      EXPECT_TRUE(rec.kept.empty());
    }
    // Purged a week after it settled.
    ASSERT_TRUE(desk.sweep(fx.cfg, 2961 + ppap::kKeepSettledS + 1, 60).ok());
    EXPECT_EQ(fx.store->pending().get(id).status().code(), state::Code::not_found);
  }
}

TEST(PpapDesk, SweeperLeavesAnEntryThisHostIsReleasing) {
  Fixture fx;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  const std::string id = hold(fx, desk, archive_mail(false), 1000);
  // The password mail came in the last second; its rescan is still running.
  auto claimed = follow_up(fx, desk, "tanaka@sender.example.jp", 2799);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_TRUE(desk.sweep(fx.cfg, 2801, 60).ok());
  EXPECT_EQ(rec.count(ppap::Event::Kind::timed_out), 0);
  EXPECT_TRUE(rec.kept.empty());
  EXPECT_EQ(desk.settle(claimed[0], "QPW2", fx.cfg, 2802), ppap::Outcome::released);
  EXPECT_EQ(fx.store->pending().get(id)->state, state::PendingState::released);
}

TEST(PpapDesk, FailedTimeoutActionIsRetriedNextRound) {
  Fixture fx;
  fx.cfg.ppap.on_timeout = PpapTimeout::deliver;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  const std::string id = hold(fx, desk, archive_mail(false), 1000);
  rec.fail_send = true;
  ASSERT_TRUE(desk.sweep(fx.cfg, 3000, 60).ok());
  EXPECT_EQ(fx.store->pending().get(id)->state, state::PendingState::awaiting);
  EXPECT_EQ(rec.count(ppap::Event::Kind::error), 1);
  rec.fail_send = false;
  ASSERT_TRUE(desk.sweep(fx.cfg, 3005, 60).ok());
  EXPECT_EQ(fx.store->pending().get(id)->state, state::PendingState::timed_out);
  EXPECT_EQ(rec.sent.size(), 1u);
}

TEST(PpapDesk, UnreachableStoreFailsTheHold) {
  // A Redis store with nothing listening: every call is unavailable.
  Config c = ppap_config();
  c.state.backend = "redis";
  c.state.redis = "127.0.0.1:1";
  c.state.connect_timeout_ms = 200;
  auto opened = state::open_state_store(c.state);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Scanner scanner{c};
  Recorder rec(scanner);
  ppap::Desk desk(**opened, "host-a", rec);
  const std::string mail = archive_mail(false);
  Report r = scanner.scan_message(mail, kEnv);
  auto h = desk.hold(r, kEnv, mail, c, 1000);
  EXPECT_EQ(h.result, ppap::Desk::Hold::Result::failed) << h.why;
  auto w = desk.waiting("tanaka@sender.example.jp", {"suzuki@rcpt.example.jp"}, 1000);
  EXPECT_EQ(w.status().code(), state::Code::unavailable);
  EXPECT_FALSE(desk.sweep(c, 1000, 60).ok());
}

TEST(PpapDesk, EventLinesNameBothQueueIds) {
  ppap::Event e{ppap::Event::Kind::released, "QHELD1", "QHELD1-00ff", "QPW2", "verdict=clean"};
  EXPECT_EQ(ppap::format_event(e), "ppap=released id=QHELD1-00ff password_mail=QPW2 (verdict=clean)");
  EXPECT_EQ(ppap::format_event({ppap::Event::Kind::held, "Q", "Q-1", "", ""}), "ppap=held id=Q-1");
}

TEST(PpapDesk, RecordIdsAreValidAndUnique) {
  const std::string a = ppap::new_record_id("4Xyz/..\n"), b = ppap::new_record_id("4Xyz/..\n");
  EXPECT_TRUE(state::valid_record_id(a)) << a;
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("4Xyz-", 0), 0u) << a;
  EXPECT_EQ(ppap::new_record_id("").rfind("noqueue-", 0), 0u);
}

TEST(PpapDesk, FromHeaderKeyForMatchFrom) {
  EXPECT_EQ(ppap::from_header_address("Tanaka <Tanaka@Sender.Example.JP>"), "tanaka@sender.example.jp");
  EXPECT_EQ(ppap::from_header_address("\"a <b@c>\" <real@x.example>"), "real@x.example");
  EXPECT_EQ(ppap::from_header_address(" plain@x.example\r\n"), "plain@x.example");
  EXPECT_EQ(ppap::from_header_address(""), "");
}

TEST(PpapDesk, MatchFromUnlocksAcrossEnvelopeSendersButNotOtherFroms) {
  Fixture fx;
  fx.cfg.ppap.match = PpapMatch::from;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  Envelope bounce = kEnv;
  bounce.sender = "bounce-1234@lists.example.jp";  // a per-mail bounce address
  hold(fx, desk, archive_mail(false), 1000, bounce);
  // The mails' From (mail_fixtures.h) is sender@example.co.jp.
  const std::string key = ppap::from_header_address("Sender <Sender@example.co.jp>");
  auto waiting = desk.waiting(key, {"suzuki@rcpt.example.jp"}, 1100);
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_TRUE(desk.waiting("bounce-1234@lists.example.jp", {"suzuki@rcpt.example.jp"}, 1100)->empty());
  ScanOptions o;
  o.mine_follow_up_passwords = true;
  Envelope env{"QPW2", "bounce-9999@lists.example.jp", {"suzuki@rcpt.example.jp"}, {}, {}};
  Report r = fx.scanner.scan_message(ppap_password_mail("パスワード：" + kPw + "\n"), env, o);
  ppap::FollowUp f{env.sender, r.ppap.from, env.recipients, "QPW2", r.ppap.passwords, 1100};
  auto claimed = desk.unlock(*waiting, f, fx.cfg);
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(claimed->size(), 1u);
  f.from = "other@example.co.jp";  // the same mail from another From address
  (void)fx.store->pending().unclaim(claimed->at(0).unlock.id, "host-a");
  EXPECT_TRUE(desk.unlock(*waiting, f, fx.cfg)->empty());
}

TEST(PpapMetrics, CountersAndPendingGauge) {
  Metrics m;
  std::string t = m.render();
  for (const char* k : {"held", "matched", "released", "timed_out"})
    EXPECT_NE(t.find("emogate_ppap_" + std::string(k) + "_total 0\n"), std::string::npos) << k << "\n" << t;
  m.ppap_event("held");
  m.ppap_event("held");
  m.ppap_event("released");
  m.ppap_event("still_locked");  // not a counted event
  m.set_ppap_pending(3);
  t = m.render();
  EXPECT_NE(t.find("# TYPE emogate_ppap_held_total counter\nemogate_ppap_held_total 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("emogate_ppap_released_total 1\n"), std::string::npos);
  EXPECT_NE(t.find("emogate_ppap_matched_total 0\n"), std::string::npos);
  EXPECT_NE(t.find("# TYPE emogate_ppap_pending gauge\nemogate_ppap_pending 3\n"), std::string::npos);
  EXPECT_EQ(t.find("still_locked"), std::string::npos);
}

TEST(PpapQuarantineList, ShowsTheStoresRecordsWithTheirState) {
  Fixture fx;
  Recorder rec(fx.scanner);
  ppap::Desk desk(*fx.store, "host-a", rec);
  const std::string waiting_id = hold(fx, desk, archive_mail(false), 1000);
  Envelope second = kEnv;
  second.queue_id = "QHELD2";
  hold(fx, desk, archive_mail(false), 1001, second);
  auto claimed = follow_up(fx, desk, "tanaka@sender.example.jp", 1100);
  ASSERT_EQ(claimed.size(), 2u);
  ASSERT_EQ(desk.settle(claimed[1], "QPW2", fx.cfg, 1101), ppap::Outcome::released);
  (void)fx.store->pending().unclaim(claimed[0].unlock.id, "host-a");
  Config c = fx.cfg;
  c.quarantine.dir = (fx.dir.path / "quarantine").string();
  QuarantineStore(c.quarantine.dir).ensure_dir();
  c.state.path = (fx.dir.path / "state.db").string();
  std::ostringstream out, err;
  ASSERT_EQ(quarantine_main(c, {"list"}, out, err), 0) << err.str();
  const std::string o = out.str();
  EXPECT_NE(o.find("ppap:" + waiting_id + "  1970-01-01T00:16:40Z  <tanaka@sender.example.jp>  suzuki@rcpt.example.jp  "
                   "awaiting-password  queue_id=QHELD1  expires=1970-01-01T00:46:40Z\n"),
            std::string::npos)
      << o;
  EXPECT_NE(o.find("released-by-ppap  queue_id=QHELD2  password_mail=QPW2\n"), std::string::npos) << o;
  // No store file yet: nothing listed, nothing created.
  c.state.path = (fx.dir.path / "none" / "state.db").string();
  std::ostringstream out2;
  EXPECT_EQ(quarantine_main(c, {"list"}, out2, err), 0);
  EXPECT_EQ(out2.str(), "");
  EXPECT_FALSE(std::filesystem::exists(fx.dir.path / "none"));
}
