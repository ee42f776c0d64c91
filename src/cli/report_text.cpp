// print_report_text (report_text.h).
// Trusted input: none.
#include "cli/report_text.h"

namespace emogate {

void print_report_text(const Report& r, std::ostream& out) {
  out << r.input << ": " << to_string(r.verdict);
  if (!r.findings.empty()) out << " (" << r.findings.size() << " finding" << (r.findings.size() > 1 ? "s" : "") << ")";
  out << '\n';
  for (const Finding& f : r.findings)
    out << "    " << to_string(f.type) << " [" << to_string(f.verdict) << "] " << f.path << ": " << f.detail
        << '\n';
  for (const std::string& e : r.errors) out << "    error: " << e << '\n';
}

}  // namespace emogate
