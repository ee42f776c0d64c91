// The [macros] allow-list applied to a scan's findings (allow_list.h).
// Trusted input: the config and the envelope sender (from the MTA).
#include "engine/allow_list.h"

#include <string>

#include "common/text.h"

namespace emogate {

namespace {

// Why the project is allow-listed, or empty.
std::string allow_reason(const MacroSettings& m, const std::string& sha, const Envelope& env) {
  for (const auto& h : m.allow_project_sha256)
    if (ascii_lower(h) == sha) return "allow-listed (project sha256)";
  const auto at = env.sender.rfind('@');
  if (at != std::string::npos) {
    const std::string domain = ascii_lower(env.sender.substr(at + 1));
    for (const auto& d : m.allow_sender_domains)
      if (!domain.empty() && ascii_lower(d) == domain) return "allow-listed (sender domain " + domain + ")";
  }
  return {};
}

}  // namespace

void apply_macro_allow_list(const MacroSettings& macros, const Envelope& env,
                            const std::vector<ScanContext::MacroProject>& projects, std::vector<Finding>& findings) {
  if (macros.allow_project_sha256.empty() && macros.allow_sender_domains.empty()) return;
  for (const auto& p : projects) {
    if (p.finding >= findings.size()) continue;
    Finding& f = findings[p.finding];
    const std::string reason = allow_reason(macros, p.sha256, env);
    if (reason.empty()) continue;
    f.detail += "; " + reason;
    f.verdict = Verdict::clean;
  }
}

}  // namespace emogate
