// The milter's inbound sender checks with the state store; see sender_gate.h.
// Trusted input: the configuration; report facts and session facts are not.
#include "milter/sender_gate.h"

#include <algorithm>
#include <utility>

#include "common/text.h"
#include "engine/sender_findings.h"
#include "formats/sender/sender.h"
#include "milter/log.h"
#include "milter/metrics.h"

namespace emogate {

SenderGate::SenderGate(std::unique_ptr<state::StateStore> store, std::string why, MailLog* log, Metrics* metrics)
    : store_(std::move(store)), why_(std::move(why)), log_(log), metrics_(metrics) {}

std::unique_ptr<SenderGate> SenderGate::open(const Config& c, MailLog* log, Metrics* metrics) {
  auto opened = state::open_state_store(c.state);
  if (!opened.ok()) {
    const std::string why = "cannot open the state store: " + opened.status().message();
    if (log)
      log->error("", "inbound sender checks: " + why + "; bounces, replies with attachments and forged local "
                 "senders get [actions] on_error until it opens (restart)");
    return std::make_unique<SenderGate>(nullptr, why, log, metrics);
  }
  return std::make_unique<SenderGate>(std::move(*opened), std::string(), log, metrics);
}

SenderGate::Message SenderGate::message(SenderGate* gate, outbound::Direction dir, const outbound::Facts& facts,
                                        const Config& cfg, std::string queue_id) {
  Message m;
  const OutboundSettings& o = cfg.outbound;
  if (!gate || o.local_domains.empty() || dir != outbound::Direction::in) return m;
  m.gate_ = gate;
  m.cfg_ = &cfg;
  m.authenticated_ = !facts.auth_user.empty();
  // With no daemon name and no user, direction() asks the client networks only.
  m.trusted_network_ = outbound::direction({"", "", facts.client_ip}, o) == outbound::Direction::out;
  m.queue_id_ = std::move(queue_id);
  return m;
}

// XXX local_names travels to the worker with every inbound message and the
// sender module builds its lookup set each time: fine for a department's
// names, a cost per message for a whole company directory.
void SenderGate::Message::scan_options(ScanOptions& o) const {
  if (!gate_) return;
  o.sender_checks = true;
  o.local_domains = cfg_->outbound.local_domains;
  o.local_names = cfg_->outbound.local_names;
}

SenderGate::Outcome SenderGate::Message::check(Report& r, std::int64_t now) const {
  if (!gate_) return {};
  return gate_->check(r, *this, now);
}

std::string SenderGate::Message::count(const Outcome& o, Action decided, std::int64_t now) const {
  if (!gate_) return {};
  return gate_->count(o, *this, decided, now);
}

namespace {

void add_finding(Report& r, Finding f) {
  r.verdict = std::max(r.verdict, f.verdict);
  r.findings.push_back(std::move(f));
}

}  // namespace

SenderGate::Outcome SenderGate::check(Report& r, const Message& m, std::int64_t now) {
  Outcome out;
  if (!m.gate_) return out;
  const OutboundSettings& o = m.cfg_->outbound;
  const Verdict verdict = m.cfg_->baseline(FindingType::spoofed_sender);
  const SenderFacts& f = r.sender;
  auto store = [&]() -> state::StateStore* {
    if (!store_ && out.error.empty()) out.error = "state store: " + why_;
    return out.error.empty() ? store_.get() : nullptr;
  };
  auto failed = [&](const state::Status& s) {
    if (out.error.empty()) out.error = "state store: " + s.message();
  };
  auto& counts = out.counts;

  SenderHeaders h;
  h.address = f.from;
  h.in_reply_to = f.in_reply_to;
  h.references = f.references;

  // Our own domain in From, from outside and unauthenticated.
  if (auto t = own_domain_from_outside(h, o.local_domains, {m.authenticated_, m.trusted_network_})) {
    add_finding(r, sender_finding(*t, verdict));
    counts.emplace_back(state::AddressEvent::spoofed_sender, f.from);
  }
  // A display name showing one of our addresses forges it too.
  for (const Finding& x : r.findings)
    if (x.type == FindingType::spoofed_sender && x.trick == "display_name_address" &&
        is_local_address(x.claimed, o.local_domains))
      counts.emplace_back(state::AddressEvent::spoofed_sender, x.claimed);

  // Thread hijack: a reply to one of our messages from an address it never
  // went to, with an attachment or a link. Looked up only for such mail.
  ThreadCheck tc{o.local_domains, carries_attachment_or_link(r), o.thread_recipient_domain_is_enough,
                 o.max_thread_lookups};
  SentLookup sent = [&](std::string_view id) -> std::optional<SentMessage> {
    state::StateStore* s = store();
    if (!s) return std::nullopt;
    auto found = s->outbound_log().find(id, o.max_thread_lookups);
    if (!found.ok()) {
      failed(found.status());
      return std::nullopt;
    }
    if (found->empty()) return std::nullopt;
    SentMessage msg{found->front().account, {}, found->front().sent_at};
    bool truncated = false;
    for (const state::OutboundRecord& rec : *found) {
      truncated = truncated || rec.recipients_truncated;
      msg.recipients.insert(msg.recipients.end(), rec.recipients.begin(), rec.recipients.end());
    }
    const bool listed = std::any_of(msg.recipients.begin(), msg.recipients.end(),
                                    [&](const std::string& a) { return normalize_address(a) == f.from; });
    if (truncated && !listed) {
      // Only the first [outbound] max_log_recipients were logged: unsure.
      out.notes.push_back("reply to our message <" + std::string(id) + "> from " + f.from +
                          ": its logged recipients were cut at max_log_recipients, not judged as a thread hijack");
      return std::nullopt;
    }
    return msg;
  };
  if (auto t = thread_hijack(h, sent, tc)) add_finding(r, sender_finding(*t, verdict));

  // Backscatter: a bounce for a Message-ID we never sent, naming a local address.
  if (f.bounce) {
    for (const std::string& p : f.bounce_problems) {
      if (out.notes.size() >= 8) break;
      out.notes.push_back("bounce: " + p);
    }
    if (f.bounced_for.empty()) {
      out.notes.push_back("bounce names no address of ours: not counted as backscatter");
    } else if (f.bounced_ids.empty()) {
      out.notes.push_back("bounce for " + f.bounced_for + " without the original Message-ID: not counted as backscatter");
    } else if (state::StateStore* s = store()) {
      std::string ours;
      const std::size_t n = std::min<std::size_t>(f.bounced_ids.size(), o.max_bounce_message_ids);
      for (std::size_t i = 0; i < n && ours.empty(); ++i) {
        auto found = s->outbound_log().find(f.bounced_ids[i], 1);
        if (!found.ok()) {
          failed(found.status());
          break;
        }
        if (!found->empty()) ours = f.bounced_ids[i];
      }
      if (!ours.empty()) {
        out.notes.push_back("bounce of our message <" + ours + "> for " + f.bounced_for + ": not backscatter");
      } else if (out.error.empty()) {
        counts.emplace_back(state::AddressEvent::backscatter, f.bounced_for);
        out.notes.push_back("backscatter for " + f.bounced_for + ": a bounce of <" + f.bounced_ids.front() +
                            ">, which we never sent");
      }
    }
  }

  if (metrics_)
    for (const Finding& x : r.findings)
      if (x.type == FindingType::spoofed_sender) metrics_->spoofed_sender(x.trick);
  if (log_)
    for (const std::string& n : out.notes) log_->info(m.queue_id_, n);
  return out;
}

std::string SenderGate::count(const Outcome& o, const Message& m, Action decided, std::int64_t now) {
  if (decided == Action::tempfail || o.counts.empty()) return {};
  if (!store_) return "state store: " + why_;
  const OutboundSettings& s = m.cfg_->outbound;
  for (const auto& [event, address] : o.counts) {
    if (state::Status st = store_->incidents().count(event, address, now, s); !st.ok())
      return "state store: " + st.message();
    if (metrics_ && event == state::AddressEvent::backscatter) metrics_->backscatter();
  }
  return {};
}

policy::Decision sender_fail_closed(policy::Decision d, const std::string& error, const ActionSettings& actions,
                                    MessageLog& ml) {
  ml.why = error;
  policy::Decision e = policy::decide_error(actions, error);
  if (policy::rank(e.action) < policy::rank(d.action)) return d;
  ml.verdict = "error";
  return e;
}

}  // namespace emogate
