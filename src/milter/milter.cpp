// The milter's libmilter callbacks: they buffer each message (a sealed
// memfd for the scan workers, or memory then a private 0600 temp file for
// in-process scans), hand it to the workers (or the scan thread pool) at end
// of message, and turn the policy decision into milter actions (headers,
// hold, quarantine copy, reply). The daemon around them (privileges, socket,
// signals, reload, drain) is in daemon.cpp. The daemon itself never parses
// message content in process mode; everything the MTA relays comes from the
// sender.
// Trusted input: none.
#include <libmilter/mfapi.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <string>

#include "common/thread_cpu.h"
#include "common/text.h"
#include "emogate/scanner.h"
#include "engine/blob.h"
#include "milter/daemon.h"
#include "milter/log.h"
#include "milter/outbound_gate.h"
#include "milter/policy.h"
#include "milter/ppap_gate.h"
#include "outbound/direction.h"
#include "quarantine/store.h"
#include "worker/spool.h"
#include "worker/worker_pool.h"

namespace emogate {

namespace {

using Clock = std::chrono::steady_clock;

// Per-connection state (smfi_setpriv); the per-message part is reset at
// every MAIL FROM, EOM and abort so no buffer outlives its message.
struct Session {
  bool nr_hdr = false, nr_body = false, nr_rcpt = false, can_skip = false;
  bool in_msg = false;
  Envelope env;
  std::optional<BlobWriter> buf;       // in-process scans
  std::optional<MessageSpool> spool;   // worker scans
  bool body_started = false, too_big = false;
  // Incoming X-Emogate-* headers: lower-case name -> (name as sent, count).
  std::map<std::string, std::pair<std::string, int>> forged;
  std::optional<std::string> subject;
  std::optional<std::string> from;  // the From header's value, for [ppap] match = "from"
  // [outbound] direction of this message, decided at MAIL FROM from the
  // session's macros ({daemon_name}, {auth_authen}, {client_addr}); read
  // by the outbound watch and by the inbound sender checks.
  outbound::Direction dir = outbound::Direction::in;
  // Outbound watch: the account (outbound::account_of), the Message-ID
  // header, and the decision MAIL FROM left for the end of the message (a
  // frozen account whose frozen_action is not a refusal, or a store error).
  std::string account;
  std::optional<std::string> message_id;
  std::optional<policy::Decision> outbound_override;
  std::string outbound_error;  // why, when that decision is [actions] on_error

  void end_message() {
    if (in_msg) g_daemon->busy.fetch_sub(1);
    in_msg = false;
    env = Envelope{};
    buf.reset();  // frees memory and closes (unlinks) the spill file
    spool.reset();
    body_started = too_big = false;
    forged.clear();
    subject.reset();
    from.reset();
    dir = outbound::Direction::in;
    account.clear();
    message_id.reset();
    outbound_override.reset();
    outbound_error.clear();
  }
};

Session* session(SMFICTX* ctx) { return static_cast<Session*>(smfi_getpriv(ctx)); }

std::string macro(SMFICTX* ctx, const char* name) {
  const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
  return v ? std::string(v) : std::string();
}

std::string strip_angles(const char* a) {
  std::string s = a ? a : "";
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return s;
}

void collect(Session* s, std::string_view bytes) {
  if (s->too_big) return;
  if (s->spool) {
    if (!s->spool->write(bytes)) s->too_big = true;  // cap reached or write failed
  } else if (s->buf) {
    if (!s->buf->write(bytes)) s->too_big = true;  // cap reached or spill failed
  }
}

// SIZE=n among MAIL FROM's ESMTP parameters, 0 when absent or bad.
std::uint64_t esmtp_size(char** argv) {
  if (!argv || !argv[0]) return 0;
  for (char** a = argv + 1; *a; ++a) {
    std::string_view p(*a);
    if (p.size() < 6 || ascii_lower(p.substr(0, 5)) != "size=") continue;
    std::uint64_t n = 0;
    for (char c : p.substr(5)) {
      if (c < '0' || c > '9' || n > (1ull << 40)) return 0;
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
  }
  return 0;
}
// What the MTA is told about a message that now waits for its password
// mail: accepted and dropped from the queue (emogate's store keeps it), or
// put in Postfix's hold queue ([ppap] hold_in = "postfix").
policy::Decision waiting_decision(const PpapSettings& p, const std::string& id) {
  policy::Decision d;
  d.why = "ppap: awaiting its password mail, id " + id;
  if (p.hold_in == PpapHoldIn::postfix) {
    d.action = Action::hold;
    d.hold_reason = "emogate: awaiting PPAP password mail, id " + id;
  } else {
    d.action = Action::discard;
  }
  return d;
}

// The outbound watch at MAIL FROM: a frozen account (or a store that
// cannot say) is refused now when the action is a refusal (logged here, as
// no end of message comes); any other action waits for the end of the
// message. True when *rc is the answer to MAIL FROM.
bool outbound_mail_from(SMFICTX* ctx, Session* s, const Config& cfg, sfsistat* rc) {
  s->account = outbound::account_of(s->env.auth_user, s->env.sender);
  std::string error;
  std::optional<policy::Decision> d;
  if (!g_daemon->outbound) {
    error = "outbound watch: the state store is not open";
    d = policy::decide_error(cfg.actions, error);
  } else {
    d = g_daemon->outbound->at_mail_from(s->account, cfg, &error);
  }
  if (!d) return false;
  if (error.empty()) g_daemon->metrics.outbound_frozen_message();
  else g_daemon->log.error(s->env.queue_id, error);
  if (d->action != Action::reject && d->action != Action::tempfail) {
    s->outbound_override = std::move(d);
    s->outbound_error = error;
    return false;
  }
  MessageLog ml;
  ml.env = s->env;
  ml.dir = "out";
  ml.verdict = error.empty() ? "frozen" : "error";
  ml.action = d->action;
  ml.why = error.empty() ? d->why : error;
  smfi_setreply(ctx, d->rcode.data(), d->xcode.data(), d->text.data());
  g_daemon->log.message(ml);
  g_daemon->metrics.message(ml.verdict, ml.action, 0);
  s->end_message();
  *rc = d->action == Action::reject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
  return true;
}

// The outbound watch after the scan: the decision MAIL FROM left, the
// outbound log, incident and freeze (OutboundGate::after_scan); a store
// error makes the message [actions] on_error when that is stronger.
void outbound_after_scan(Session* s, const Config& cfg, const Report* report, policy::Decision& d, MessageLog& ml) {
  if (!g_daemon->outbound_on) return g_daemon->metrics.outbound_message(false);
  // The stronger one wins: a frozen account's "hold" never lets a message
  // through that its scan would have rejected.
  if (s->outbound_override && policy::rank(s->outbound_override->action) >= policy::rank(d.action)) {
    d = std::move(*s->outbound_override);
    ml.why = s->outbound_error.empty() ? d.why : s->outbound_error;
    if (!s->outbound_error.empty()) ml.verdict = "error";
  }
  OutboundGate* gate = g_daemon->outbound.get();
  if (!gate) return g_daemon->metrics.outbound_message(false);
  const Action a = d.action;
  OutboundGate::Message m;
  m.env = s->env;
  m.account = s->account;
  m.message_id = message_id_of(s->message_id.value_or(""));
  m.report = report;
  m.sent = a == Action::accept || a == Action::tag || a == Action::hold ||
           (a == Action::quarantine && d.after_quarantine == Action::hold);
  m.now = OutboundGate::now();
  // This message is one of `busy`: others will write their records soon.
  m.commit = g_daemon->busy.load() > 1 ? state::Commit::may_wait : state::Commit::now;
  OutboundGate::Outcome o = gate->after_scan(m, cfg.outbound);
  if (!o.error.empty()) {
    g_daemon->log.error(s->env.queue_id, o.error);
    policy::Decision e = policy::decide_error(cfg.actions, o.error);
    if (policy::rank(e.action) > policy::rank(d.action)) d = std::move(e);
    ml.why = o.error;
  }
  if (!o.notice.empty()) g_daemon->log.warning(s->env.queue_id, o.notice);
  if (!o.anomalies.empty())
    g_daemon->log.warning(s->env.queue_id, "outbound volume anomaly of account " + s->account + ": " + join(o.anomalies, ","));
  if (o.froze) {
    g_daemon->log.warning(s->env.queue_id, "outbound: account " + s->account + " frozen: " + o.freeze_why);
    g_daemon->metrics.outbound_freeze();
  }
  g_daemon->metrics.outbound_message(o.flagged);
  if (auto n = gate->frozen_accounts_if_due(m.now, cfg.outbound)) g_daemon->metrics.set_outbound_frozen(*n);
}

// Adds the thread CPU time of its scope to the outbound watch's metric.
struct OutboundCpu {
  std::uint64_t start = thread_cpu_ns();
  ~OutboundCpu() { g_daemon->metrics.outbound_cpu(thread_cpu_ns() - start); }
};

// Headers the MTA adds after the client counted SIZE (Received:, ...).
constexpr std::uint64_t kHeaderSlack = 4096;

// ---------------------------------------------------------------- callbacks

sfsistat cb_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                      unsigned long* pf0, unsigned long* pf1, unsigned long* pf2, unsigned long* pf3) {
  Session* s = session(ctx);
  if (!s) {
    s = new Session;
    smfi_setpriv(ctx, s);
  }
  const unsigned long want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
  // Everything before MAIL FROM is skipped: the client address comes as a
  // macro. No replies for recipients, headers and body chunks (one round
  // trip less each). MAIL keeps its reply so a stopping daemon can defer.
  const unsigned long want_proto = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
                                   SMFIP_NOEOH | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_SKIP;
  *pf0 = want_actions & f0;
  *pf1 = want_proto & f1;
  *pf2 = *pf3 = 0;
  s->nr_hdr = *pf1 & SMFIP_NR_HDR;
  s->nr_body = *pf1 & SMFIP_NR_BODY;
  s->nr_rcpt = *pf1 & SMFIP_NR_RCPT;
  s->can_skip = *pf1 & SMFIP_SKIP;
  if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE))
    g_daemon->log.warning("", "MTA does not offer add/change header and quarantine actions; tag and hold will not work");
  if (*pf0 & SMFIF_SETSYMLIST) {
    smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>("i {auth_authen} {client_addr} {daemon_name}"));
    smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>("i"));
  }
  return SMFIS_CONTINUE;
}

sfsistat cb_envfrom(SMFICTX* ctx, char** argv) {
  Session* s = session(ctx);
  if (!s) {
    s = new Session;
    smfi_setpriv(ctx, s);
  }
  s->end_message();
  // Shutting down: the client gets 4xx now instead of a cut session later.
  if (g_daemon->stopping) return SMFIS_TEMPFAIL;
  auto cfg = g_daemon->cfg();
  s->in_msg = true;
  g_daemon->busy.fetch_add(1);
  s->env.sender = strip_angles(argv ? argv[0] : nullptr);
  s->env.queue_id = macro(ctx, "i");
  s->env.client_addr = macro(ctx, "{client_addr}");
  s->env.auth_user = macro(ctx, "{auth_authen}");
  const std::string daemon_name = macro(ctx, "{daemon_name}");
  s->dir = outbound::direction({daemon_name, s->env.auth_user, s->env.client_addr}, cfg->outbound);
  if (s->dir == outbound::Direction::out && g_daemon->outbound_on) {
    sfsistat rc;
    OutboundCpu cpu;
    if (outbound_mail_from(ctx, s, *cfg, &rc)) return rc;
  }
  if (g_daemon->workers) {
    // A message whose SIZE= says it will not fit a spool region starts in a
    // memfd of its own rather than being moved there once it outgrows it.
    const auto& regions = g_daemon->spool_regions;
    const std::uint64_t declared = esmtp_size(argv);
    const bool fits = regions && (declared == 0 || declared + kHeaderSlack <= regions->capacity());
    s->spool.emplace(cfg->milter.max_message_size, fits ? regions : nullptr);
    return SMFIS_CONTINUE;
  }
  s->buf.emplace(cfg->limits.temp_dir, cfg->milter.memory_buffer, cfg->milter.max_message_size);
  // The client's SIZE= (RFC 1870) saves regrowing the buffer; reserve()
  // ignores sizes past the memory buffer, so a lie costs nothing real.
  if (std::uint64_t declared = esmtp_size(argv)) s->buf->reserve(declared + kHeaderSlack);
  return SMFIS_CONTINUE;
}

sfsistat cb_envrcpt(SMFICTX* ctx, char** argv) {
  Session* s = session(ctx);
  // Postfix caps recipients (smtpd_recipient_limit, 1000); keep a bound here too.
  if (s && s->env.recipients.size() < 100000) s->env.recipients.push_back(strip_angles(argv ? argv[0] : nullptr));
  return s && s->nr_rcpt ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

sfsistat cb_header(SMFICTX* ctx, char* name, char* value) {
  Session* s = session(ctx);
  sfsistat ok = s && s->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
  if (!s || !name) return ok;
  std::string_view n(name), v(value ? value : "");
  std::string ln = ascii_lower(n);
  if (ln.rfind("x-emogate-", 0) == 0) {
    // Removed at end of message and kept out of the scanned/stored copy.
    auto& e = s->forged[ln];
    if (e.second == 0) e.first = std::string(n);
    ++e.second;
    return ok;
  }
  if (ln == "subject" && !s->subject) s->subject = std::string(v);
  if (ln == "from" && !s->from) s->from = std::string(v.substr(0, 4096));
  if (ln == "message-id" && !s->message_id) s->message_id = std::string(v.substr(0, 4096));
  std::string line;
  line.reserve(n.size() + v.size() + 4);
  line.append(n).append(": ").append(v).append("\r\n");
  collect(s, line);
  return ok;
}

sfsistat cb_body(SMFICTX* ctx, unsigned char* chunk, size_t len) {
  Session* s = session(ctx);
  if (!s) return SMFIS_CONTINUE;
  if (!s->body_started) {
    collect(s, "\r\n");
    s->body_started = true;
  }
  collect(s, std::string_view(reinterpret_cast<const char*>(chunk), len));
  if (s->too_big && s->can_skip) return SMFIS_SKIP;  // no use sending the rest
  return s->nr_body ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

void add_header(SMFICTX* ctx, const std::string& name, const std::string& value) {
  if (smfi_addheader(ctx, const_cast<char*>(name.c_str()), const_cast<char*>(value.c_str())) != MI_SUCCESS)
    g_daemon->log.warning("", "smfi_addheader " + name + " failed");
}

sfsistat apply(SMFICTX* ctx, Session* s, policy::Decision d, const Config& cfg, const Report* report,
               std::string_view raw, MessageLog& ml) {
  if (d.action == Action::quarantine) {
    try {
      QuarantineMeta m;
      m.queue_id = s->env.queue_id;
      m.sender = s->env.sender;
      m.recipients = s->env.recipients;
      m.client = s->env.client_addr;
      m.auth_user = s->env.auth_user;
      m.verdict = ml.verdict;
      m.action = "quarantine";
      if (report)
        for (const Finding& f : report->findings) m.findings.push_back(std::string(to_string(f.type)) + "@" + f.path);
      m.size = raw.size();
      Report empty;
      ml.quarantine_id = QuarantineStore(cfg.quarantine.dir).put(raw, to_json(report ? *report : empty), m);
    } catch (const std::exception& e) {
      g_daemon->log.error(s->env.queue_id, std::string("quarantine store failed: ") + e.what());
      d = policy::decide_error(cfg.actions, "quarantine store failed");
      if (d.action == Action::quarantine) d = policy::decide_error(ActionSettings{}, "quarantine store failed");
    }
  }
  const Action a = d.action;
  ml.action = a;
  if (ml.why.empty()) ml.why = d.why;
  const bool delivered = a == Action::accept || a == Action::tag || a == Action::hold ||
                         (a == Action::quarantine && d.after_quarantine == Action::hold);
  if (delivered) {
    for (const auto& [lname, e] : s->forged)
      for (int i = e.second; i >= 1; --i) smfi_chgheader(ctx, const_cast<char*>(e.first.c_str()), i, nullptr);
    for (const auto& [n, v] : d.headers) add_header(ctx, n, v);
    if (!d.subject_prefix.empty()) {
      std::string subj = policy::prefixed_subject(s->subject.value_or(""), d.subject_prefix);
      if (s->subject) smfi_chgheader(ctx, const_cast<char*>("Subject"), 1, subj.data());
      else add_header(ctx, "Subject", subj);
    }
    if (a == Action::hold || a == Action::quarantine) {
      if (smfi_quarantine(ctx, d.hold_reason.data()) != MI_SUCCESS) {
        g_daemon->log.error(s->env.queue_id, "smfi_quarantine failed; deferring instead");
        smfi_setreply(ctx, const_cast<char*>("451"), const_cast<char*>("4.7.1"), d.text.empty() ? const_cast<char*>("Try again later") : d.text.data());
        ml.action = Action::tempfail;
        return SMFIS_TEMPFAIL;
      }
    }
    return SMFIS_ACCEPT;
  }
  switch (a) {
    case Action::reject:
    case Action::tempfail:
      smfi_setreply(ctx, d.rcode.data(), d.xcode.data(), d.text.data());
      return a == Action::reject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    default:  // discard, quarantine + discard
      return SMFIS_DISCARD;
  }
}

sfsistat cb_eom(SMFICTX* ctx) {
  Session* s = session(ctx);
  if (!s || !s->in_msg) return SMFIS_TEMPFAIL;
  if (!s->body_started) collect(s, "\r\n");
  if (s->env.queue_id.empty()) s->env.queue_id = macro(ctx, "i");
  auto cfg = g_daemon->cfg();
  const auto t0 = Clock::now();
  MessageLog ml;
  ml.env = s->env;
  ml.dir = std::string(outbound::to_string(s->dir));
  ml.size = s->spool ? s->spool->size() : s->buf ? s->buf->size() : 0;
  policy::Decision d;
  std::optional<Report> report;
  Blob blob;
  std::optional<MappedFd> spooled;  // the sealed spool, mapped only to keep a copy (message_bytes)
  // Inbound sender checks (sender_gate.h): on in the scan, then the store's checks before the decision.
  const SenderGate::Message inbound =
      SenderGate::message(g_daemon->sender.get(), s->dir, {"", s->env.auth_user, s->env.client_addr}, *cfg, s->env.queue_id);
  SenderGate::Outcome sender;  // its counts are made once the decision is final
  // A finished scan's report -> decision, log fields and metrics.
  auto judge = [&](Report& r) {
    sender = inbound.check(r, PpapGate::now());
    ml.verdict = std::string(to_string(r.verdict));
    ml.findings = r.findings;
    for (const Finding& f : r.findings) g_daemon->metrics.finding(f.type);
    for (const std::string& e : r.errors) g_daemon->log.warning(s->env.queue_id, "scan error: " + e);
    policy::Decision rd = policy::decide(r, cfg->actions, cfg->quarantine.after);
    return sender.error.empty() ? rd : sender_fail_closed(std::move(rd), sender.error, cfg->actions, ml);
  };
  const bool have_buf = s->spool || s->buf;
  const std::string buf_error = s->spool ? s->spool->error() : s->buf ? s->buf->error() : std::string();
  // PPAP, the cheap path every message takes: the entries waiting for this
  // sender (one indexed lookup; none for almost every sender). A store that
  // cannot answer is an error: the message may be the password mail.
  PpapGate* gate = cfg->ppap.enabled ? g_daemon->ppap.get() : nullptr;
  const std::int64_t now = PpapGate::now();
  std::vector<ppap::PendingEntry> waiting;
  std::string ppap_error;
  if (gate && have_buf && !s->too_big) {
    const std::string key =
        cfg->ppap.match == PpapMatch::from ? ppap::from_header_address(s->from.value_or("")) : ascii_lower(s->env.sender);
    auto w = gate->desk().waiting(key, s->env.recipients, now);
    if (w.ok()) waiting = std::move(*w);
    else ppap_error = "state store: " + w.status().message();
  }
  int spool_fd = -1;
  // The message's bytes for a quarantine copy or a PPAP hold: the buffer,
  // or the sealed spool mapped only then (a map and unmap per message costs
  // every thread of the daemon a TLB flush). None when it cannot be mapped.
  auto message_bytes = [&]() -> std::optional<std::string_view> {
    if (!s->spool) return blob.view();
    if (spool_fd < 0) return std::nullopt;
    if (!spooled) spooled.emplace(spool_fd, s->spool->size());
    if (!spooled->ok()) return std::nullopt;  // a copy would be empty: never go on
    return spooled->view();
  };
  if (s->too_big || !have_buf) {
    std::string why = !have_buf ? std::string("no message buffer")
                      : !buf_error.empty()
                          ? "message buffer failed: " + buf_error
                          : "message exceeds [milter] max_message_size " + std::to_string(cfg->milter.max_message_size);
    d = policy::decide_error(cfg->actions, why);
    // Retrying can never make it fit: refuse permanently instead.
    const bool oversize = have_buf && buf_error.empty();
    if (oversize && d.action == Action::tempfail) {
      d.action = Action::reject;
      d.rcode = "552";
      d.xcode = "5.3.4";
      d.text = "Message too big for content scanning (emogate)";
    }
    ml.verdict = "error";
    ml.why = why;
  } else if (!ppap_error.empty()) {
    d = policy::decide_error(cfg->actions, ppap_error);
    ml.verdict = "error";
    ml.why = ppap_error;
  } else if (s->spool) {
    // Worker processes: the sealed memfd goes to a worker as a descriptor.
    const int fd = s->spool->seal();
    spool_fd = fd;
    wire::Request req;
    req.env = s->env;
    req.opts.hash_all_objects = cfg->milter.hash_all_objects;
    req.opts.hash_attachments = s->dir == outbound::Direction::out && g_daemon->outbound_on;
    req.opts.mine_follow_up_passwords = !waiting.empty();
    inbound.scan_options(req.opts);
    WorkerPool::Outcome o;
    if (fd < 0) {
      o.failure = WorkerPool::Failure::load;
      o.cause = "spool";
      o.error = "message buffer failed: " + s->spool->error();
    } else {
      o = g_daemon->workers->scan(req, fd, s->spool->size(), t0 + std::chrono::milliseconds(cfg->limits.scan_timeout_ms));
    }
    if (o.failure == WorkerPool::Failure::load) {
      d = policy::decide_error(cfg->actions, o.error);
      ml.verdict = "error";
      ml.why = o.error;
    } else {
      if (o.failure == WorkerPool::Failure::content) {
        o.report = content_failure_report(o, cfg->baseline(FindingType::limit_exceeded), s->env.queue_id);
        g_daemon->log.warning(s->env.queue_id, "scan failed because of the content (" + o.cause + "): the worker " +
                                            o.error + "; gave the message a limit_exceeded finding");
      }
      report = std::move(o.report);
      d = judge(*report);
    }
    if (o.failure != WorkerPool::Failure::none) {
      ml.failure = o.failure == WorkerPool::Failure::load ? "load" : "content";
      ml.failure_cause = o.cause;
      g_daemon->metrics.scan_failure(ml.failure, o.cause);
    }
  } else {
    blob = s->buf->finish();
    s->buf.reset();
    const auto deadline = t0 + std::chrono::milliseconds(cfg->limits.scan_timeout_ms) + std::chrono::milliseconds(250);
    const Scanner* scanner = g_daemon->scanner.get();
    ScanOptions opts;
    opts.hash_all_objects = cfg->milter.hash_all_objects;
    opts.hash_attachments = s->dir == outbound::Direction::out && g_daemon->outbound_on;
    opts.mine_follow_up_passwords = !waiting.empty();
    inbound.scan_options(opts);
    ScanPool::Result r = g_daemon->pool->run([scanner, blob, env = s->env, opts] { return scanner->scan_message(blob.view(), env, opts); },
                                      deadline);
    if (r.status == ScanPool::Status::ok && report_timed_out(r.report)) {
      r.status = ScanPool::Status::timeout;
      r.error = "scan deadline passed ([limits] scan_timeout_ms)";
    }
    if (r.status == ScanPool::Status::ok) {
      report = std::move(r.report);
      d = judge(*report);
    } else {
      d = policy::decide_error(cfg->actions, r.error);
      ml.verdict = "error";
      ml.why = r.error;
      ml.failure = "load";
      ml.failure_cause = r.status == ScanPool::Status::queue_full ? "queue_full"
                         : r.status == ScanPool::Status::timeout  ? "scan_timeout_ms"
                                                                  : "scan_failed";
      g_daemon->metrics.scan_failure(ml.failure, ml.failure_cause);
    }
  }
  std::string held_id;  // the PPAP record of a message that now waits
  if (gate && report && ppap_error.empty()) {
    // The password mail: its passwords against the entries waiting for its
    // sender; the unlocked ones are rescanned and released off this thread.
    if (!waiting.empty() && !report->ppap.passwords.empty()) {
      ppap::FollowUp f{s->env.sender, report->ppap.from, s->env.recipients, s->env.queue_id, report->ppap.passwords,
                       now};
      auto claimed = gate->desk().unlock(waiting, f, *cfg);
      if (!claimed.ok()) {
        ml.why = "state store: " + claimed.status().message();
        d = policy::decide_error(cfg->actions, ml.why);
      } else if (!claimed->empty()) {
        std::vector<std::string> held;
        for (const ppap::Claimed& c : *claimed) held.push_back(c.held_queue_id.empty() ? c.unlock.id : c.held_queue_id);
        d.headers.emplace_back("X-Emogate-PPAP", policy::fold_header("X-Emogate-PPAP", "password for " +
                                                                          policy::escape_text(join(held, ", "))));
        gate->submit(std::move(*claimed), s->env.queue_id);
      }
    }
    // The mail that waits for its password mail.
    if (ml.why.empty() && ppap::hold_decision(*report, cfg->ppap).holdable) {
      std::optional<std::string_view> raw = message_bytes();
      ppap::Desk::Hold h;
      if (!raw) h.why = "cannot map the message spool";
      else h = gate->desk().hold(*report, s->env, *raw, *cfg, now);
      if (h.result == ppap::Desk::Hold::Result::held) {
        d = waiting_decision(cfg->ppap, h.id);
        ml.why = d.why;
        held_id = h.id;
      } else if (h.result == ppap::Desk::Hold::Result::failed) {
        d = policy::decide_error(cfg->actions, h.why);
        ml.why = h.why;
      }
      gate->refresh_pending();
    }
  }
  if (s->dir == outbound::Direction::out) {
    OutboundCpu cpu;
    outbound_after_scan(s, *cfg, report ? &*report : nullptr, d, ml);
  }
  // XXX counted before the quarantine copy and the MTA's hold are made: a
  // message tempfailed because one of them fails comes again and is counted
  // again.
  if (std::string e = inbound.count(sender, d.action, PpapGate::now()); !e.empty())
    d = sender_fail_closed(std::move(d), e, cfg->actions, ml);
  if (d.action == Action::quarantine && s->spool) {
    if (std::optional<std::string_view> raw = message_bytes()) {
      blob = Blob::borrow(*raw);
    } else {
      d = policy::decide_error(cfg->actions, "cannot map the message spool");
      if (d.action == Action::quarantine) d = policy::decide_error(ActionSettings{}, "cannot map the message spool");
      ml.why = "cannot map the message spool";
    }
  }
  sfsistat rc = apply(ctx, s, std::move(d), *cfg, report ? &*report : nullptr, blob.view(), ml);
  // The MTA did not take the hold (smfi_quarantine failed: the client retries):
  // the record must not wait beside the retried copy.
  if (!held_id.empty() && rc == SMFIS_TEMPFAIL && !gate->desk().forget(held_id))
    g_daemon->log.error(s->env.queue_id, "ppap: could not remove record " + held_id + " after a tempfail");
  ml.scan_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  g_daemon->log.message(ml);
  g_daemon->metrics.message(ml.verdict, ml.action, ml.scan_ms);
  if (report) g_daemon->metrics.rule_sets(report->rule_sets);
  s->end_message();
  return rc;
}

sfsistat cb_abort(SMFICTX* ctx) {
  if (Session* s = session(ctx)) s->end_message();
  return SMFIS_CONTINUE;
}

sfsistat cb_close(SMFICTX* ctx) {
  if (Session* s = session(ctx)) {
    s->end_message();
    delete s;
    smfi_setpriv(ctx, nullptr);
  }
  return SMFIS_CONTINUE;
}

}  // namespace

bool register_milter_callbacks() {
  static smfiDesc desc{};
  desc.xxfi_name = const_cast<char*>("emogate");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
  desc.xxfi_envfrom = cb_envfrom;
  desc.xxfi_envrcpt = cb_envrcpt;
  desc.xxfi_header = cb_header;
  desc.xxfi_body = cb_body;
  desc.xxfi_eom = cb_eom;
  desc.xxfi_abort = cb_abort;
  desc.xxfi_close = cb_close;
  desc.xxfi_negotiate = cb_negotiate;
  return smfi_register(desc) == MI_SUCCESS;
}

}  // namespace emogate
