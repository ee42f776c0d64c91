// PPAP against the shared state store (pending.h).
// Trusted input: the configuration; records, blobs and messages are checked.
#include "ppap/pending.h"

#include <algorithm>
#include <random>

#include "common/text.h"
#include "milter/policy.h"
#include "quarantine/release.h"

namespace emogate::ppap {
namespace {

constexpr const char* kSweeperLock = "ppap-sweeper";
constexpr std::size_t kSweepBatch = 100;  // expired entries handled per round

std::string fmt_window(std::uint32_t s) {
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

// One header value: printable ASCII, the rest %XX (policy::escape_text), folded.
std::string header_value(std::string_view name, std::string_view v) {
  return policy::fold_header(name, policy::escape_text(v));
}

// "type@path,..." with the paths as found (format_event escapes the line once).
std::string findings_of(const Report& r) {
  std::vector<std::string> out;
  for (const Finding& f : r.findings) out.push_back(std::string(to_string(f.type)) + "@" + f.path);
  return join(out, ",");
}

// Where the passwords were found, without the "password mail QID: "
// prefix match() gives each source (the header names that mail once).
std::vector<std::string> sources_of(const Unlock& u, std::string_view password_mail) {
  const std::string prefix = "password mail " + std::string(password_mail) + ": ";
  std::vector<std::string> out;
  for (const SourcedPassword& p : u.passwords)
    out.push_back(p.source.rfind(prefix, 0) == 0 ? p.source.substr(prefix.size()) : p.source);
  return out;
}

}  // namespace

std::string_view to_string(Event::Kind k) {
  switch (k) {
    case Event::Kind::held: return "held";
    case Event::Kind::not_held: return "not_held";
    case Event::Kind::matched: return "matched";
    case Event::Kind::released: return "released";
    case Event::Kind::flagged: return "flagged";
    case Event::Kind::still_locked: return "still_locked";
    case Event::Kind::timed_out: return "timed_out";
    case Event::Kind::error: return "error";
  }
  return "?";
}

std::string format_event(const Event& e) {
  std::string line = "ppap=" + std::string(to_string(e.kind));
  if (!e.id.empty()) line += " id=" + e.id;
  if (!e.password_mail.empty()) line += " password_mail=" + e.password_mail;
  if (!e.detail.empty()) line += " (" + e.detail + ")";
  return line;
}

std::int64_t claim_ttl_s(const Config& c) {
  return 60 + 2 * static_cast<std::int64_t>(c.limits.scan_timeout_ms / 1000);
}

std::string from_header_address(std::string_view v) {
  const auto open = v.rfind('<');
  if (open != std::string_view::npos) {
    const auto close = v.find('>', open);
    if (close != std::string_view::npos) return ascii_lower(v.substr(open + 1, close - open - 1));
  }
  std::string out;
  for (char c : v)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out += ascii_lower(c);
  return out;
}

std::string new_record_id(std::string_view queue_id) {
  std::string id;
  for (char c : queue_id.substr(0, 64))
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) id += c;
  if (id.empty()) id = "noqueue";
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  id += '-';
  std::uint64_t r = rng();
  for (int i = 0; i < 16; ++i, r >>= 4) id += hex[r & 15];
  return id;
}

std::string timeout_notice(const ppap::PpapBlob& b, std::uint32_t window_s) {
  std::vector<std::string> names;
  for (const ppap::PpapArchive& a : b.archives) names.push_back(a.name);
  std::string text =
      "Your message was not delivered.\n\n"
      "It carries an encrypted archive, and the mail gateway (emogate) keeps such a\n"
      "message until a second mail with the archive's password arrives from the same\n"
      "sender to the same recipients, so that it can check what is inside. No such\n"
      "mail arrived within " +
      fmt_window(window_s) +
      ".\n\n"
      "  Queue id:    " + b.queue_id + "\n" +
      "  Subject:     " + b.subject + "\n" +
      "  Recipients:  " + join(b.recipients, ", ") + "\n" +
      "  Archives:    " + join(names, ", ") + "\n\n" +
      "Please send the attachment again and its password in a separate mail soon\n"
      "after it, or send it in another way your recipient accepts.\n";
  return "To: " + policy::escape_text(b.sender, "<>") +
         "\nSubject: Undelivered: no password mail for your encrypted attachment\n"
         "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
         "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n" +
         text;
}

Desk::Desk(state::StateStore& store, std::string host, Effects& fx)
    : store_(store), host_(std::move(host)), fx_(fx) {}

Desk::Hold Desk::hold(const Report& r, const Envelope& env, std::string_view raw, const Config& c, std::int64_t now) {
  Hold h;
  auto refuse = [&](std::string why) {
    h.result = Hold::Result::refused;
    h.why = std::move(why);
    fx_.event({Event::Kind::not_held, env.queue_id, "", "", h.why});
    return h;
  };
  std::string why;
  std::optional<ppap::PpapBlob> blob = pending_blob(r, env, &why);
  if (!blob) return refuse(why);
  const std::string key = sender_key(*blob, c.ppap.match);
  if (key.empty()) return refuse("no sender to expect a password mail from");
  std::optional<std::string> bytes = ppap::encode_ppap_blob(*blob);
  if (!bytes) return refuse("the pending record would be larger than its bound");
  state::PendingRecord rec;
  rec.id = new_record_id(env.queue_id);
  rec.sender_key = key;
  rec.recipients = blob->recipients;
  rec.created_at = now;
  rec.expires_at = now + c.ppap.window_s;
  rec.purge_at = rec.expires_at + kKeepSettledS;
  rec.blob = std::move(*bytes);
  state::PutBounds bounds;
  bounds.max_message_bytes = c.milter.max_message_size;
  bounds.max_per_sender = c.ppap.max_pending_per_sender;
  bounds.max_total = c.ppap.max_pending;
  bounds.max_bytes_held = c.ppap.max_held_bytes;
  state::Status st = store_.pending().put(rec, raw, bounds);
  if (st.code() == state::Code::limit) return refuse(st.message());
  if (!st.ok()) {
    h.result = Hold::Result::failed;
    h.why = "state store: " + st.message();
    fx_.event({Event::Kind::error, env.queue_id, rec.id, "", "cannot hold: " + h.why});
    return h;
  }
  h.result = Hold::Result::held;
  h.id = rec.id;
  std::vector<std::string> names;
  for (const ppap::PpapArchive& a : blob->archives) names.push_back(a.path);
  fx_.event({Event::Kind::held, env.queue_id, rec.id, "",
             "waiting up to " + fmt_window(c.ppap.window_s) + " for a password mail from <" + key + "> for " +
                 join(names, ", ")});
  return h;
}

state::Result<std::vector<PendingEntry>> Desk::waiting(std::string_view sender_key,
                                                       const std::vector<std::string>& recipients,
                                                       std::int64_t now) {
  std::vector<PendingEntry> out;
  if (sender_key.empty()) return out;
  std::vector<std::string> rcpts;
  for (const std::string& r : recipients) rcpts.push_back(ascii_lower(r));
  auto found = store_.pending().find(sender_key, rcpts, now);
  if (!found.ok()) return found.status();
  for (state::PendingRecord& rec : *found) {
    std::string error;
    std::optional<ppap::PpapBlob> b = ppap::parse_ppap_blob(rec.blob, &error);
    if (!b) {
      fx_.event({Event::Kind::error, "", rec.id, "", "unreadable pending record skipped: " + error});
      continue;
    }
    out.push_back({rec.id, std::move(*b), rec.created_at, rec.expires_at});
  }
  return out;
}

state::Result<std::vector<Claimed>> Desk::unlock(const std::vector<PendingEntry>& entries, const FollowUp& f,
                                                 const Config& c) {
  std::vector<Claimed> out;
  KdfBudget budget(c.limits.max_kdf_rounds);
  for (Unlock& u : match(entries, f, c.ppap, budget)) {
    auto won = store_.pending().claim(u.id, host_, f.now, claim_ttl_s(c));
    if (!won.ok()) return won.status();
    const std::string held_qid = entries[u.entry].blob.queue_id;
    if (!*won) continue;  // another host holds the claim and logs the match
    fx_.event({Event::Kind::matched, held_qid, u.id, f.queue_id,
               std::to_string(u.passwords.size()) + " password(s) pass the checks; rescanning"});
    out.push_back({std::move(u), held_qid});
  }
  if (budget.exhausted())
    fx_.event({Event::Kind::error, f.queue_id, "", "", "[limits] max_kdf_rounds reached while matching"});
  return out;
}

bool Desk::send_copy(const ppap::PpapBlob& b, std::string_view raw, const Headers& headers, std::string* error) {
  if (b.recipients.empty()) {
    *error = "no recipients";
    return false;
  }
  return fx_.send(b.sender, b.recipients, with_headers(raw, headers), error);
}

std::optional<Outcome> Desk::settle(const Claimed& cl, const std::string& password_mail, const Config& cfg,
                                    std::int64_t now) {
  const std::string& id = cl.unlock.id;
  auto fail = [&](const std::string& why, bool give_up_claim) -> std::optional<Outcome> {
    if (give_up_claim) (void)store_.pending().unclaim(id, host_);
    fx_.event({Event::Kind::error, cl.held_queue_id, id, password_mail, why + "; it keeps waiting"});
    return std::nullopt;
  };
  // Still ours? (It may have waited in a queue; extend the claim for the rescan.)
  auto mine = store_.pending().claim(id, host_, now, claim_ttl_s(cfg));
  if (!mine.ok()) return fail("state store: " + mine.status().message(), false);
  if (!*mine) return std::nullopt;  // another host took over after our claim lapsed
  auto rec = store_.pending().get(id);
  if (!rec.ok()) return fail("state store: " + rec.status().message(), true);
  if (rec->state != state::PendingState::awaiting) {
    (void)store_.pending().unclaim(id, host_);
    return std::nullopt;
  }
  std::string error;
  std::optional<ppap::PpapBlob> blob = ppap::parse_ppap_blob(rec->blob, &error);
  if (!blob) return fail("unreadable pending record: " + error, true);
  auto raw = store_.pending().message(id);
  if (!raw.ok()) return fail("held message: " + raw.status().message(), true);
  Envelope env{blob->queue_id, blob->sender, blob->recipients, {}, {}};
  ScanOptions base;
  base.hash_all_objects = cfg.milter.hash_all_objects;
  std::optional<Report> again = fx_.rescan(*raw, env, rescan_options(cl.unlock, base), &error);
  if (!again) return fail("rescan failed: " + error, true);
  const Outcome o = outcome(*again, cfg.ppap);
  const std::string where = join(sources_of(cl.unlock, password_mail), "; ");
  if (o == Outcome::still_locked) {
    (void)store_.pending().unclaim(id, host_);
    fx_.event({Event::Kind::still_locked, cl.held_queue_id, id, password_mail,
               "the password did not open every archive: " + findings_of(*again)});
    return o;
  }
  policy::Decision d = policy::decide(*again, cfg.actions, cfg.quarantine.after);
  const bool deliver = o == Outcome::released || d.action == Action::accept || d.action == Action::tag;
  state::Transition t;
  t.from = state::PendingState::awaiting;
  t.to = o == Outcome::released ? state::PendingState::released : state::PendingState::matched;
  t.now = now;
  t.match_queue_id = password_mail;
  t.purge_at = now + kKeepSettledS;
  t.drop_message = true;
  std::string detail;
  if (deliver) {
    Headers h = d.headers;
    h.emplace_back("X-Emogate-PPAP", header_value("X-Emogate-PPAP", "released by password mail " + password_mail +
                                                                        " (password found in " + where + ")"));
    // Delivered tagged: the tag action's Subject prefix too, as the milter
    // would have set it.
    if (!send_copy(*blob, policy::with_subject_prefix(*raw, d.subject_prefix), h, &error))
      return fail("sendmail: " + error, true);
    detail = "verdict=" + std::string(to_string(again->verdict)) + " delivered to " + join(blob->recipients, ",");
  } else {
    QuarantineMeta m;
    m.queue_id = blob->queue_id;
    m.sender = blob->sender;
    m.recipients = blob->recipients;
    m.verdict = std::string(to_string(again->verdict));
    m.action = std::string(to_string(d.action));
    for (const Finding& f : again->findings) m.findings.push_back(std::string(to_string(f.type)) + "@" + f.path);
    m.size = raw->size();
    std::optional<std::string> qid = fx_.quarantine(*raw, *again, m, &error);
    if (!qid) return fail("quarantine store: " + error, true);
    detail = "verdict=" + m.verdict + " action=" + m.action + " kept in quarantine=" + *qid + " findings=" +
             findings_of(*again);
  }
  auto moved = store_.pending().transition(id, t);
  if (!moved.ok() || !*moved)
    fx_.event({Event::Kind::error, cl.held_queue_id, id, password_mail,
               "settled but the state store was not updated" +
                   (moved.ok() ? std::string() : ": " + moved.status().message())});
  (void)store_.pending().unclaim(id, host_);
  fx_.event({o == Outcome::released ? Event::Kind::released : Event::Kind::flagged, cl.held_queue_id, id,
             password_mail, detail + "; password found in " + where});
  return o;
}

void Desk::time_out(const state::PendingRecord& rec, const std::string& owner, const Config& c, std::int64_t now) {
  std::string error;
  std::optional<ppap::PpapBlob> blob = ppap::parse_ppap_blob(rec.blob, &error);
  auto raw = store_.pending().message(rec.id);
  std::string qid_of_held = blob ? blob->queue_id : std::string();
  auto fail = [&](const std::string& why) {
    (void)store_.pending().unclaim(rec.id, owner);
    fx_.event({Event::Kind::error, qid_of_held, rec.id, "", "timeout: " + why + "; tried again next round"});
  };
  if (!raw.ok() && raw.status().code() != state::Code::not_found) return fail(raw.status().message());
  PpapTimeout what = c.ppap.on_timeout;
  std::string detail = "no password mail within " + fmt_window(c.ppap.window_s) + "; on_timeout=" +
                       std::string(to_string(what));
  if (!blob || !raw.ok()) {
    detail += "; nothing to act on (" + (blob ? raw.status().message() : "unreadable record: " + error) + ")";
  } else {
    if (what == PpapTimeout::return_to_sender && blob->sender.empty()) what = PpapTimeout::keep;
    Report r;
    r.verdict = Verdict::suspicious;
    for (const PpapArchive& a : blob->archives)
      r.findings.push_back({a.document() ? FindingType::encrypted_document : FindingType::encrypted_archive, a.path,
                            "no password mail within " + fmt_window(c.ppap.window_s), Verdict::suspicious});
    if (what == PpapTimeout::keep) {
      QuarantineMeta m;
      m.queue_id = blob->queue_id;
      m.sender = blob->sender;
      m.recipients = blob->recipients;
      m.verdict = "suspicious";
      m.action = "ppap_timeout";
      for (const Finding& f : r.findings) m.findings.push_back(std::string(to_string(f.type)) + "@" + f.path);
      m.size = raw->size();
      std::optional<std::string> qid = fx_.quarantine(*raw, r, m, &error);
      if (!qid) return fail("quarantine store: " + error);
      detail += " quarantine=" + *qid;
    } else if (what == PpapTimeout::deliver) {
      policy::Decision d = policy::decide(r, ActionSettings{}, Action::discard);
      Headers h = d.headers;
      h.emplace_back("X-Emogate-PPAP", "no password mail within " + fmt_window(c.ppap.window_s) +
                                           "; delivered unopened");
      if (!send_copy(*blob, *raw, h, &error)) return fail("sendmail: " + error);
      detail += " delivered to " + join(blob->recipients, ",");
    } else {
      if (!fx_.send("", {blob->sender}, timeout_notice(*blob, c.ppap.window_s), &error))
        return fail("sendmail: " + error);
      detail += " notice sent to <" + blob->sender + ">";
    }
  }
  state::Transition t;
  t.from = state::PendingState::awaiting;
  t.to = state::PendingState::timed_out;
  t.now = now;
  t.purge_at = now + kKeepSettledS;
  t.drop_message = true;
  auto moved = store_.pending().transition(rec.id, t);
  (void)store_.pending().unclaim(rec.id, owner);
  if (!moved.ok()) {
    fx_.event({Event::Kind::error, qid_of_held, rec.id, "",
               "timed out but the state store was not updated: " + moved.status().message()});
    return;
  }
  if (*moved) fx_.event({Event::Kind::timed_out, qid_of_held, rec.id, "", detail});
}

state::Status Desk::sweep(const Config& c, std::int64_t now, std::int64_t lock_ttl_s) {
  auto locked = store_.locks().try_lock(kSweeperLock, host_, now, lock_ttl_s);
  if (!locked.ok()) return locked.status();
  if (!*locked) return {};
  auto due = store_.pending().expired(now, kSweepBatch);
  if (!due.ok()) return due.status();
  // Its own claim owner: a release this host is running holds the claim
  // under host_, and the sweeper must not take it over.
  const std::string owner = host_ + ".sweep";
  for (const state::PendingRecord& rec : *due) {
    auto won = store_.pending().claim(rec.id, owner, now, claim_ttl_s(c));
    if (!won.ok()) return won.status();
    if (*won) time_out(rec, owner, c, now);
  }
  auto purged = store_.pending().purge(now);
  return purged.ok() ? state::Status{} : purged.status();
}

bool Desk::forget(std::string_view id) {
  auto gone = store_.pending().remove(id);
  return gone.ok() && *gone;
}

std::optional<std::uint64_t> Desk::awaiting() {
  auto n = store_.pending().counts();
  if (!n.ok()) return std::nullopt;
  return n->awaiting;
}

}  // namespace emogate::ppap
