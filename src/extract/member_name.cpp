// Safe child names for archive members: see member_name.h. Trusted input: none.
#include "extract/member_name.h"

#include <iconv.h>

#include <vector>

namespace emogate {

namespace {
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size() || (len == 2 && b < 0xC2)) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}
}  // namespace

std::string legacy_name_to_utf8(std::string_view raw) {
  if (valid_utf8(raw)) return std::string(raw);
  iconv_t cd = iconv_open("UTF-8", "CP932");
  if (cd == reinterpret_cast<iconv_t>(-1)) return {};
  std::string in(raw.substr(0, 4096));
  std::string out(in.size() * 3 + 4, '\0');
  char* ip = in.data();
  char* op = out.data();
  std::size_t il = in.size(), ol = out.size();
  bool ok = iconv(cd, &ip, &il, &op, &ol) != static_cast<std::size_t>(-1) && il == 0;
  iconv_close(cd);
  if (!ok) return {};
  out.resize(out.size() - ol);
  // CP437 names (box drawing, accents) often convert too, but into control
  // characters; those are not Japanese names.
  for (char c : out)
    if (static_cast<unsigned char>(c) < 0x20) return {};
  return out;
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
