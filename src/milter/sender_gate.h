// The milter's inbound sender checks that need the state store. The
// sandboxed scan workers read the facts (the `sender` module fills
// Report::sender: From address, In-Reply-To and References, what a bounce
// says); this process, after the scan and before the decision, asks the
// store about them: our own domain in From from outside without
// authentication and a reply inside one of our threads from an address the
// thread never went to with an attachment or link (thread hijack) become
// `spoofed_sender` findings on the report; a bounce for a Message-ID we never
// sent is counted as backscatter for the local address it names, and a
// forged local address as spoofed_sender (the counts `emogate incident
// report` prints), once the decision is known and only for a message not
// tempfailed (its client sends it again). A store that cannot answer is an
// error the caller turns into [actions] on_error: never a silent clean.
// Trusted input: the configuration. The report's sender facts come from the
// mail (through a worker), the session facts from the SMTP client.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"
#include "milter/policy.h"
#include "outbound/direction.h"
#include "state/store.h"

namespace emogate {

class MailLog;
class Metrics;
struct MessageLog;

class SenderGate {
 public:
  // `store` null: it could not be opened (`why` says why); every message
  // whose checks need it then gets [actions] on_error. `log` and `metrics`
  // may be null (tests).
  SenderGate(std::unique_ptr<state::StateStore> store, std::string why, MailLog* log, Metrics* metrics);
  // Opens [state] for the gate; a store that cannot be opened gives a gate
  // without one (said in `log`).
  static std::unique_ptr<SenderGate> open(const Config& c, MailLog* log, Metrics* metrics);

  struct Outcome {
    std::string error;               // the store failed (or is not open): on_error
    std::vector<std::string> notes;  // counted, or could not be judged; for the log
    // What the message adds to the incident counts, for count().
    std::vector<std::pair<state::AddressEvent, std::string>> counts;
  };

  // One message as the gate sees it at end of message.
  class Message {
   public:
    Message() = default;
    // Inbound (outbound::direction) with [outbound] local_domains set and a
    // gate: the checks apply. Otherwise every call is a no-op.
    bool inbound() const { return gate_ != nullptr; }
    // Sender checks on for the scan: sender_checks, local domains and names.
    void scan_options(ScanOptions& o) const;
    // After the scan, before the decision (see SenderGate::check); then,
    // with the decision, count(). Outcome::error: the caller applies
    // sender_fail_closed().
    Outcome check(Report& r, std::int64_t now) const;
    std::string count(const Outcome& o, Action decided, std::int64_t now) const;

   private:
    friend class SenderGate;
    SenderGate* gate_ = nullptr;
    const Config* cfg_ = nullptr;
    bool authenticated_ = false;
    bool trusted_network_ = false;
    std::string queue_id_;
  };
  // `gate` may be null (no [outbound] local_domains): the message is then
  // not inbound for these checks. `dir` is the session's
  // outbound::direction() of `facts` (decided once, at MAIL FROM). `cfg`
  // must outlive the Message.
  static Message message(SenderGate* gate, outbound::Direction dir, const outbound::Facts& facts, const Config& cfg,
                         std::string queue_id);

  // The lookups: findings on `r`, the counts to make, notes (logged here).
  Outcome check(Report& r, const Message& m, std::int64_t now);
  // Writes o.counts unless the message is `decided` to be tempfailed: the
  // client sends it again and it would be counted twice. The store's
  // problem, "" when none: the caller applies sender_fail_closed().
  std::string count(const Outcome& o, const Message& m, Action decided, std::int64_t now);

 private:
  std::unique_ptr<state::StateStore> store_;
  std::string why_;
  MailLog* log_;
  Metrics* metrics_;
};

// The decision after a store error in the checks: [actions] on_error unless
// the scan's own decision is stronger; the log line says why (and
// verdict=error when on_error won).
policy::Decision sender_fail_closed(policy::Decision d, const std::string& error, const ActionSettings& actions,
                                    MessageLog& ml);

}  // namespace emogate
