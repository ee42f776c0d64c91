// VBA keyword analysis (see vba_keywords.h).
// Trusted input: none — the
// source text comes from a hostile document; scanning is linear per keyword.
#include "formats/vba/keywords.h"

#include "common/text.h"

#include <algorithm>
#include <cctype>

namespace emogate::vba {
namespace {

struct Keyword {
  const char* text;  // matched case-insensitively on identifier boundaries
  const char* label;
};

// Procedure names Office runs without the user asking (Word, Excel,
// PowerPoint, Access-style AutoExec).
constexpr Keyword kAutoExec[] = {
    {"AutoExec", "AutoExec"},           {"AutoOpen", "AutoOpen"},
    {"Auto_Open", "Auto_Open"},         {"AutoClose", "AutoClose"},
    {"Auto_Close", "Auto_Close"},       {"AutoExit", "AutoExit"},
    {"AutoNew", "AutoNew"},             {"Document_Open", "Document_Open"},
    {"Document_Close", "Document_Close"}, {"Document_New", "Document_New"},
    {"Document_BeforeClose", "Document_BeforeClose"}, {"DocumentOpen", "DocumentOpen"},
    {"DocumentBeforeClose", "DocumentBeforeClose"}, {"NewDocument", "NewDocument"},
    {"Workbook_Open", "Workbook_Open"},  {"Workbook_Activate", "Workbook_Activate"},
    {"Workbook_BeforeClose", "Workbook_BeforeClose"}, {"Workbook_Close", "Workbook_Close"},
    {"Workbook_Deactivate", "Workbook_Deactivate"}, {"App_WorkbookOpen", "App_WorkbookOpen"},
    {"Presentation_Open", "Presentation_Open"}, {"OnSlideShowPageChange", "OnSlideShowPageChange"},
};

// ActiveX control events that fire on open (control name + suffix).
constexpr const char* kActiveXEvents[] = {"_Layout",    "_Painted",  "_Painting",
                                          "_GotFocus",  "_LostFocus", "_MouseHover",
                                          "_Resize",    "_Initialize", "_DocumentComplete"};

constexpr Keyword kWrite[] = {
    {"ADODB.Stream", "ADODB.Stream"}, {"SaveToFile", "SaveToFile"}, {"FileCopy", "FileCopy"},
    {"CopyFile", "CopyFile"},         {"MoveFile", "MoveFile"},     {"CreateTextFile", "CreateTextFile"},
    {"OpenTextFile", "OpenTextFile"}, {"Kill", "Kill"},             {"CopyHere", "CopyHere"},
    {"SaveAs", "SaveAs"},             {"SaveAs2", "SaveAs2"},       {"WriteText", "WriteText"},
};

constexpr Keyword kExecute[] = {
    {"Shell", "Shell"},                   {"WScript.Shell", "WScript.Shell"},
    {"Shell.Application", "Shell.Application"}, {"ShellExecute", "ShellExecute"},
    {"ShellExecuteA", "ShellExecute"},    {"CreateObject", "CreateObject"},
    {"GetObject", "GetObject"},           {"CallByName", "CallByName"},
    {"Run", "Run"},                       {"Win32_Process", "Win32_Process"},
    {"winmgmts", "winmgmts"},             {"MacScript", "MacScript"},
    {"ExecuteExcel4Macro", "ExecuteExcel4Macro"}, {"CreateProcessA", "CreateProcess"},
    {"CreateProcess", "CreateProcess"},   {"WinExec", "WinExec"},
    {"cmd.exe", "cmd.exe"},               {"wscript.exe", "wscript.exe"},
    {"mshta", "mshta"},                   {"rundll32", "rundll32"},
    {"regsvr32", "regsvr32"},             {"Schedule.Service", "Schedule.Service"},
    {"ExecQuery", "ExecQuery"},           {"SendKeys", "SendKeys"},
    {"FollowHyperlink", "FollowHyperlink"}, {"CreateThread", "CreateThread"},
    {"VirtualAlloc", "VirtualAlloc"},     {"RtlMoveMemory", "RtlMoveMemory"},
    {"EnumSystemCodePagesW", "EnumSystemCodePages callback"},
};

constexpr Keyword kDownload[] = {
    {"URLDownloadToFile", "URLDownloadToFile"}, {"URLDownloadToFileA", "URLDownloadToFile"},
    {"XMLHTTP", "XMLHTTP"},                 {"Microsoft.XMLHTTP", "XMLHTTP"},
    {"MSXML2.XMLHTTP", "XMLHTTP"},          {"MSXML2.ServerXMLHTTP", "ServerXMLHTTP"},
    {"WinHttpRequest", "WinHttpRequest"},   {"InternetOpenUrl", "InternetOpenUrl"},
    {"Net.WebClient", "Net.WebClient"},     {"DownloadFile", "DownloadFile"},
    {"DownloadString", "DownloadString"},   {"powershell", "powershell"},
    {"bitsadmin", "bitsadmin"},             {"certutil", "certutil"},
    {"http", "URL"},                        {"https", "URL"},
};

bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Code with comments blanked (' outside a string literal, and Rem lines);
// string literals kept. Lower-cased for matching.
std::string code_only(std::string_view src) {
  std::string out;
  out.reserve(src.size());
  bool in_string = false, in_comment = false, line_start = true;
  for (std::size_t i = 0; i < src.size(); ++i) {
    char c = src[i];
    if (c == '\r' || c == '\n') {
      in_string = in_comment = false;
      line_start = true;
      out += '\n';
      continue;
    }
    if (line_start && !std::isspace(static_cast<unsigned char>(c))) {
      line_start = false;
      if (src.size() - i >= 4 && ascii_lower(src.substr(i, 3)) == "rem" &&
          std::isspace(static_cast<unsigned char>(src[i + 3])))
        in_comment = true;
    }
    if (in_comment) continue;
    if (c == '"') in_string = !in_string;
    if (c == '\'' && !in_string) {
      in_comment = true;
      continue;
    }
    out += ascii_lower(c);
  }
  return out;
}

// `longer`: lower-cased keywords that contain this one ("wscript.shell" for
// "shell"); an occurrence inside one of them is that keyword's, not ours.
bool contains_word(const std::string& hay, std::string_view needle_lc,
                   const std::vector<std::string>& longer = {}) {
  std::size_t pos = 0;
  while ((pos = hay.find(needle_lc, pos)) != std::string::npos) {
    const bool before = pos == 0 || !ident_char(hay[pos - 1]);
    const std::size_t end = pos + needle_lc.size();
    // "Shell" must not match "ShellExecute", but may be followed by "(" or "$".
    const bool after = end >= hay.size() || !ident_char(hay[end]);
    bool inside = false;
    for (const auto& l : longer) {
      const std::size_t j = l.find(needle_lc);
      inside |= j != std::string::npos && pos >= j && hay.compare(pos - j, l.size(), l) == 0;
    }
    if (before && after && !inside) return true;
    pos = end;
  }
  return false;
}

void add_unique(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

struct Prepared {
  std::string text;                 // lower-cased
  std::vector<std::string> longer;  // table keywords containing this one
  const char* label;
};

template <std::size_t N>
std::vector<Prepared> prepare(const Keyword (&table)[N]) {
  std::vector<Prepared> out;
  for (const auto& k : table) {
    Prepared p{ascii_lower(k.text), {}, k.label};
    for (const auto& other : table) {
      std::string o = ascii_lower(other.text);
      if (o.size() > p.text.size() && o.find(p.text) != std::string::npos) p.longer.push_back(std::move(o));
    }
    out.push_back(std::move(p));
  }
  return out;
}

void match(const std::string& code, const std::vector<Prepared>& table, std::vector<std::string>& out) {
  for (const auto& k : table)
    if (contains_word(code, k.text, k.longer)) add_unique(out, k.label);
}

// "Open <path> For Output|Append|Binary|Random" on one statement line.
bool open_for_write(const std::string& code) {
  std::size_t pos = 0;
  while ((pos = code.find("open ", pos)) != std::string::npos) {
    if (pos == 0 || !ident_char(code[pos - 1])) {
      std::size_t eol = code.find('\n', pos);
      std::string line = code.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
      for (const char* mode : {" for output", " for append", " for binary", " for random"})
        if (line.find(mode) != std::string::npos) return true;
    }
    pos += 5;
  }
  return false;
}

std::size_t count_calls(const std::string& code, std::string_view fn) {
  std::size_t n = 0, pos = 0;
  while ((pos = code.find(fn, pos)) != std::string::npos) {
    const bool before = pos == 0 || !ident_char(code[pos - 1]);
    std::size_t end = pos + fn.size();
    if (end < code.size() && (code[end] == 'w' || code[end] == 'b')) ++end;  // ChrW, ChrB
    if (end < code.size() && code[end] == '$') ++end;
    while (end < code.size() && code[end] == ' ') ++end;
    if (before && end < code.size() && code[end] == '(') ++n;
    pos += fn.size();
  }
  return n;
}

// Longest run of base64 alphabet inside string literals.
std::size_t longest_base64_literal(const std::string& code) {
  std::size_t best = 0, run = 0;
  bool in_string = false;
  for (char c : code) {
    if (c == '"' || c == '\n') {
      in_string = c == '"' ? !in_string : false;
      run = 0;
      continue;
    }
    // Lower-cased already: the alphabet is letters, digits, + / =.
    if (in_string && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) {
      best = std::max(best, ++run);
    } else {
      run = 0;
    }
  }
  return best;
}

// Appends "label: a, b" (after "; " when `out` has text already).
void append_labelled(std::string& out, const char* label, const std::vector<std::string>& items) {
  if (items.empty()) return;
  if (!out.empty()) out += "; ";
  out += label;
  out += ": ";
  out += join(items, ", ");
}

}  // namespace

std::string KeywordReport::detail() const {
  std::string out;
  append_labelled(out, "autoexec", autoexec);
  append_labelled(out, "write", write);
  append_labelled(out, "execute", execute);
  append_labelled(out, "download", download);
  append_labelled(out, "obfuscation", obfuscation);
  return out;
}

KeywordReport analyze_vba(const std::vector<std::string_view>& modules) {
  std::string code;
  for (auto m : modules) {
    code += code_only(m);
    code += '\n';
  }
  static const std::vector<Prepared> autoexec = prepare(kAutoExec), write = prepare(kWrite),
                                     execute = prepare(kExecute), download = prepare(kDownload);
  KeywordReport r;
  match(code, autoexec, r.autoexec);
  // ActiveX events: "sub <control><suffix>(".
  for (const char* suffix : kActiveXEvents) {
    std::string s = ascii_lower(suffix);
    std::size_t pos = 0;
    while ((pos = code.find(s, pos)) != std::string::npos) {
      std::size_t end = pos + s.size();
      std::size_t start = pos;
      while (start > 0 && ident_char(code[start - 1])) --start;
      const bool defined = start >= 4 && code.compare(start - 4, 4, "sub ") == 0;
      if (defined && start < pos && (end >= code.size() || !ident_char(code[end]))) {
        add_unique(r.autoexec, "ActiveX event *" + std::string(suffix));
        break;
      }
      pos = end;
    }
  }
  if (open_for_write(code)) add_unique(r.write, "Open For Output/Append/Binary");
  // "Declare [PtrSafe] Function/Sub name Lib "kernel32"": direct Windows API calls.
  for (std::size_t pos = code.find("declare "); pos != std::string::npos; pos = code.find("declare ", pos + 8)) {
    const std::size_t eol = code.find('\n', pos);
    if ((pos == 0 || !ident_char(code[pos - 1])) && code.substr(pos, eol - pos).find(" lib ") != std::string::npos) {
      add_unique(r.execute, "Declare Lib (Windows API)");
      break;
    }
  }
  match(code, write, r.write);
  match(code, execute, r.execute);
  match(code, download, r.download);
  const std::size_t chr = count_calls(code, "chr");
  // Density: building strings from character codes is rare in honest macros.
  if (chr >= 20 && chr * 1000 >= code.size())  // at least one per KB
    r.obfuscation.push_back("Chr() x" + std::to_string(chr));
  if (contains_word(code, "strreverse")) r.obfuscation.push_back("StrReverse");
  if (longest_base64_literal(code) >= 64) r.obfuscation.push_back("long base64 string");
  return r;
}

}  // namespace emogate::vba
