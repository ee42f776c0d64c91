// Safe child names for archive members: see member_name.h.
// Trusted input: none.
#include "formats/archive/member_name.h"

#include <vector>

#include "common/text.h"
#include "formats/mime/charset.h"

namespace emogate {

std::string legacy_name_to_utf8(std::string_view raw) {
  if (is_valid_utf8(raw)) return std::string(raw);
  std::string out = to_utf8(raw.substr(0, 4096), "cp932");
  // Bytes CP932 does not define come back as U+FFFD; CP437 names (box
  // drawing, accents) often convert too, but into control characters:
  // neither is a Japanese name.
  if (out.find("\xEF\xBF\xBD") != std::string::npos) return {};
  for (char c : out)
    if (static_cast<unsigned char>(c) < 0x20) return {};
  return out;
}

MemberName decode_member_name(std::string_view raw, std::string_view fallback) {
  std::string utf8 = legacy_name_to_utf8(raw);
  if (!utf8.empty() || raw.empty()) return sanitize_member_name(utf8, fallback);
  // Neither UTF-8 nor CP932: the 8-bit bytes are shown as %XX, so the name
  // (and its extension, which the type checks read) survives.
  const std::string escaped = percent_encode(raw, [](unsigned char c) { return c < 0x80 && c != '%'; });
  MemberName m = sanitize_member_name(escaped, fallback);
  m.undecodable = true;
  m.problem = "name is neither UTF-8 nor CP932 (8-bit bytes shown as %XX)" +
              (m.problem.empty() ? std::string() : ", " + m.problem);
  return m;
}

MemberName sanitize_member_name(std::string_view raw, std::string_view fallback) {
  constexpr std::size_t kMaxName = 255;
  MemberName out;
  std::vector<std::string> problems;
  std::string clean;
  bool control = false;
  for (char c : raw) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F) { control = true; continue; }
    clean += c == '\\' ? '/' : c;  // DOS archivers store backslashes
  }
  if (control) problems.push_back("control bytes (NUL, newline...)");
  if (!clean.empty() && clean[0] == '/') problems.push_back("absolute path");
  if (clean.size() >= 2 && clean[1] == ':') problems.push_back("drive letter");
  std::string joined;
  bool dotdot = false;
  std::size_t start = 0;
  while (start <= clean.size()) {
    std::size_t slash = clean.find('/', start);
    if (slash == std::string::npos) slash = clean.size();
    std::string_view part(clean.data() + start, slash - start);
    if (part == "..") dotdot = true;
    if (!part.empty() && part != "." && part != ".." && !(part.size() == 2 && part[1] == ':')) {
      if (!joined.empty()) joined += '/';
      joined += part;
    }
    start = slash + 1;
  }
  if (dotdot) problems.push_back("\"..\" traversal");
  if (joined.size() > kMaxName) {
    problems.push_back("name of " + std::to_string(raw.size()) + " bytes");
    std::size_t cut = kMaxName;
    while (cut > 0 && (static_cast<unsigned char>(joined[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    joined.resize(cut);
  }
  out.name = joined.empty() ? std::string(fallback) : joined;
  for (std::size_t i = 0; i < problems.size(); ++i) out.problem += (i ? ", " : "") + problems[i];
  return out;
}

}  // namespace emogate
