// Header and part flood guard: one pass over a raw message, before GMime
// sees it, that bounds what GMime's parser will allocate. GMime keeps an
// object per header field (several hundred bytes each) and per MIME part,
// so a message of a million one-line headers or of 100,000 empty parts
// costs far more memory than its size. The guard counts the header fields
// GMime could build and the lines that could be MIME boundaries, and when a
// limit is passed returns a reduced copy of the message:
//   - header fields past max_headers are dropped (in every header block,
//     the first Content-Type, Content-Transfer-Encoding, Content-Disposition
//     and MIME-Version are kept so the structure still parses);
//   - folded lines that would make one field longer than max_header_size
//     are dropped;
//   - the message is cut before the boundary-like line past max_boundaries.
// Everything else is kept byte for byte, so the rest of the message is
// still scanned.
//
// Trusted input: none; the input is the raw message. The guard's idea of where a
// header block is is deliberately wider than GMime's (a block starts at the
// top, after every line beginning with "--", and after the blank line that
// ends a block which may announce a message/* body), so GMime never builds a
// header the guard did not count.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emogate {

struct HeaderGuardLimits {
  std::uint64_t max_headers = 10000;        // header fields per message
  std::uint64_t max_header_size = 256 << 10;  // bytes of one field, folded lines included
  std::uint64_t max_boundaries = 2016;      // lines beginning with "--"
};

struct HeaderGuardResult {
  bool rewritten = false;  // `text` holds the reduced message
  std::string text;
  std::uint64_t fields = 0;          // header fields counted
  std::uint64_t dropped_fields = 0;  // past max_headers
  std::uint64_t cut_fields = 0;      // fields cut at max_header_size
  bool boundaries_cut = false;       // message cut at max_boundaries
  std::uint64_t cut_at = 0;          // offset of that cut
};

HeaderGuardResult guard_headers(std::string_view raw, const HeaderGuardLimits& limits);

// A limit the guard enforced on a message: the setting's name and what was
// dropped or cut, for the caller to report.
struct GuardOverflow {
  const char* setting;  // "max_headers", "max_header_size" or "max_mime_parts"
  std::string detail;
};
// The limits `result` shows were hit, in that order; empty when none was.
std::vector<GuardOverflow> guard_overflows(const HeaderGuardResult& result, const HeaderGuardLimits& limits);

}  // namespace emogate
