// The human-readable form of a scan report that `emogate scan` prints:
// "path: verdict (n findings)", then one indented line per finding and error.
// Trusted input: none (names and details come from the scanned mail).
#pragma once

#include <ostream>

#include "emogate/report.h"

namespace emogate {

void print_report_text(const Report& r, std::ostream& out);

}  // namespace emogate
