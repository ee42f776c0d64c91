// spoofed_sender findings from sender tricks (sender_findings.h).
// Trusted input: none.
#include "engine/sender_findings.h"

#include <algorithm>

namespace emogate {

Finding sender_finding(const SenderTrick& trick, Verdict verdict) {
  Finding f{FindingType::spoofed_sender, trick.header, trick.detail, verdict};
  f.trick = trick.trick;
  f.sender = trick.sender;
  f.claimed = trick.claimed;
  return f;
}

bool carries_attachment_or_link(const Report& report) {
  if (!report.urls.empty()) return true;
  return std::any_of(report.objects.begin(), report.objects.end(),
                     [](const ObjectSummary& o) { return o.depth > 0 && !o.body && !o.derived; });
}

}  // namespace emogate
