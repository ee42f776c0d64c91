// The [macros] allow-list, a verdict decision the engine makes once a scan
// has collected its findings: the vba_macro finding of a VBA project whose
// hash is listed, or of any project mailed by a listed sender domain, asks
// for clean and says why. The VBA module only states each project and its
// hash (ScanContext::add_macro_project); it never decides.
// Trusted input: the config and the envelope sender (from the MTA).
#pragma once

#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"
#include "engine/context.h"

namespace emogate {

void apply_macro_allow_list(const MacroSettings& macros, const Envelope& env,
                            const std::vector<ScanContext::MacroProject>& projects, std::vector<Finding>& findings);

}  // namespace emogate
