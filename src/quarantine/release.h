// Releasing a quarantined message: the copy that goes out (the stored
// message behind an X-Emogate-Released header naming who released it) and
// handing it to sendmail for the entry's envelope. Never parses the
// message; the release header is built from printable characters only.
// Trusted input: the sendmail path from the configuration.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quarantine/store.h"

namespace emogate {

// `headers` (name, value; a value may be folded with "\n" + blank, as for
// libmilter) in front of `raw`, with the message's own line ending.
std::string with_headers(std::string_view raw, const std::vector<std::pair<std::string, std::string>>& headers);

// Adds the release header in front of the stored message.
std::string release_copy(std::string_view raw, std::string_view by, std::string_view id,
                         std::int64_t now);

// Runs `sendmail -i -f SENDER -- RCPT...` with `msg` on its standard input;
// a failed write is told on `err`. Returns sendmail's exit status, or -1
// when it could not be run or fed.
int run_sendmail(const std::string& sendmail, const QuarantineMeta& m, const std::string& msg,
                 std::ostream& err);

// Releases entry `m` (as read from `store`) to `recipients` (empty = all
// of its recipients; each must be one of them) on behalf of `by`: the
// release copy goes to sendmail, then the entry is removed when every
// recipient has had it and `keep` is false, else its meta records who
// released it, when, and to whom. Shared by `emogate quarantine release`
// and the web view. Problems are told on `err` (one line each, prefixed
// "emogate: "); never throws.
enum class ReleaseOutcome {
  released,        // sent; entry removed or updated as asked
  bad_recipient,   // a recipient that is not one of the entry's; nothing sent
  no_recipients,   // the entry has none; nothing sent
  sendmail_failed, // sendmail refused or could not run; entry kept as it was
  not_removed,     // sent, but the entry could not be removed or updated
};
ReleaseOutcome release_entry(const QuarantineStore& store, const std::string& sendmail, QuarantineMeta m,
                             const std::vector<std::string>& recipients, std::string_view by, bool keep,
                             std::int64_t now, std::ostream& err);

}  // namespace emogate
