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

}  // namespace emogate
