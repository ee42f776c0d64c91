// PPAP hold decision, pending blob, matcher and rescan (ppap.h).
// Trusted input: the configuration; reports and blobs are checked.
#include "ppap/ppap.h"

#include <algorithm>
#include <set>

#include "common/text.h"
#include "formats/passwords/miner.h"

namespace emogate::ppap {
namespace {

using Bounds = ppap::PpapBlobBounds;

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string clip_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

bool shares_recipient(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (const std::string& x : a)
    for (const std::string& y : b)
      if (!x.empty() && ascii_lower(x) == ascii_lower(y)) return true;
  return false;
}

// `password` passes the checks of every member kept for `a`, in one of
// its byte encodings (a ZIP's; an Office document's key derivation takes
// the UTF-8 password itself); the first member is tried alone first, so a
// wrong password usually costs one try.
bool opens(const PpapArchive& a, const std::string& password, KdfBudget& budget) {
  std::vector<std::string> forms;
  if (a.document()) forms.push_back(password);
  else forms = password_encodings(password);
  for (const std::string& bytes : forms) {
    bool all = !a.members.empty();
    for (const PpapMember& m : a.members)
      if (!check_password(m.check, bytes, budget)) {
        all = false;
        break;
      }
    if (all) return true;
    if (budget.exhausted()) return false;
  }
  return false;
}

}  // namespace

HoldDecision hold_decision(const Report& r, const PpapSettings& s) {
  if (!s.enabled) return {false, "[ppap] is disabled"};
  if (!r.complete()) return {false, "the scan was incomplete"};
  if (!r.flagged()) return {false, "the message is clean"};
  std::set<std::string> archives;
  for (const Finding& f : r.findings) {
    // An encrypted Office document waits like an archive; one Excel opened
    // with its default password is clean (informational) and waits for nothing.
    if (f.type == FindingType::encrypted_archive ||
        (f.type == FindingType::encrypted_document && f.verdict > Verdict::clean)) {
      archives.insert(f.path);
    } else if (f.verdict > Verdict::clean) {
      return {false, std::string(to_string(f.type)) + " at " + f.path + " decides the verdict"};
    }
  }
  if (archives.empty()) return {false, "no encrypted archive or document"};
  for (const std::string& path : archives) {
    bool checkable = false;
    for (const LockedMember& m : r.ppap.locked) {
      if (m.archive != path) continue;
      if (m.check.empty() || !decode_lock(m.check))
        return {false, "member \"" + m.member + "\" of " + path + " cannot be opened with a password here"};
      checkable = true;
    }
    if (!checkable)
      return {false, path + " has no password-check data (not a ZIP or Office encryption emogate decrypts)"};
  }
  return {true, std::to_string(archives.size()) + " encrypted archive(s) or document(s) wait for a password mail"};
}

std::optional<ppap::PpapBlob> pending_blob(const Report& r, const Envelope& env, std::string* why) {
  auto refuse = [&](std::string reason) -> std::optional<ppap::PpapBlob> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  ppap::PpapBlob b;
  b.sender = ascii_lower(env.sender);
  b.from = ascii_lower(r.ppap.from);
  b.subject = clip_utf8(r.ppap.subject, Bounds::max_subject);
  b.queue_id = env.queue_id;
  if (b.sender.size() > Bounds::max_address || b.from.size() > Bounds::max_address)
    return refuse("sender or From address longer than " + std::to_string(Bounds::max_address) + " bytes");
  if (b.queue_id.size() > Bounds::max_queue_id) return refuse("queue id too long");
  std::set<std::string> seen;
  for (const std::string& rcpt : env.recipients) {
    std::string low = ascii_lower(rcpt);
    if (low.size() > Bounds::max_address) return refuse("a recipient address is too long");
    if (seen.insert(low).second) b.recipients.push_back(std::move(low));
  }
  if (b.recipients.size() > Bounds::max_recipients)
    return refuse("more than " + std::to_string(Bounds::max_recipients) + " recipients");
  for (const LockedMember& m : r.ppap.locked) {
    std::optional<LockCheck> check = decode_lock(m.check);
    if (!check) continue;
    auto it = std::find_if(b.archives.begin(), b.archives.end(),
                           [&](const ppap::PpapArchive& a) { return a.path == m.archive; });
    if (it == b.archives.end()) {
      if (b.archives.size() == Bounds::max_archives)
        return refuse("more than " + std::to_string(Bounds::max_archives) + " encrypted archives");
      if (m.archive.size() > Bounds::max_path) return refuse("archive path too long");
      b.archives.push_back({m.archive, clip_utf8(base_name(m.archive, "/"), Bounds::max_name), {}});
      it = b.archives.end() - 1;
    }
    if (it->members.size() < Bounds::max_members)
      it->members.push_back({clip_utf8(m.member, Bounds::max_name), *check});
  }
  if (b.archives.empty()) return refuse("no encrypted member with password-check data");
  if (!ppap::encode_ppap_blob(b)) return refuse("the pending record would be larger than its bound");
  return b;
}

std::string sender_key(const ppap::PpapBlob& b, PpapMatch m) {
  return ascii_lower(m == PpapMatch::from ? b.from : b.sender);
}

std::vector<Unlock> match(const std::vector<PendingEntry>& entries, const FollowUp& f, const PpapSettings& s,
                          KdfBudget& budget) {
  std::vector<Unlock> out;
  const std::string who = ascii_lower(s.match == PpapMatch::from ? f.from : f.envelope_sender);
  if (who.empty() || f.passwords.empty()) return out;
  const std::size_t tries = std::min<std::size_t>(f.passwords.size(), s.max_candidates_per_entry);
  for (std::size_t i = 0; i < entries.size() && !budget.exhausted(); ++i) {
    const PendingEntry& e = entries[i];
    if (sender_key(e.blob, s.match) != who) continue;
    if (f.now < e.created_at || f.now > e.expires_at) continue;
    if (!shares_recipient(e.blob.recipients, f.recipients)) continue;
    Unlock u;
    u.entry = i;
    u.id = e.id;
    std::size_t opened = 0;
    for (const ppap::PpapArchive& a : e.blob.archives) {
      for (std::size_t k = 0; k < tries && !budget.exhausted(); ++k) {
        const SourcedPassword& p = f.passwords[k];
        if (!opens(a, p.password, budget)) continue;
        ++opened;
        if (std::none_of(u.passwords.begin(), u.passwords.end(),
                         [&](const SourcedPassword& q) { return q.password == p.password; }))
          u.passwords.push_back({p.password, "password mail " + (f.queue_id.empty() ? "(no queue id)" : f.queue_id) +
                                                 ": " + p.source});
        break;
      }
    }
    if (opened == 0) continue;
    u.all_archives = opened == e.blob.archives.size();
    out.push_back(std::move(u));
  }
  return out;
}

ScanOptions rescan_options(const Unlock& u, ScanOptions base) {
  base.extra_passwords.insert(base.extra_passwords.end(), u.passwords.begin(), u.passwords.end());
  return base;
}

Outcome outcome(const Report& rescan, const PpapSettings& s) {
  if (rescan.complete() && !rescan.flagged()) return Outcome::released;
  PpapSettings on = s;
  on.enabled = true;
  return hold_decision(rescan, on).holdable ? Outcome::still_locked : Outcome::flagged;
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::released: return "released";
    case Outcome::flagged: return "flagged";
    case Outcome::still_locked: return "still_locked";
  }
  return "?";
}

std::string_view to_string(PpapTimeout t) {
  switch (t) {
    case PpapTimeout::keep: return "keep";
    case PpapTimeout::deliver: return "deliver";
    case PpapTimeout::return_to_sender: return "return";
  }
  return "?";
}

}  // namespace emogate::ppap
