// The passwords the sender printed in this message, for every module that
// opens an encrypted attachment: mined once per scan from the message text
// and the configured list, then cached in the scan's scratch state.
// Passwords supplied from outside the message (ScanOptions::extra_passwords:
// a PPAP password mail's) come first, with their own source.
// Trusted input: none (the text is the sender's).
#pragma once

#include <vector>

#include "engine/context.h"
#include "formats/passwords/miner.h"

namespace emogate {

const std::vector<PasswordCandidate>& message_passwords(ScanContext& ctx);

// Passwords to try before the mined ones, as if they were in the message
// (rank 0, source as given). Call before the scan's first module runs.
void set_external_passwords(ScanContext& ctx, const std::vector<SourcedPassword>& passwords);

}  // namespace emogate
