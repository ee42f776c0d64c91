// `emogate quarantine`: the administrator's command over the quarantine
// store (list, show, release, delete).
// Trusted input: the command line and the configuration.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "emogate/config.h"

namespace emogate {

// `emogate quarantine list|show ID [--message]|release ID [--by NAME] [--keep]|delete ID`.
// Returns the process exit code.
int quarantine_main(const Config& config, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err);

// Who runs an admin command, for the records it leaves: SUDO_USER, else
// the login name of the real uid (shared with `emogate account unfreeze`).
std::string current_user();

}  // namespace emogate
