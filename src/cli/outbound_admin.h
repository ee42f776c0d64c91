// `emogate account` and `emogate incident`: the administrator's commands
// over the outbound state (frozen accounts, incidents, backscatter and
// spoofed-sender counts), in the state store [state] names.
// Trusted input: the command line and the configuration; every account,
// address, finding and hash printed came from mail and is escaped.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "emogate/config.h"

namespace emogate {

// `emogate account list | unfreeze USER [--by NAME]`. `now` is the clock
// (seconds), passed in so tests control it. Returns the exit code.
int account_main(const Config& config, const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err, std::int64_t now);

// `emogate incident report [--since T] [--account A] [--json] [--lang en|ja]`.
int incident_main(const Config& config, const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err, std::int64_t now);

}  // namespace emogate
