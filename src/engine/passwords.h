// The passwords the sender printed in this message, for every module that
// opens an encrypted attachment: mined once per scan from the message text
// and the configured list, then cached in the scan's scratch state.
// Trusted input: none (the text is the sender's).
#pragma once

#include <vector>

#include "engine/context.h"
#include "formats/passwords/miner.h"

namespace emogate {

const std::vector<PasswordCandidate>& message_passwords(ScanContext& ctx);

}  // namespace emogate
