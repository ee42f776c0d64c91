// TNEF (winmail.dat, application/ms-tnef) reader per MS-OXTNEF: the
// attached files (attAttachData, or PR_ATTACH_DATA_OBJ when the data is
// only a MAPI property) with their names (PR_ATTACH_LONG_FILENAME, else
// attAttachTitle), the message's compressed RTF body and HTML body, and the
// first structural problem met. Plus the MS-OXRTFCP decompressor for the
// RTF body.
// Our own reader rather than libytnef: libytnef prints diagnostics to
// stdout (which corrupts `emogate scan --json`), rejects some valid files
// (empty attributes) and allocates from declared lengths.
// Trusted input: none. Every length is checked against the buffer; views
// point into the caller's bytes, which must outlive the result.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emogate::tnef {

struct Attachment {
  std::string name;       // UTF-8 as stored (not sanitized); empty when unnamed
  std::string_view data;  // empty when the attachment carries no data
};

struct Message {
  bool signature = false;               // false: not TNEF, nothing else is set
  std::vector<Attachment> attachments;  // in file order, data or not
  std::string problem;                  // first fault (truncation, checksum, order); empty when none
  std::optional<std::string_view> rtf_compressed;  // PR_RTF_COMPRESSED (MS-OXRTFCP bytes)
  std::optional<std::string_view> html;            // PR_BODY_HTML
};

// Reads the attribute stream. `stop`, when given, is polled once per
// attribute; returning true ends the walk with what was read so far.
Message parse(std::string_view bytes, const std::function<bool()>& stop = {});

// MS-OXRTFCP: "MELA" is stored, "LZFu" is LZ77 over a 4 KiB ring that
// starts with a fixed RTF prefix. Output stops at `cap` bytes. False when
// the header is short or names another kind; a truncated body yields what
// was decoded.
bool decompress_rtf(std::string_view in, std::uint64_t cap, std::string& out);

}  // namespace emogate::tnef
