// The milter's side of the outbound watch; see outbound_gate.h.
// Trusted input: the configuration.
#include "milter/outbound_gate.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "common/text.h"
#include "outbound/direction.h"

namespace emogate {

namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::size_t kMaxMessageId = 998;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::vector<std::string> lowered(const std::vector<std::string>& v) {
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const std::string& x : v)
    if (!x.empty() && x.find('\n') == std::string::npos) out.push_back(ascii_lower(x));
  return out;
}

}  // namespace

std::string message_id_of(std::string_view v) {
  std::string_view id;
  if (auto open = v.find('<'); open != std::string_view::npos) {
    auto close = v.find('>', open + 1);
    if (close == std::string_view::npos) return {};
    id = v.substr(open + 1, close - open - 1);
  } else {
    id = v;
    while (!id.empty() && is_space(id.front())) id.remove_prefix(1);
    while (!id.empty() && is_space(id.back())) id.remove_suffix(1);
  }
  if (id.empty() || id.size() > kMaxMessageId || id.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return {};
  return std::string(id);
}

std::vector<std::string> attachment_hashes(const Report& r) {
  std::vector<std::string> out;
  for (const ObjectSummary& o : r.objects)
    if (o.depth == 1 && !o.body && !o.derived && !o.sha256.empty() &&
        std::find(out.begin(), out.end(), o.sha256) == out.end())
      out.push_back(o.sha256);
  return out;
}

OutboundGate::OutboundGate(const Config& c) {
  auto opened = state::open_state_store(c.state);
  if (!opened.ok()) throw std::runtime_error("[state]: " + opened.status().message());
  owned_ = std::move(*opened);
  store_ = owned_.get();
}

OutboundGate::OutboundGate(std::unique_ptr<state::StateStore> store) : owned_(std::move(store)), store_(owned_.get()) {}

OutboundGate::OutboundGate(state::StateStore& shared) : store_(&shared) {}

std::int64_t OutboundGate::now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

policy::Decision OutboundGate::frozen_decision(const state::FreezeRecord& f, const OutboundSettings& s) {
  policy::Decision d;
  d.action = s.frozen_action;
  d.why = "frozen account=" + policy::escape_text(f.account, " ");
  d.after_quarantine = Action::discard;
  d.hold_reason = "emogate: account frozen: " + policy::escape_text(f.account.substr(0, 120), "");
  if (d.action == Action::reject) {
    d.rcode = "550";
    d.xcode = "5.7.1";
  } else if (d.action == Action::tempfail) {
    d.rcode = "451";
    d.xcode = "4.7.1";
  }
  d.text = policy::reply_text(s.frozen_reply);
  return d;
}

std::optional<policy::Decision> OutboundGate::at_mail_from(std::string_view account, const Config& cfg,
                                                           std::string* error) {
  // The null sender without authentication (a bounce) has no account.
  if (account.empty()) return std::nullopt;
  auto f = store_->freezes().is_frozen(account);
  if (!f.ok()) {
    *error = "state store: " + f.status().message();
    return policy::decide_error(cfg.actions, *error);
  }
  if (!f->has_value()) return std::nullopt;
  return frozen_decision(**f, cfg.outbound);
}

std::optional<std::uint64_t> OutboundGate::frozen_accounts_if_due(std::int64_t now, const OutboundSettings& s) {
  std::int64_t last = last_count_.load();
  if (now - last < 60 || !last_count_.compare_exchange_strong(last, now)) return std::nullopt;
  auto l = store_->freezes().list_frozen(s.max_incidents);
  if (!l.ok()) return std::nullopt;
  return l->size();
}

OutboundGate::Outcome OutboundGate::after_scan(const Message& m, const OutboundSettings& s) {
  Outcome out;
  if (m.account.empty()) return out;
  const std::vector<std::string> rcpts = lowered(m.env.recipients);
  const std::vector<std::string> hashes = m.report ? attachment_hashes(*m.report) : std::vector<std::string>{};

  state::OutboundRecord r;
  r.account = m.account;
  r.recipients = rcpts;
  r.attachment_hashes = hashes;
  r.sent_at = m.now;
  // The volume anomalies from the account's last hour as the store keeps
  // it: written with the log record of a message that goes out (one
  // transaction or round trip), only read for one that does not.
  state::Volume v;
  if (m.sent) {
    r.message_id = m.message_id;
    // Without a usable Message-ID the record still counts for volume and
    // the report; no reply or bounce can name it.
    if (r.message_id.empty())
      r.message_id = "no-message-id." + (m.env.queue_id.empty() ? std::to_string(m.now) : m.env.queue_id) +
                     "@emogate.invalid";
    r.queue_id = m.env.queue_id;
    auto rec = store_->outbound_log().record(r, s, m.commit);
    if (!rec.ok()) {
      out.error = "state store: " + rec.status().message();
      return out;
    }
    out.logged = true;
    v = rec->volume;
  } else {
    auto vol = store_->outbound_log().volume(r, s);
    if (!vol.ok()) {
      out.error = "state store: " + vol.status().message();
      return out;
    }
    v = *vol;
  }
  // Distinct recipients: an anomaly for every message that reaches a new
  // one while the account is past the bound. One attachment to unrelated
  // recipients: more threads than the bound.
  if (v.recipients > s.max_recipients_per_hour && v.new_recipient) out.anomalies.push_back("recipient_volume");
  if (v.threads > s.max_same_attachment_per_hour) out.anomalies.push_back("attachment_burst");

  const bool flagged = m.report && m.report->flagged();
  if (flagged || !out.anomalies.empty()) {
    state::FlaggedMessage f;
    f.account = m.account;
    f.at = m.now;
    f.malicious = flagged && m.report->verdict == Verdict::malicious;
    f.queue_id = m.env.queue_id;
    f.recipients = rcpts;
    if (m.report)
      for (const Finding& x : m.report->findings)
        if (std::string t(to_string(x.type)); std::find(f.findings.begin(), f.findings.end(), t) == f.findings.end())
          f.findings.push_back(std::move(t));
    f.findings.insert(f.findings.end(), out.anomalies.begin(), out.anomalies.end());
    f.attachment_hashes = hashes;
    auto counts = store_->incidents().flag(f, s, m.commit);
    if (!counts.ok()) {
      // max_incidents reached: the message keeps its action, the account
      // cannot be frozen (said in the log by the caller).
      if (counts.status().code() != state::Code::limit) {
        out.error = "state store: " + counts.status().message();
        return out;
      }
      out.notice = "outbound incident not opened: " + counts.status().message();
      return out;
    }
    out.flagged = true;
    const state::FreezeDecision fd = state::decide_freeze(*counts, s);
    if (fd.freeze) {
      auto fr = store_->freezes().freeze(m.account, fd.why, m.now);
      if (!fr.ok()) {
        out.error = "state store: " + fr.status().message();
        return out;
      }
      out.froze = *fr;
      out.freeze_why = fd.why;
    }
  }

  // Retention, once an hour from whichever message comes first.
  std::int64_t last = last_purge_.load();
  if (m.now - last >= kHour && last_purge_.compare_exchange_strong(last, m.now)) {
    const std::int64_t before = m.now - static_cast<std::int64_t>(s.retention_s);
    auto a = store_->outbound_log().purge(before);
    auto b = store_->incidents().purge(before);
    const state::Status c = store_->outbound_log().prune_volume(m.now);
    if (!a.ok() || !b.ok() || !c.ok()) {
      last_purge_.store(last);  // try again with the next message
      out.notice = "outbound retention purge failed: " + (!a.ok() ? a.status() : !b.ok() ? b.status() : c).message();
    }
  }
  return out;
}

}  // namespace emogate
