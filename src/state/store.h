// The shared state store: records that must outlive one message and be seen
// by every mail host (mail held until its password arrives, named locks), in
// SQLite on one host or in Redis for several. One StateStore is one
// connection and one configuration; each kind of record is a section of it
// with its own interface (pending(), locks(), and for outbound mail
// outbound_log(), incidents(), freezes(); further sections are added beside
// them without touching these). Every call returns its problem as a
// Status: nothing throws, nothing is ignored. A caller turns Code::unavailable
// into [actions] on_error (tempfail) and Code::limit into the normal action
// of what it would have held.
// Time is integer seconds passed in by the caller, never read from a clock
// here, so tests control it; hosts sharing a store need synchronised clocks.
// Trusted input: none of the values (ids, sender keys, recipients, blobs and
// held messages come from mail; they are bound as parameters, never spliced
// into SQL or Redis commands). The configuration is trusted.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_set>
#include <vector>

#include "emogate/config.h"

namespace emogate::state {

// ---- results --------------------------------------------------------------

enum class Code {
  ok,
  unavailable,  // store unreachable, timed out, I/O error, database locked: fail closed
  limit,        // a bound passed in was reached; nothing was written
  invalid,      // an argument the store refuses (empty id, newline in a recipient, ...)
  exists,       // put: a record with this id is already there
  not_found,    // no record with this id
  corrupt,      // a stored value this code cannot read (never guessed at)
};
std::string_view to_string(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  bool ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }  // "" when ok

 private:
  Code code_ = Code::ok;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status s) : status_(std::move(s)) {}
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // Only when ok(); the value of a failed Result is a default T.
  T& value() { return value_; }
  const T& value() const { return value_; }
  T* operator->() { return &value_; }
  T& operator*() { return value_; }

 private:
  T value_{};
  Status status_;
};

// ---- the pending section: mail held until its password arrives ------------

enum class PendingState { awaiting, matched, released, timed_out };
std::string_view to_string(PendingState s);
std::optional<PendingState> parse_pending_state(std::string_view s);

struct PendingRecord {
  std::string id;          // 1..128 bytes of [A-Za-z0-9._:@+-], unique in the store
  std::string sender_key;  // envelope sender or From, normalised by the caller (any bytes)
  std::vector<std::string> recipients;  // normalised by the caller; none empty or with '\n'
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;  // end of the window: find() stops returning it then
  std::int64_t purge_at = 0;    // purge() deletes it (and Redis expires it) after this
  std::string blob;             // opaque bytes owned by the caller; binary-safe
  // Kept by the store:
  PendingState state = PendingState::awaiting;
  std::int64_t state_at = 0;       // when the state last changed
  std::string match_queue_id;      // queue id of the mail that matched it
  std::string claimed_by;          // host id holding the claim ("" = none)
  std::int64_t claim_until = 0;    // the claim lapses at this time
  std::uint64_t held_bytes = 0;    // size of the held message (0 once dropped)
};

// Bounds a put() enforces atomically with the write (0 = no bound).
struct PutBounds {
  std::uint64_t max_message_bytes = 0;  // the held message
  std::uint64_t max_per_sender = 0;     // records awaiting for this sender_key
  std::uint64_t max_total = 0;          // records awaiting in the store
  std::uint64_t max_bytes_held = 0;     // held message bytes, all records
};

// A state change. `from` must be the current state or nothing changes.
struct Transition {
  PendingState from = PendingState::awaiting;
  PendingState to = PendingState::matched;
  std::int64_t now = 0;
  std::string match_queue_id;  // kept when empty
  std::int64_t purge_at = 0;   // new purge time; 0 keeps the current one
  bool drop_message = false;   // free the held bytes (after release, say)
};

struct PendingCounts {
  std::uint64_t awaiting = 0, matched = 0, released = 0, timed_out = 0;
  std::uint64_t bytes_held = 0;
};

class PendingStore {
 public:
  virtual ~PendingStore() = default;

  // Stores the record (state awaiting) and the held message together, or
  // nothing: Code::limit when a bound would be passed, Code::exists when the
  // id is taken. The store fills in state, state_at and held_bytes.
  virtual Status put(const PendingRecord& record, std::string_view message, const PutBounds& bounds) = 0;

  // The hot path, run for every message: records of `sender_key` in state
  // awaiting with expires_at > now that list at least one of `recipients`
  // (exact byte comparison). A sender with none costs one indexed lookup
  // (SQLite) or one round trip (Redis). Oldest first.
  virtual Result<std::vector<PendingRecord>> find(std::string_view sender_key,
                                                   const std::vector<std::string>& recipients,
                                                   std::int64_t now) = 0;

  virtual Result<PendingRecord> get(std::string_view id) = 0;
  virtual Result<std::string> message(std::string_view id) = 0;  // not_found once dropped

  // Exactly one of several hosts racing gets true. The claim holds until
  // now + ttl_s; after that (its host died, say) another host may claim.
  // The holder may claim again to extend it. False, not an error, when
  // another host holds it or the record is released or timed out.
  virtual Result<bool> claim(std::string_view id, std::string_view host, std::int64_t now,
                             std::int64_t ttl_s) = 0;
  // Gives up a claim this host holds (false when it holds none).
  virtual Result<bool> unclaim(std::string_view id, std::string_view host) = 0;

  // False, not an error, when the record is not in t.from.
  virtual Result<bool> transition(std::string_view id, const Transition& t) = 0;

  // For `emogate quarantine list`: records in `state`, oldest first, at most `limit`.
  virtual Result<std::vector<PendingRecord>> list(PendingState state, std::size_t limit) = 0;
  // For the sweeper: awaiting records with expires_at <= now, oldest first.
  virtual Result<std::vector<PendingRecord>> expired(std::int64_t now, std::size_t limit) = 0;

  virtual Result<std::uint64_t> count_for_sender(std::string_view sender_key) = 0;  // awaiting
  virtual Result<PendingCounts> counts() = 0;

  virtual Result<bool> remove(std::string_view id) = 0;  // false when absent
  // Deletes records whose purge_at <= now; returns how many.
  virtual Result<std::uint64_t> purge(std::int64_t now) = 0;
};

// ---- the locks section: named locks with expiry --------------------------

class LockStore {
 public:
  virtual ~LockStore() = default;
  // True when `owner` now holds `name` until now + ttl_s: it was free, had
  // lapsed, or `owner` held it already (extended). False when another owner
  // holds it.
  virtual Result<bool> try_lock(std::string_view name, std::string_view owner, std::int64_t now,
                                std::int64_t ttl_s) = 0;
  virtual Result<bool> unlock(std::string_view name, std::string_view owner) = 0;  // false: not held by owner
};

// ---- the outbound section: what we sent, hijacked accounts, freezes --------
// Bounds come from [outbound] (OutboundSettings, passed to each call that
// grows a list); times are the caller's, as above. Accounts are
// account_of() values; local addresses lower-cased by the caller.

// One outbound message, as the outbound log keeps it (retention: purge()).
struct OutboundRecord {
  std::string message_id;  // Message-ID without <>: 1..998 bytes, no CR, LF or NUL
  std::string account;     // non-empty, no '\n'
  std::vector<std::string> recipients;         // none empty or with '\n'
  std::vector<std::string> attachment_hashes;  // SHA-256 hex of each attachment, no '\n'
  std::string queue_id;                        // the MTA's, may be ""
  std::int64_t sent_at = 0;
  // Kept by the store: more than max_log_recipients were given and only
  // the first ones were kept (a "was X a recipient" answer is then unsure).
  bool recipients_truncated = false;
};

// The volume anomalies' window: an account's messages sent in the last
// kVolumeWindow seconds, (now - kVolumeWindow, now].
constexpr std::int64_t kVolumeWindow = 3600;

// What the store keeps of the account's window for the volume anomalies,
// as it stands with one more message (OutboundLog::record, ::volume).
struct Volume {
  // Distinct recipients in the window, this message's included; counted
  // up to max_recipients_per_hour + 1 kept ones. XXX past that, a recipient
  // not kept counts as new again (the account is past the bound anyway).
  std::uint64_t recipients = 0;
  bool new_recipient = false;  // this message reaches one the window did not hold
  // For the attachment hash of this message sent the most: the messages of
  // the window carrying it (at most max(max_recipients_per_hour,
  // max_same_attachment_per_hour) + 1, newest first), counted as unrelated
  // threads: this message, then each one sharing no recipient with those
  // counted so far; the count stops at max_same_attachment_per_hour + 1
  // (a burst), so later rows are not read. 0 without attachments.
  std::uint64_t threads = 0;
};

struct Recorded {
  std::uint64_t dropped = 0;  // old records dropped for room (max_log_entries)
  Volume volume;
};

// When an outbound bookkeeping write (a log record, an incident count) must
// be committed. `now`: before the call returns. `may_wait`: other messages
// are in progress and will write too; SQLite may commit it with theirs, at
// most [state] outbound_commit_ms later (until then other processes do not
// see it and a crash loses it). Redis commits every write at once.
enum class Commit { now, may_wait };

class OutboundLog {
 public:
  virtual ~OutboundLog() = default;
  // Run for every outbound message that goes out: logs it (recipients past
  // max_log_recipients dropped), drops the oldest records beyond
  // max_log_entries, when the account has an incident moves its last_sent
  // and sent_since on, and adds it to the account's window (its
  // recipients, and per attachment hash its logged recipients), returning
  // the window with it. One transaction (SQLite) or one round trip (Redis).
  virtual Result<Recorded> record(const OutboundRecord& r, const OutboundSettings& s, Commit c = Commit::now) = 0;
  // The window as record() would answer it, writing nothing: for a message
  // that does not go out. Only account, recipients, attachment_hashes and
  // sent_at are read.
  virtual Result<Volume> volume(const OutboundRecord& r, const OutboundSettings& s) = 0;
  // Drops window entries older than the window at `now` (an account that
  // stopped sending leaves its last hour behind; Redis expires them).
  virtual Status prune_volume(std::int64_t now) = 0;
  // "Did we send it, to whom": the records with this Message-ID, newest first, at most `limit`.
  virtual Result<std::vector<OutboundRecord>> find(std::string_view message_id, std::size_t limit) = 0;
  // The account's records with sent_at >= since, newest first, at most `limit`.
  virtual Result<std::vector<OutboundRecord>> by_account(std::string_view account, std::int64_t since,
                                                          std::size_t limit) = 0;
  // Deletes records with sent_at < before; returns how many.
  virtual Result<std::uint64_t> purge(std::int64_t before) = 0;
};

// A flagged outbound message, as an incident counts it.
struct FlaggedMessage {
  std::string account;
  std::int64_t at = 0;
  bool malicious = false;  // else suspicious
  std::string queue_id;
  std::vector<std::string> recipients;         // none empty or with '\n'
  std::vector<std::string> findings;           // finding type names (volume anomalies too), no '\n'
  std::vector<std::string> attachment_hashes;  // no '\n'
};

// An account's incident: opened by its first flagged outbound message.
struct Incident {
  std::string account;
  std::int64_t first_seen = 0, last_seen = 0;  // first and last flagged outbound message
  std::uint64_t messages = 0, malicious = 0;   // flagged messages; malicious ones among them
  std::uint64_t recipients = 0, domains = 0;   // distinct, over the flagged messages
  bool recipients_capped = false;              // max_incident_recipients reached: counts are lower bounds
  std::vector<std::string> findings, attachment_hashes, queue_ids;  // distinct, sorted, max_incident_list each
  std::int64_t last_sent = 0;      // the account's last outbound message since the incident opened
  std::uint64_t sent_since = 0;    // its outbound messages (flagged or not) since then
  std::int64_t frozen_at = 0;      // 0 = never frozen
  std::string frozen_why;
  std::int64_t unfrozen_at = 0;    // 0 = not unfrozen since
  std::string unfrozen_by;
};

// The flagged messages of an account within the freeze window.
struct FlagCounts {
  std::uint64_t malicious = 0;
  std::uint64_t suspicious = 0;
};

// Counted for a local address: a bounce for mail we never sent
// (backscatter) or inbound mail forging one of our addresses.
enum class AddressEvent { backscatter, spoofed_sender };
std::string_view to_string(AddressEvent e);
struct AddressCount {
  AddressEvent event = AddressEvent::backscatter;
  std::string address;  // "@domain" for addresses past max_counter_addresses
  std::uint64_t count = 0;
  std::int64_t first_at = 0, last_at = 0;
};

class IncidentStore {
 public:
  virtual ~IncidentStore() = default;
  // Opens or updates the account's incident with one flagged message and
  // returns its flagged messages in (m.at - freeze_window, m.at], this one
  // included, for decide_freeze(). Code::limit (nothing written) when
  // max_incidents accounts have one and this account has none.
  virtual Result<FlagCounts> flag(const FlaggedMessage& m, const OutboundSettings& s, Commit c = Commit::now) = 0;
  virtual Result<Incident> get(std::string_view account) = 0;  // not_found when none
  // Incidents whose last flagged message or last sent message is at or
  // after `since`, by first_seen, at most `limit`.
  virtual Result<std::vector<Incident>> list(std::int64_t since, std::size_t limit) = 0;
  // Counts one event for a local address (past max_counter_addresses
  // distinct addresses, new ones count under "@domain").
  virtual Status count(AddressEvent e, std::string_view address, std::int64_t at, const OutboundSettings& s) = 0;
  // Addresses with an event at or after `since`, most counted first, at most `limit`.
  virtual Result<std::vector<AddressCount>> counts(std::int64_t since, std::size_t limit) = 0;
  // Deletes incidents of accounts not frozen whose last flagged and last
  // sent message are before `before`, and address counts last seen before it.
  virtual Result<std::uint64_t> purge(std::int64_t before) = 0;
};

struct FreezeRecord {
  std::string account;
  std::string why;
  std::int64_t at = 0;
};

// Freezes are never dropped for room: the caller freezes only an account
// whose flag() succeeded, and purge() keeps the incident of a frozen
// account, so max_incidents bounds them too.
class FreezeStore {
 public:
  virtual ~FreezeStore() = default;
  // True when the account is frozen now; false when it was already (the
  // first reason and time stay). Also notes it on the account's incident.
  virtual Result<bool> freeze(std::string_view account, std::string_view why, std::int64_t at) = 0;
  // The hot path, run for every outbound message: one indexed lookup
  // (SQLite) or one round trip (Redis). Empty when not frozen.
  virtual Result<std::optional<FreezeRecord>> is_frozen(std::string_view account) = 0;
  // False when it was not frozen. Notes who and when on the incident.
  virtual Result<bool> unfreeze(std::string_view account, std::string_view by, std::int64_t at) = 0;
  virtual Result<std::vector<FreezeRecord>> list_frozen(std::size_t limit) = 0;  // oldest first
};

// The freeze rule: freeze when the malicious count reaches
// freeze_after_malicious, or malicious + suspicious reaches
// freeze_after_suspicious (0 = never on that count). `why` names the rule
// for the freeze record; "" when no freeze.
struct FreezeDecision {
  bool freeze = false;
  std::string why;
};
FreezeDecision decide_freeze(const FlagCounts& in_window, const OutboundSettings& s);

// Shared by the backends: the checks the outbound section makes before writing.
Status check_account(std::string_view account);  // non-empty, no '\n'
Status check_outbound(const OutboundRecord& r);
Status check_flagged(const FlaggedMessage& m);
// The first max_log_recipients recipients, joined as the log stores them.
std::string logged_recipients(const OutboundRecord& r, const OutboundSettings& s);
// Volume: the recipients bound kept per account, and the most messages per
// attachment hash read.
std::uint64_t volume_recipient_cap(const OutboundSettings& s);
std::uint64_t volume_hash_rows(const OutboundSettings& s);
// Where Volume::threads stops counting: max_same_attachment_per_hour + 1.
std::uint64_t volume_thread_stop(const OutboundSettings& s);
// Volume::threads for one hash: this message's recipients, then the logged
// recipient lists of the window's messages carrying it, newest first, one
// add() each until done().
class UnrelatedThreads {
 public:
  UnrelatedThreads(const std::vector<std::string>& recipients, std::uint64_t stop);
  void add(const std::vector<std::string>& earlier);
  bool done() const { return threads_ >= stop_; }
  std::uint64_t threads() const { return threads_; }

 private:
  std::unordered_set<std::string> seen_;
  std::uint64_t threads_ = 1;
  std::uint64_t stop_;
};

// ---- the store -------------------------------------------------------------

class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual std::string_view backend() const = 0;  // "sqlite" or "redis"
  virtual Status ping() = 0;  // reachable and usable now
  // Commits the bookkeeping writes that wait for their batch (Commit::
  // may_wait): before the daemon exits. Redis has none.
  virtual Status flush() = 0;
  virtual PendingStore& pending() = 0;
  virtual LockStore& locks() = 0;
  virtual OutboundLog& outbound_log() = 0;
  virtual IncidentStore& incidents() = 0;
  virtual FreezeStore& freezes() = 0;
};

// Opens the store [state] names. SQLite: creates the file (0600, parent
// directory 0700 when missing) and its tables. Redis: connects and loads the
// scripts; when that fails the store is still returned, reports
// Code::unavailable on each call and tries to reconnect on the next one, so a
// Redis restart heals without restarting emogate. Errors: a bad setting, or
// a SQLite file that cannot be opened.
Result<std::unique_ptr<StateStore>> open_state_store(const StateSettings& settings);

// What `emogate check` says about [state], without creating anything: the
// SQLite file's directory can hold it and an existing file opens as a store;
// Redis answers PING. Empty when fine.
std::vector<std::string> check_state_store(const StateSettings& settings);

// Shared by the backends: the checks put() makes before writing.
Status check_record(const PendingRecord& r, std::string_view message, const PutBounds& b);
bool valid_record_id(std::string_view id);
bool valid_name(std::string_view name);  // lock names, host ids, owners: same alphabet as ids
bool shares_recipient(const std::vector<std::string>& a, const std::vector<std::string>& b);
std::string join_recipients(const std::vector<std::string>& r);  // '\n'-separated
std::vector<std::string> split_recipients(std::string_view joined);

}  // namespace emogate::state
