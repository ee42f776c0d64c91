// What the libarchive module decides about single entries (entries.h).
// Trusted input: none.
#include "formats/archive/entries.h"

#include <archive_entry.h>

#include <cstdio>

#include "common/text.h"
#include "formats/archive/member_name.h"

namespace emogate {

std::string stream_name(std::string_view object_name) {
  std::string n = base_name(object_name, "/");
  auto dot = n.find_last_of('.');
  if (dot == std::string::npos || dot == 0) return "data";
  std::string ext = ascii_lower(n.substr(dot + 1));
  if (ext == "tgz" || ext == "tbz" || ext == "tbz2" || ext == "txz" || ext == "tzst") return n.substr(0, dot) + ".tar";
  return n.substr(0, dot);
}

bool link_escapes(std::string_view target) {
  if (target.empty() || target[0] == '/' || target[0] == '\\') return true;
  if (target.size() >= 2 && target[1] == ':') return true;
  std::size_t start = 0;
  while (start <= target.size()) {
    std::size_t end = target.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = target.size();
    if (target.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

std::string link_target_text(std::string_view raw) {
  std::string target = legacy_name_to_utf8(raw);
  if (target.empty()) target = decode_member_name(raw, "(empty)").name;
  if (target.size() > 255) target = target.substr(0, 255) + "...";
  return target;
}

const char* odd_type_name(unsigned filetype) {
  switch (filetype) {
    case AE_IFIFO: return "FIFO";
    case AE_IFCHR: return "character device";
    case AE_IFBLK: return "block device";
    case AE_IFSOCK: return "socket";
    case AE_IFDIR: return "directory";
    default: return nullptr;
  }
}

std::string odd_type_text(unsigned filetype, unsigned mode) {
  const char* odd = odd_type_name(filetype);
  char octal[16];
  std::snprintf(octal, sizeof octal, "%06o", mode);
  return (odd ? std::string("a ") + odd : std::string("of an unknown type")) + " (mode " + octal + ")";
}

std::string locked_summary(std::string_view type, const std::vector<std::string>& locked) {
  return std::to_string(locked.size()) + " encrypted " + std::string(type) + " entr" +
         (locked.size() == 1 ? "y" : "ies") + " not opened: " + join_capped(locked, 20);
}

}  // namespace emogate
