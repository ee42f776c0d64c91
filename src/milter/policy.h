// Policy: turns a scan result (verdict + findings) and the [actions] config
// into what the milter does to the live message. Pure functions, no I/O, so
// every rule is unit-tested. Finding paths come from attachment names
// chosen by the sender, so everything that ends up in a header, an SMTP
// reply or a log line is escaped here.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"

namespace emogate::policy {

// Strength order used when several rules apply ("strongest action wins"):
// accept < tag < hold < quarantine < tempfail < reject < discard.
// Each step lets less of the message through to the recipient.
int rank(Action a);
Action stronger(Action a, Action b);

struct Decision {
  Action action = Action::accept;
  // Applied after a quarantine store succeeded: discard or hold.
  Action after_quarantine = Action::discard;
  std::string why;  // "verdict=suspicious" or "finding=vba_macro", for logs
  // Headers to add, already folded for smfi_addheader.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string subject_prefix;  // empty = leave Subject alone
  std::string hold_reason;     // for smfi_quarantine (hold / quarantine+hold)
  // SMTP reply for reject / tempfail: code, enhanced status, text ('%' safe).
  std::string rcode, xcode, text;
};

// The decision for a scan that ran to its end. When the report says it is
// incomplete (Report::incomplete: temp storage or an analyser failed),
// [actions] on_error applies if it is stronger than the verdict's action.
// A yara finding whose rule set has a max_action (ActionSettings::
// rule_set_caps) causes at most that action; other findings act as usual.
Decision decide(const Report& report, const ActionSettings& actions,
                Action quarantine_after = Action::discard);
// The decision when no usable scan result exists (error, deadline, queue
// full): [actions] on_error, with `why` as the reason.
Decision decide_error(const ActionSettings& actions, std::string_view why);

// Folds an unstructured header value so every line, the first one counted
// with "Name: ", stays within `width` characters where a break point (space)
// exists, and never above 998 (RFC 5322 2.1.1). A fold is a "\n" inserted
// before an existing space (libmilter's form of CRLF + WSP), so unfolding
// gives back the exact value.
std::string fold_header(std::string_view name, std::string_view value,
                        std::size_t width = 78);

// Makes attacker-chosen text safe for a header or a log line: printable
// US-ASCII stays, every other byte (controls, 8-bit, and '%') becomes %XX.
std::string escape_text(std::string_view s, std::string_view extra = "");

// X-Emogate-Findings value: "type@path, type@path", escaped, at most
// `max_items` entries then "(+N more)".
std::string findings_header(const Report& report, std::size_t max_items = 20);

// Text for smfi_setreply: one line, printable ASCII, '%' doubled, bounded.
std::string reply_text(std::string_view s);

// New Subject value with the prefix in front, unless it is already there.
// `current` is the value as received (may start with a space).
std::string prefixed_subject(std::string_view current, std::string_view prefix);

// A whole stored message (`raw`) with prefixed_subject() applied to its
// first Subject header (its folded value kept as it is), or a Subject of
// just the prefix added in front when the header block has none. For a
// message that leaves emogate later than the milter's own edits (a PPAP
// release). The header block ends at the first empty line.
std::string with_subject_prefix(std::string_view raw, std::string_view prefix);

}  // namespace emogate::policy
