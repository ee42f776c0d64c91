// PPAP against the shared state store: the life of a message that waits for
// its password mail, from the hold through the match, the claim and the
// rescan to its release, its normal action, or its timeout. The store is
// shared by every mail host, so every step that only one host may do is
// taken under a claim (one record) or a lock (the sweeper), each with an
// expiry: a host that dies mid-step leaves the record claimable again.
// What a step does outside the store (scan the held message through the
// daemon's scan path, hand a message to sendmail, keep one in the
// quarantine directory, log and count) goes through Effects, so the milter
// and the tests plug in their own.
// Trusted input: the configuration. Records, blobs and held messages come
// from a shared store and from mail: blobs go through parse_ppap_blob(),
// everything that reaches a header or a log line is escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"
#include "ppap/ppap.h"
#include "quarantine/store.h"
#include "state/store.h"

namespace emogate::ppap {

// One thing that happened to a pending entry: a log line and a metric.
struct Event {
  enum class Kind { held, not_held, matched, released, flagged, still_locked, timed_out, error };
  Kind kind = Kind::held;
  std::string queue_id;       // the held message's
  std::string id;             // the store's record id
  std::string password_mail;  // the password mail's queue id (matched, released, flagged, still_locked)
  std::string detail;         // free text: reason, action, quarantine id
};
std::string_view to_string(Event::Kind k);
// "ppap=released id=ID password_mail=QID2 (detail)": the text of a mail
// log line after the held message's queue id. Not escaped: MailLog escapes
// every line it writes.
std::string format_event(const Event& e);

// What the steps do outside the store.
class Effects {
 public:
  virtual ~Effects() = default;
  // Scans a held message the way new mail is scanned. None, with `error`,
  // when no usable report came back (the entry then keeps waiting).
  virtual std::optional<Report> rescan(std::string_view raw, const Envelope& env, const ScanOptions& opts,
                                       std::string* error) = 0;
  // Hands `message` to the MTA (sendmail) for `recipients` with envelope
  // sender `sender` ("" = the null sender). False, with `error`, when the
  // MTA did not take it.
  virtual bool send(const std::string& sender, const std::vector<std::string>& recipients, const std::string& message,
                    std::string* error) = 0;
  // Keeps a message in this host's quarantine store: its id, or none with `error`.
  virtual std::optional<std::string> quarantine(std::string_view raw, const Report& report, QuarantineMeta meta,
                                                std::string* error) = 0;
  virtual void event(const Event& e) = 0;
};

// A pending entry this host has claimed because a later mail's passwords
// pass its checks.
struct Claimed {
  Unlock unlock;
  std::string held_queue_id;  // the waiting message's queue id (for the password mail's header)
};

// How long a claim lasts: one rescan with its scan deadline and the
// sendmail hand-over, with room to spare.
std::int64_t claim_ttl_s(const Config& c);
// How long a settled record (released, matched, timed out: no message
// bytes any more) stays listed before purge() removes it.
inline constexpr std::int64_t kKeepSettledS = 7 * 86400;

// The headers a message gets in front when it leaves the store, values
// folded with "\n" as for libmilter.
using Headers = std::vector<std::pair<std::string, std::string>>;

class Desk {
 public:
  // `host`: this host's id in claims and locks (valid_name's alphabet).
  Desk(state::StateStore& store, std::string host, Effects& fx);
  const std::string& host() const { return host_; }

  // A message hold_decision() called holdable: stores its pending record
  // and bytes. `held`: it waits now. `refused`: a bound (or the blob's)
  // says no; the message gets its normal action. `failed`: the store
  // failed; the message gets [actions] on_error.
  struct Hold {
    enum class Result { held, refused, failed } result = Result::failed;
    std::string id;   // when held
    std::string why;  // when refused or failed
  };
  Hold hold(const Report& r, const Envelope& env, std::string_view raw, const Config& c, std::int64_t now);

  // The cheap path every message takes: entries waiting for `sender_key`
  // (already lower-cased) that name one of `recipients`. One indexed
  // lookup when there are none. A record whose blob does not parse is
  // skipped with an error event.
  state::Result<std::vector<PendingEntry>> waiting(std::string_view sender_key,
                                                   const std::vector<std::string>& recipients, std::int64_t now);

  // Which entries `f` unlocks, each claimed for this host (an entry another
  // host holds is left to it). An error status when the store failed.
  state::Result<std::vector<Claimed>> unlock(const std::vector<PendingEntry>& entries, const FollowUp& f,
                                             const Config& c);

  // Rescans a claimed entry with its passwords and acts on the outcome:
  // released -> sent to its recipients with X-Emogate-PPAP; flagged -> its
  // verdict's normal action (delivered tagged, or kept in quarantine);
  // still_locked -> unclaimed, it keeps waiting. None when a step failed
  // (the claim then lapses or is given up, and the entry keeps waiting).
  std::optional<Outcome> settle(const Claimed& c, const std::string& password_mail, const Config& cfg,
                                std::int64_t now);

  // One round of the sweeper: when this host holds (or gets) the sweeper
  // lock, every awaiting entry past its window gets [ppap] on_timeout, then
  // settled records past their purge time are deleted. Returns the store's
  // status (not ok: nothing is lost, the next round tries again).
  state::Status sweep(const Config& c, std::int64_t now, std::int64_t lock_ttl_s);

  // Removes a record whose hold the MTA did not take after all (the
  // client was told to retry); false when it could not be removed.
  bool forget(std::string_view id);

  // The entries waiting now (for the pending gauge); none when the store failed.
  std::optional<std::uint64_t> awaiting();

 private:
  bool send_copy(const ppap::PpapBlob& b, std::string_view raw, const Headers& headers, std::string* error);
  void time_out(const state::PendingRecord& rec, const std::string& owner, const Config& c, std::int64_t now);
  state::StateStore& store_;
  std::string host_;
  Effects& fx_;
};

// The lookup key of [ppap] match = "from" from a raw From header value,
// lower-cased: the address inside its last <...>, else the whole value
// without blanks. Only for the cheap lookup before the scan: the matcher
// then compares the From address the scan parsed.
std::string from_header_address(std::string_view value);

// A fresh record id: the queue id (its safe characters) and random hex.
std::string new_record_id(std::string_view queue_id);

// The notice [ppap] on_timeout = "return" sends to the sender: which
// message, to whom, which archives, and that it was not delivered.
std::string timeout_notice(const ppap::PpapBlob& b, std::uint32_t window_s);

}  // namespace emogate::ppap
