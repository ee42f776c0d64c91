// Keyword analysis of VBA source, in the spirit of mraptor: a macro that runs
// by itself (auto-exec trigger) and writes files or starts programs is
// malicious; anything else is reported with the keywords it uses.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace emogate::vba {

struct KeywordReport {
  std::vector<std::string> autoexec;     // AutoOpen, Document_Open, Workbook_Open, ...
  std::vector<std::string> write;        // Open ... For Output, ADODB.Stream, SaveToFile, ...
  std::vector<std::string> execute;      // Shell, WScript.Shell, CreateObject, Run, ...
  std::vector<std::string> download;     // URLDownloadToFile, XMLHTTP, powershell, ...
  std::vector<std::string> obfuscation;  // "Chr() x42", StrReverse, "base64 string", ...

  // Auto-execution plus a write or an execution: mraptor's rule.
  bool malicious() const { return !autoexec.empty() && (!write.empty() || !execute.empty()); }
  // "autoexec: AutoOpen; execute: Shell, CreateObject" (empty groups left out).
  std::string detail() const;
};

// Analyses the source of all modules of one project together (comments are
// ignored; string literals are kept because payloads hide there).
KeywordReport analyze_vba(const std::vector<std::string_view>& modules);

}  // namespace emogate::vba
