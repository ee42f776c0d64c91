// RTF \objdata extraction and OLE1 object decoding; see rtf_objects.h.
// One linear pass over the document, no backtracking and no regular
// expressions, so hostile nesting or endless control words cost O(n).
// Trusted input: none.
#include "formats/rtf/objects.h"

#include "common/bytes.h"
#include "common/text.h"

namespace emogate::rtf {
namespace {

bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::vector<std::string> objdata(std::string_view doc, std::size_t max_objects,
                                 std::size_t max_bytes) {
  std::vector<std::string> out;
  std::size_t total = 0;
  const std::size_t n = doc.size();
  std::size_t i = 0;
  long depth = 0;
  long obj_depth = -1;  // depth of the group holding \objdata, -1 outside
  std::string cur;
  int high = -1;  // pending high nibble
  auto add = [&](char byte) {
    if (total < max_bytes) {
      cur += byte;
      ++total;
    }
  };
  auto finish = [&] {
    if (obj_depth < 0) return;
    out.push_back(std::move(cur));
    cur.clear();
    high = -1;
    obj_depth = -1;
  };
  while (i < n) {
    char c = doc[i];
    if (c == '{') {
      ++depth;
      ++i;
    } else if (c == '}') {
      if (obj_depth >= 0 && depth <= obj_depth) finish();
      if (depth > 0) --depth;
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= n) break;
      if (!alpha(doc[i + 1])) {
        i += doc[i + 1] == '\'' ? 4 : 2;  // \'hh or a control symbol
        continue;
      }
      std::size_t j = i + 1;
      while (j < n && alpha(doc[j])) ++j;
      std::string_view word = doc.substr(i + 1, j - i - 1);
      bool negative = j < n && doc[j] == '-';
      if (negative) ++j;
      std::uint64_t param = 0;
      std::size_t digits = 0;
      for (; j < n && digit(doc[j]); ++j, ++digits)
        if (digits < 12) param = param * 10 + std::uint64_t(doc[j] - '0');
      if (j < n && doc[j] == ' ') ++j;  // the delimiting space belongs to the word
      i = j;
      if (word == "objdata") {
        finish();
        if (out.size() < max_objects) obj_depth = depth;
      } else if (word == "bin" && digits > 0 && !negative) {
        // Raw bytes follow; they may contain braces, so skip them even
        // outside \objdata.
        std::size_t take = std::size_t(std::min<std::uint64_t>(param, n - i));
        if (obj_depth >= 0) {
          if (high >= 0) high = -1;
          for (std::size_t k = 0; k < take; ++k) add(doc[i + k]);
        }
        i += take;
      }
    } else {
      if (obj_depth >= 0) {
        int v = hex_digit_value(c);
        if (v >= 0) {
          if (high < 0) {
            high = v;
          } else {
            add(char((high << 4) | v));
            high = -1;
          }
        }
      }
      ++i;
    }
  }
  finish();  // an \objdata left open at the end of the file still counts
  return out;
}

namespace {

// LengthPrefixedAnsiString: u32 length including the NUL, then the bytes.
std::string ansi(ByteReader& r) {
  std::uint32_t len = r.u32();
  if (len > 4096 || len > r.left()) {
    r.skip(r.left() + 1);  // marks the reader bad
    return {};
  }
  std::string_view s = r.bytes(len);
  if (auto nul = s.find('\0'); nul != std::string_view::npos) s = s.substr(0, nul);
  return latin1_to_utf8(s);
}

std::string cstring(ByteReader& r) {
  std::string out;
  while (r.left() > 0 && out.size() < 4096) {
    char c = char(r.u8());
    if (c == '\0') return latin1_to_utf8(out);
    out += c;
  }
  r.skip(r.left() + 1);
  return {};
}

}  // namespace

Ole1Object parse_ole1(std::string_view data) {
  Ole1Object o;
  ByteReader r(data);
  r.u32();  // OLEVersion (0x0501 in practice; not enforced)
  o.format = r.u32();
  if (o.format != 1 && o.format != 2 && o.format != 5) return o;
  o.class_name = ansi(r);
  if (!r.ok() || o.class_name.empty()) return o;
  if (o.format != 5) {
    o.topic = ansi(r);
    o.item = ansi(r);
  }
  if (o.format == 2) {
    std::uint32_t size = r.u32();
    o.native_truncated = r.ok() && size > r.left();
    o.native = r.bytes(std::min<std::size_t>(size, r.left()));
  }
  o.ok = r.ok();
  return o;
}

Package parse_package(std::string_view native) {
  Package p;
  ByteReader r(native);
  r.u16();  // signature, 0x0002
  p.label = cstring(r);
  p.source_path = cstring(r);
  r.skip(8);  // reserved and type (file), then the temp path's length
  p.temp_path = cstring(r);
  p.declared_size = r.u32();
  if (!r.ok()) return p;
  p.truncated = p.declared_size > r.left();
  p.data = r.bytes(std::min<std::size_t>(p.declared_size, r.left()));
  p.ok = true;
  return p;
}

std::vector<std::string> field_urls(std::string_view doc, std::size_t max_urls) {
  std::vector<std::string> out;
  std::string low = ascii_lower(doc);
  for (std::string_view key : {"hyperlink", "includepicture"}) {
    std::size_t at = 0;
    while (out.size() < max_urls && (at = low.find(key, at)) != std::string::npos) {
      std::size_t p = at + key.size();
      at = p;
      // Skip blanks and switches such as \l or \d between keyword and target.
      while (p < doc.size()) {
        char c = doc[p];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
          ++p;
        } else if (c == '\\' && p + 1 < doc.size() && alpha(doc[p + 1])) {
          p += 2;
        } else {
          break;
        }
      }
      bool quoted = p < doc.size() && doc[p] == '"';
      if (quoted) ++p;
      std::string url;
      while (p < doc.size() && url.size() < 4096) {
        char c = doc[p];
        if (quoted ? c == '"' : (c == ' ' || c == '}' || c == '{' || c == '"')) break;
        if (c == '\\' && p + 1 < doc.size() && doc[p + 1] == '\\') ++p;  // RTF-escaped backslash
        url += doc[p++];
      }
      std::string lu = ascii_lower(url);
      if (lu.starts_with("http://") || lu.starts_with("https://") || lu.starts_with("ftp://") ||
          lu.starts_with("file:") || lu.starts_with("\\\\"))
        out.push_back(std::move(url));
    }
  }
  return out;
}

}  // namespace emogate::rtf
