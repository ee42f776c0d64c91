// SYLK files: records are lines "TYPE;Ffield;Ffield...", a literal ';' in a
// field is written ";;". C records carry a cell's formula in their E field,
// NN records define names.
// Trusted input: none — one linear pass over the
// text, output bounded by max_text.
#include "common/bytes.h"
#include "formats/xls/biff.h"

namespace emogate::xlm {
namespace {

// Splits one record into fields, undoing ";;" escapes.
std::vector<std::string> fields(std::string_view line) {
  std::vector<std::string> out(1);
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] != ';') {
      out.back() += line[i];
    } else if (i + 1 < line.size() && line[i + 1] == ';') {
      out.back() += ';';
      ++i;
    } else {
      out.emplace_back();
    }
  }
  return out;
}

}  // namespace

bool is_sylk(std::string_view b) { return b.starts_with("ID;P"); }

XlmSummary parse_sylk(std::string_view text, std::size_t max_text) {
  XlmSummary s;
  MacroSheet sheet;
  sheet.name = "SYLK";
  std::string row = "1", col = "1";
  std::size_t pos = 0;
  while (pos < text.size() && sheet.text.size() < max_text) {
    std::size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    auto f = fields(text.substr(pos, end - pos));
    pos = end + 1;
    if (f[0] == "C") {
      std::string formula, value;
      for (std::size_t i = 1; i < f.size(); ++i) {
        if (f[i].empty()) continue;
        std::string v = f[i].substr(1);
        switch (f[i][0]) {
          case 'Y': row = v; break;
          case 'X': col = v; break;
          case 'E': formula = v; break;
          case 'K': value = v; break;
        }
      }
      if (!formula.empty()) {
        note_functions(formula, s.functions);
        sheet.text += "R" + row + "C" + col + ": =" + formula + "\n";
      } else if (value.size() > 1 && value.front() == '"') {
        sheet.text += "R" + row + "C" + col + ": " + value + "\n";
      }
    } else if (f[0] == "NN") {
      std::string name, expr;
      for (std::size_t i = 1; i < f.size(); ++i) {
        if (f[i].size() < 1) continue;
        if (f[i][0] == 'N') name = f[i].substr(1);
        else if (f[i][0] == 'E') expr = f[i].substr(1);
      }
      if (auto_exec_name(name)) s.auto_names.push_back(name);
      s.names_text += "Name " + name + ": =" + expr + "\n";
    }
  }
  // CHAR is also an ordinary worksheet function; everything else noted is
  // macro-only.
  bool macro = !s.auto_names.empty();
  for (auto& fn : s.functions) macro |= fn != "CHAR";
  if (!macro) return {};
  scan_keywords(sheet.text, s.keywords);
  scan_keywords(s.names_text, s.keywords);
  s.sheets.push_back(std::move(sheet));
  return s;
}

}  // namespace emogate::xlm
