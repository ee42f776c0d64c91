// OOXML relationship targets; see relationships.h.
// Trusted input: none.
#include "formats/ooxml/relationships.h"

#include <vector>

#include "common/text.h"

namespace emogate {
namespace ooxml {

std::string resolve_target(std::string_view rels_path, std::string_view target) {
  std::string base;
  if (!target.empty() && target[0] == '/') {
    target.remove_prefix(1);
  } else {
    // "dir/_rels/part.rels" describes "dir/part": targets are relative to "dir/".
    std::string_view dir = rels_path.substr(0, rels_path.rfind("_rels/") == std::string_view::npos
                                                   ? 0
                                                   : rels_path.rfind("_rels/"));
    base = std::string(dir);
  }
  std::vector<std::string> parts;
  std::string joined = base + std::string(target);
  std::size_t pos = 0;
  while (pos <= joined.size()) {
    std::size_t slash = joined.find('/', pos);
    if (slash == std::string::npos) slash = joined.size();
    std::string seg = joined.substr(pos, slash - pos);
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(std::move(seg));
    }
    pos = slash + 1;
  }
  std::string out;
  for (auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

bool remote_target(std::string_view target) {
  std::string t = ascii_lower(target);
  for (std::string_view scheme : {"http://", "https://", "ftp://", "file:", "\\\\", "//"})
    if (t.find(scheme) != std::string::npos) return true;
  return false;
}

}  // namespace ooxml

}  // namespace emogate
