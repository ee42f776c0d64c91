// Reporting of Excel 4.0 macros: one `xlm_macro` finding per workbook and one
// derived text child per macro sheet.
// Trusted input: none.
#include "engine/xlm_findings.h"

#include "engine/types.h"
#include "common/text.h"

namespace emogate::xlm {
namespace {

std::string safe_name(std::string_view sheet) {
  std::string out;
  for (char c : sheet) out += (c == '/' || c == '\\' || (c >= 0 && c < 0x20)) ? '_' : c;
  if (out.empty()) out = "sheet";
  return out;
}

}  // namespace

std::string describe(const XlmSummary& s) {
  std::string out;
  for (const auto& ms : s.sheets) {
    if (!out.empty()) out += ", ";
    out += "sheet '" + ms.name + "' " + std::string(state_name(ms.state));
  }
  if (!s.auto_names.empty()) out += "; auto-open names: " + join(s.auto_names, ", ");
  if (!s.functions.empty()) out += "; functions: " + join(s.functions, ", ");
  if (!s.keywords.empty()) out += "; strings: " + join(s.keywords, ", ");
  return out;
}

bool is_malicious(const XlmSummary& s) {
  if (!s.auto_names.empty()) return true;
  for (const auto& ms : s.sheets)
    if (ms.state == kVeryHidden) return true;
  return false;
}

void report(ScanContext& ctx, const Object& where, const Object& text_parent,
            const XlmSummary& s) {
  if (s.sheets.empty()) return;
  std::optional<Verdict> v;
  if (is_malicious(s)) v = Verdict::malicious;
  ctx.add_finding(FindingType::xlm_macro, where, describe(s), v);
  bool first = true;
  for (const auto& ms : s.sheets) {
    if (!ctx.can_add_child(text_parent)) break;
    std::string text = "Macro sheet '" + ms.name + "' (" + std::string(state_name(ms.state)) + ")\n";
    if (first) text += s.names_text;
    text += ms.text;
    first = false;
    ChildSpec spec;
    spec.name = "XLM/" + safe_name(ms.name) + ".txt";
    spec.type = tag::xlm_formulas;
    spec.derived = true;
    spec.provenance = "Excel 4.0 macro sheet formulas";
    ctx.add_child(text_parent, std::move(spec), std::string_view(text));
  }
}

}  // namespace emogate::xlm
