// [milter] postfix_config and sendmail_config: what in the MTA's files
// keeps mail from reaching this milter, or lets it pass unscanned
// (config/postfix.h, config/sendmail.h), as lines: per MTA a summary, then
// its warnings, each naming file:line. `emogate check` prints them; the
// daemon logs the warnings when it starts and when it reloads. Warnings
// only, also for a file that cannot be read: the package reads
// /etc/postfix, which a Sendmail host does not have, and starts the daemon
// before the admin points Postfix at it.
// Trusted input: the configuration and the MTA's files (admin input).
#pragma once

#include <string>
#include <vector>

#include "emogate/config.h"

namespace emogate {

struct MtaLine {
  bool warning = false;  // else the summary of one MTA's files
  std::string text;
};

std::vector<MtaLine> check_mta_files(const Config& cfg);

}  // namespace emogate
