// Header and part flood guard (see header_guard.h). Input is the raw,
// hostile message; the pass is linear and allocates only the reduced copy,
// and only once something has to be dropped.
// Trusted input: none.
#include "formats/mime/header_guard.h"

#include "common/text.h"

namespace emogate {

namespace {

// GMime ends a header block only at an empty line; a line of blanks or a
// lone CR continues it.
bool is_blank(std::string_view line) { return line == "\n" || line == "\r\n"; }

// A line GMime can turn into a header: a name without white space or
// control characters (possibly empty), optional blanks, then a colon.
bool header_name(std::string_view line, std::string_view& name) {
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view n = line.substr(0, colon);
  while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.remove_suffix(1);
  for (char c : n)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  name = n;
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// Headers that decide how the rest of the block parses: kept once per block
// even past max_headers.
int structural_bit(std::string_view name) {
  static constexpr std::string_view names[] = {"content-type", "content-transfer-encoding",
                                               "content-disposition", "mime-version"};
  for (int i = 0; i < 4; ++i)
    if (iequals(name, names[i])) return 1 << i;
  return 0;
}

}  // namespace

HeaderGuardResult guard_headers(std::string_view raw, const HeaderGuardLimits& limits) {
  HeaderGuardResult r;
  bool in_block = true;         // the message starts with its header block
  bool next_is_block = false;   // the line after this blank line starts a block
  bool block_has_type = false;  // saw a Content-Type in this block
  bool block_may_wrap = false;  // ... naming a message/* type
  int block_kept_structural = 0;
  bool field_kept = false;      // the current field is passed on
  std::uint64_t field_bytes = 0;
  std::uint64_t kept = 0, boundaries = 0;
  std::size_t copied = 0;  // raw[0, copied) is already in r.text (when rewritten)

  auto start_block = [&] {
    in_block = true;
    block_has_type = block_may_wrap = false;
    block_kept_structural = 0;
    field_kept = false;
    field_bytes = 0;
  };
  // Drops raw[from, to): the first drop switches to writing a copy.
  auto drop = [&](std::size_t from, std::size_t to) {
    if (!r.rewritten) {
      r.rewritten = true;
      r.text.reserve(raw.size());
    }
    r.text.append(raw.substr(copied, from - copied));
    copied = to;
  };

  std::size_t pos = 0;
  while (pos < raw.size()) {
    // Outside a header block, and with no block starting on this line, only
    // a boundary line matters: go to the next "--" at a line start (one
    // memchr over a base64 body, which has no '-', not one per line).
    if (!in_block && !next_is_block && !raw.substr(pos).starts_with("--")) {
      std::size_t dash = pos;
      while ((dash = raw.find("--", dash)) != std::string_view::npos && raw[dash - 1] != '\n') ++dash;
      if (dash == std::string_view::npos) break;
      pos = dash;
    }
    std::size_t nl = raw.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? raw.size() : nl + 1;
    std::string_view line = raw.substr(pos, end - pos);
    std::size_t start = pos;
    pos = end;

    if (line.starts_with("--")) {
      if (++boundaries > limits.max_boundaries) {
        r.boundaries_cut = true;
        r.cut_at = start;
        drop(start, raw.size());
        break;
      }
      start_block();
    } else if (is_blank(line)) {
      // A block without Content-Type may be a digest member (message/rfc822
      // by default): its body may be a message with headers of its own.
      next_is_block = in_block && (!block_has_type || block_may_wrap);
      in_block = false;
      field_kept = false;
      continue;
    } else if (!in_block && next_is_block) {
      start_block();
    }
    next_is_block = false;
    if (!in_block) continue;

    if (line[0] == ' ' || line[0] == '\t') {  // folded continuation
      if (!field_kept) continue;
      if (field_bytes + line.size() > limits.max_header_size) {
        if (field_bytes <= limits.max_header_size) ++r.cut_fields;
        field_bytes = limits.max_header_size + 1;
        drop(start, end);
      } else {
        field_bytes += line.size();
      }
      continue;
    }
    std::string_view name;
    if (!header_name(line, name)) continue;  // GMime skips it: costs nothing
    ++r.fields;
    int bit = structural_bit(name);
    if (bit == 1) {
      block_has_type = true;
      std::string value = ascii_lower(line.substr(name.size()));
      if (value.find("message") != std::string::npos) block_may_wrap = true;
    }
    if (kept < limits.max_headers) {
      ++kept;
    } else if (bit != 0 && !(block_kept_structural & bit)) {
      block_kept_structural |= bit;
    } else {
      ++r.dropped_fields;
      field_kept = false;
      drop(start, end);
      continue;
    }
    if (bit) block_kept_structural |= bit;
    field_kept = true;
    field_bytes = line.size();
  }
  if (r.rewritten) r.text.append(raw.substr(copied));
  return r;
}

std::vector<GuardOverflow> guard_overflows(const HeaderGuardResult& r, const HeaderGuardLimits& limits) {
  std::vector<GuardOverflow> out;
  if (r.dropped_fields > 0)
    out.push_back({"max_headers", "more than " + std::to_string(limits.max_headers) + " header fields; " +
                                      std::to_string(r.dropped_fields) + " not parsed"});
  if (r.cut_fields > 0)
    out.push_back({"max_header_size", std::to_string(r.cut_fields) + " header field(s) longer than " +
                                          std::to_string(limits.max_header_size) + " bytes cut short"});
  if (r.boundaries_cut)
    out.push_back({"max_mime_parts", "more than " + std::to_string(limits.max_boundaries) +
                                         " boundary lines; the message is parsed up to byte " +
                                         std::to_string(r.cut_at)});
  return out;
}

}  // namespace emogate
