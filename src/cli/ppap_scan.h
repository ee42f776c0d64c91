// `emogate scan --ppap-window DURATION A.eml B.eml ...`: offline PPAP
// correlation of messages in the order given, with the pending entries kept
// in memory (no store): a message whose encrypted archive waits for a
// password is reported as such; a later message from the same sender (its
// From address, there being no envelope) to a shared To/Cc recipient whose
// passwords pass the checks gets the waiting message rescanned with that
// password, and that result is printed too. Arrival times are the Date
// headers (a message without one arrives with the previous one).
// Trusted input: the command line; messages are scanned by the caller's
// scan function (worker processes or in-process).
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"

namespace emogate {

// Scans one input with the given options; none (error already printed)
// when the input could not be scanned.
using ScanInput = std::function<std::optional<Report>(const std::string& path, const ScanOptions& opts)>;

// Prints one line or block per report (JSON lines with `json`) and returns
// the scan exit status: 0 every final verdict clean, 1 something flagged
// (a message still waiting at the end counts as flagged), 2 an input failed.
int ppap_correlate(const std::vector<std::string>& inputs, const Config& cfg, bool json, const ScanInput& scan,
                   std::ostream& out);

}  // namespace emogate
