// The milter's side of the outbound watch ([outbound] enabled): at MAIL
// FROM, whether the sending account is frozen (one store lookup); after the
// scan, the outbound log record of the message, which returns the account's
// volume window with it (one more store call), the volume anomalies from
// that window (more than max_recipients_per_hour distinct recipients in an
// hour, or one attachment sent to more than max_same_attachment_per_hour
// unrelated recipient sets), the account's incident for a flagged message,
// and the freeze when the rule says so. Only outbound messages come here: inbound
// mail to a frozen account never asks. A store that cannot answer is
// [actions] on_error for the message (fail closed).
// The gate returns decisions and facts; milter.cpp applies them.
// Trusted input: the configuration; envelope, macros, Message-ID and the
// scan report come from the SMTP client.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"
#include "milter/policy.h"
#include "state/store.h"

namespace emogate {

// The Message-ID header's value as the outbound log keeps it: the first
// <...> without the brackets, else the trimmed value; "" when there is none
// or it cannot be stored (CR, LF, NUL, longer than 998 bytes).
std::string message_id_of(std::string_view header_value);

// The SHA-256 of each file the message carries (depth 1, not a text body,
// not derived), distinct, in report order.
std::vector<std::string> attachment_hashes(const Report& r);

class OutboundGate {
 public:
  // Opens [state]; throws std::runtime_error when it cannot be opened.
  explicit OutboundGate(const Config& c);
  // Over a store already open (tests).
  explicit OutboundGate(std::unique_ptr<state::StateStore> store);
  // Over the PPAP gate's connection, which must outlive this gate: one
  // SQLite connection per process (a second open of the file drops the
  // first one's POSIX locks, and another process could then remove the
  // write-ahead log under it).
  explicit OutboundGate(state::StateStore& shared);

  // What a frozen account's message gets: [outbound] frozen_action, with
  // frozen_reply for reject and tempfail.
  static policy::Decision frozen_decision(const state::FreezeRecord& f, const OutboundSettings& s);

  // At MAIL FROM for an outbound message of `account`: nothing when it may
  // send; frozen_decision() when it is frozen; [actions] on_error when the
  // store cannot answer (`*error` says why). One store lookup.
  std::optional<policy::Decision> at_mail_from(std::string_view account, const Config& cfg, std::string* error);

  struct Message {
    Envelope env;
    std::string account;
    std::string message_id;  // message_id_of() of its header; "" = none
    const Report* report = nullptr;  // null when the scan did not finish
    bool sent = false;       // the decision lets it go out (accept, tag, hold)
    std::int64_t now = 0;
    // may_wait when other messages are in progress: the store may commit
    // this one's records with theirs ([state] outbound_commit_ms).
    state::Commit commit = state::Commit::now;
  };
  struct Outcome {
    bool logged = false;    // an outbound log record was written
    bool flagged = false;   // the account's incident counted it
    bool froze = false;     // this message froze the account
    std::vector<std::string> anomalies;  // "recipient_volume", "attachment_burst"
    std::string freeze_why;
    // For the log as a warning: an incident that could not be opened
    // (max_incidents), a retention purge that failed.
    std::string notice;
    std::string error;      // the store failed: the message gets [actions] on_error
  };
  // After the scan: logs a message that goes out and checks the volume
  // anomalies with the window record() returns (a message that does not go
  // out only reads it), and for a flagged message (or an anomaly) updates the
  // account's incident and freezes it when decide_freeze() says so. Old log
  // records and incidents past `retention` are purged once an hour.
  Outcome after_scan(const Message& m, const OutboundSettings& s);

  // The number of frozen accounts in the store, for the metrics gauge: at
  // most once a minute (other hosts and `emogate account unfreeze` change
  // it); nothing when not due or when the store cannot answer.
  std::optional<std::uint64_t> frozen_accounts_if_due(std::int64_t now, const OutboundSettings& s);

  state::StateStore& store() { return *store_; }

  static std::int64_t now();

 private:
  std::unique_ptr<state::StateStore> owned_;
  state::StateStore* store_ = nullptr;
  std::atomic<std::int64_t> last_purge_{0};
  std::atomic<std::int64_t> last_count_{0};
};

}  // namespace emogate
