// Safe child names for archive members. A member name is only evidence (the
// engine types objects by content), but it lands in paths, reports and
// logs, so traversal, absolute paths, control bytes and absurd lengths are
// removed and reported instead of passed on.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>

namespace emogate {

struct MemberName {
  std::string name;     // relative, '/'-separated, printable, <= 255 bytes
  std::string problem;  // why the raw name was changed; empty = it was fine
  bool undecodable = false;  // neither UTF-8 nor CP932: shown with %XX escapes
};

// A raw archive name as UTF-8: kept when it already is valid UTF-8, else
// read as CP932 (Japanese Windows archivers), else empty (caller decides).
std::string legacy_name_to_utf8(std::string_view raw);

// A raw name from a format that may carry no charset (LZH, CAB, RAR 4,
// tar, ...): UTF-8 or CP932 as legacy_name_to_utf8 reads it, then
// sanitized; a name that is neither keeps its ASCII (and so its extension)
// with every other byte as %XX, and says so in `problem`.
MemberName decode_member_name(std::string_view raw, std::string_view fallback);

// `fallback` is used when nothing usable remains (e.g. "member-3").
MemberName sanitize_member_name(std::string_view raw, std::string_view fallback);

}  // namespace emogate
