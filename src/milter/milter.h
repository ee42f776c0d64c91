// `emogate milter`: the libmilter daemon for Postfix and Sendmail. Its
// lifecycle is daemon.cpp, the per-message callbacks milter.cpp.
// Trusted input: the configuration.
#pragma once

#include <string>

#include "emogate/config.h"

namespace emogate {

// Opens the socket (as root if started as root), drops to [milter] user,
// serves until SIGTERM/SIGINT (finishing running scans), reloads config and
// rules on SIGHUP. Without `foreground` it detaches from the terminal.
// Returns the process exit code.
int run_milter(const Config& config, const std::string& config_path, bool foreground);

}  // namespace emogate
