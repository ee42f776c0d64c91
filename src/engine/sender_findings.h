// The `spoofed_sender` finding of a sender trick (formats/sender), with its
// facts in the finding's structured fields, and the thread-hijack condition
// a scanned message's report answers: does it carry an attachment or a link.
// Shared by the sender module and the milter's checks that need the state
// store (own domain from outside, thread hijack).
// Trusted input: none (the trick holds the sender's header text).
#pragma once

#include "emogate/report.h"
#include "formats/sender/sender.h"

namespace emogate {

// The finding's path is the header that shows the trick ("From",
// "In-Reply-To", "References").
Finding sender_finding(const SenderTrick& trick, Verdict verdict);

// A file the message carries (an attachment, an embedded message, a
// uuencoded block: any object below the message that is not one of its text
// bodies or derived from one), or a URL found anywhere in it.
bool carries_attachment_or_link(const Report& report);

}  // namespace emogate
