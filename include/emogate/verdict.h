// Verdicts and the fixed vocabulary of finding types.
// Pure value types: no I/O, no dependencies beyond the standard library.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace emogate {

// Ordered: a message's verdict is the highest verdict of its findings.
enum class Verdict { clean = 0, suspicious = 1, malicious = 2 };

enum class FindingType {
  vba_macro,
  xlm_macro,
  yara,
  encrypted_archive,
  archive_decrypted,
  encrypted_document,
  dangerous_type,
  limit_exceeded,
  url_blocklisted,
  remote_template,
  embedded_file,
  malformed,
  spoofed_sender,
};

inline constexpr FindingType kAllFindingTypes[] = {
    FindingType::vba_macro,         FindingType::xlm_macro,
    FindingType::yara,              FindingType::encrypted_archive,
    FindingType::archive_decrypted, FindingType::encrypted_document,
    FindingType::dangerous_type,    FindingType::limit_exceeded,
    FindingType::url_blocklisted,   FindingType::remote_template,
    FindingType::embedded_file,     FindingType::malformed,
    FindingType::spoofed_sender,
};

std::string_view to_string(Verdict v);
std::string_view to_string(FindingType t);
std::optional<Verdict> parse_verdict(std::string_view s);
std::optional<FindingType> parse_finding_type(std::string_view s);

}  // namespace emogate
