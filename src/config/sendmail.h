// Sendmail's side of the milter, as `emogate check` reads it: the mail
// filters of a sendmail.cf (`X` lines: S= socket, F= flags, T= timeouts)
// and `O InputMailFilters`, and what in them keeps mail from reaching
// emogate or lets it through unscanned: no filter reaching emogate's
// socket, a filter Sendmail does not use (not in InputMailFilters), no
// F=T or F=R (then Sendmail passes mail unscanned while emogate is down),
// and an E: timeout (end of message) not longer than one message can cost
// emogate.
// Only text is read; nothing runs and no name is resolved.
// Trusted input: an admin file, read at most mta::kMaxFileBytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/mta_check.h"

namespace emogate::sendmail {

struct Filter {
  std::string name;
  std::string socket;    // S=
  std::string flags;     // F=
  std::string timeouts;  // T=, e.g. "C:10s;S:10s;R:10s;E:5m"
  std::size_t line = 0;
};

struct Cf {
  std::vector<Filter> filters;
  std::vector<std::string> input_filters;  // O InputMailFilters, in order
  std::size_t input_line = 0;              // 0: the option is not set
  std::string max_message_size;            // O MaxMessageSize, as written
  std::size_t max_message_size_line = 0;   // 0: not set (no limit)
};
Cf parse_sendmail_cf(std::string_view text);

// One timeout of a T= value ('C', 'S', 'R', 'W' or 'E'), as written; ""
// when not set.
std::string timeout_of(std::string_view timeouts, char which);
// Sendmail's time values: a number with s, m, h, d or w, or several
// ("1h30m"); a bare number is `default_unit`.
std::optional<std::uint64_t> parse_seconds(std::string_view value, char default_unit);

// Report::candidates counts the filters in InputMailFilters. A
// MaxMessageSize is compared only where the file sets one (Sendmail's
// default, no limit, is left to emogate's 552).
mta::Report check(const std::string& path, const mta::Milter& ours);
mta::Report check_text(std::string_view text, const std::string& path, const mta::Milter& ours);

}  // namespace emogate::sendmail
