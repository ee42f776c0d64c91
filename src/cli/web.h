// `emogate web` (the help desk's web view: checks, binds as root, drops to
// [milter] user, opens the quarantine and state stores, serves) and
// `emogate web-user` (the local accounts of [web] users_file).
// Trusted input: the command line and the configuration; a password comes
// from the administrator's terminal or standard input.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "emogate/config.h"

namespace emogate {

// `emogate web [--config F]`. Returns the exit code (2: configuration).
int web_main(const Config& config, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// `emogate web-user add|passwd|delete NAME`: the password is asked twice on
// a terminal (not echoed), else read as one line of `in`.
int web_user_main(const Config& config, const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                  std::ostream& err);

}  // namespace emogate
