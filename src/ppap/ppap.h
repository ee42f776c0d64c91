// PPAP (the password of an encrypted archive sent in a second mail), the
// parts that need neither the store nor the milter:
//  - hold_decision(): whether a scanned message may wait for its password
//    mail instead of getting the encrypted_archive action;
//  - pending_blob(): what a store keeps about it (formats/passwords/ppap_blob.h);
//  - match(): which pending messages a later mail's passwords unlock
//    (same sender, a shared recipient, within the window, bounded tries,
//    each confirmed by the members' cheap password checks);
//  - rescan_options() / outcome(): the held message scanned again with the
//    found password as if it had been in it, and what that scan decides.
// The milter (and `emogate scan --ppap-window`) call these in that order;
// the pending entries come from the store, whose records are untrusted:
// their blobs go through parse_ppap_blob().
// Trusted input: the configuration. Reports come from (possibly compromised)
// scan workers and blobs from a shared store: both are checked, not trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/kdf_budget.h"
#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"
#include "formats/passwords/ppap_blob.h"

namespace emogate::ppap {

// Whether a message waits for a password mail, and why (one line for the log).
struct HoldDecision {
  bool holdable = false;
  std::string reason;
};

// Holdable when [ppap] is enabled and the scan is complete, the message is
// flagged, every finding that flags it is encrypted_archive or
// encrypted_document (a macro, a YARA hit, a malformed structure or a
// limit elsewhere decides by itself), and every encrypted member in those
// archives and documents has check data a later password can be tried
// against (ZipCrypto or WinZip AES that we can also decrypt, an OOXML
// package with standard or agile encryption; a 7z, RAR, or a binary Word,
// Excel or PowerPoint document with RC4 encryption cannot wait).
HoldDecision hold_decision(const Report& r, const PpapSettings& s);

// The pending blob of a holdable message: envelope sender and recipients
// from `env` (lower-cased), From, Subject and the locked archives from the
// report. None, with `why`, when a bound of the blob is exceeded (the
// message then gets the normal encrypted_archive action).
std::optional<ppap::PpapBlob> pending_blob(const Report& r, const Envelope& env, std::string* why = nullptr);

// The key a store files an entry under: the envelope sender, or the From
// address with [ppap] match = "from". Empty (never matches) for the null
// sender.
std::string sender_key(const ppap::PpapBlob& b, PpapMatch m);

// One pending message as a store returns it.
struct PendingEntry {
  std::string id;  // the store's record id
  ppap::PpapBlob blob;
  std::int64_t created_at = 0;  // Unix seconds
  std::int64_t expires_at = 0;
};

// A later mail, as far as matching needs it.
struct FollowUp {
  std::string envelope_sender;
  std::string from;  // From address
  std::vector<std::string> recipients;
  std::string queue_id;
  std::vector<SourcedPassword> passwords;  // Report::ppap.passwords of its scan
  std::int64_t now = 0;                    // its arrival, Unix seconds
};

// A pending message some of the follow-up's passwords pass the checks of.
struct Unlock {
  std::size_t entry = 0;  // index into the entries given to match()
  std::string id;
  // One password per archive it opens, the source naming the password
  // mail's queue id ("password mail 4Xyz: text/plain part 1, line 3, ...").
  std::vector<SourcedPassword> passwords;
  bool all_archives = false;  // every archive of the entry has a password
};

// Which of `entries` the follow-up unlocks. An entry is considered only
// when the sender rule holds (same envelope sender; same From with
// match = "from"; the null sender never), it shares at least one recipient
// and `now` lies in [created_at, expires_at]. At most
// max_candidates_per_entry passwords are tried per entry, each in its byte
// encodings; a password opens an archive when it passes the check of every
// member kept for it. AES and Office tries take their rounds from `budget`
// (budget.exhausted() tells afterwards that the search was cut short).
std::vector<Unlock> match(const std::vector<PendingEntry>& entries, const FollowUp& f, const PpapSettings& s,
                          KdfBudget& budget);

// Options for scanning the held message again with the unlock's passwords.
ScanOptions rescan_options(const Unlock& u, ScanOptions base = {});

// What the rescan decides: released (clean), flagged (its verdict's normal
// action applies), or still_locked (only encrypted archives still flag it:
// the password did not open everything; the entry keeps waiting).
enum class Outcome { released, flagged, still_locked };
Outcome outcome(const Report& rescan, const PpapSettings& s);
std::string_view to_string(Outcome o);

// [ppap] on_timeout as the configuration spells it: keep, deliver, return.
std::string_view to_string(PpapTimeout t);

}  // namespace emogate::ppap
