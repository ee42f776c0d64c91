// Text helpers shared by every parser and module: UTF-8 encoding of code
// points, UTF-16LE and Latin-1 to UTF-8, ASCII-only case folding (mail and
// file formats define their keywords in ASCII; locale rules must not apply),
// the last component of a path, joining a list with a separator, and
// percent-encoding.
// Trusted input: none. Code points and bytes may come straight from hostile
// files; every value has a defined output.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace emogate {

// What append_utf8 does with U+0000: keep it as a NUL byte, or write
// U+FFFD (text that ends up in logs, HTML text or XML values).
enum class Nul { keep, replace };

// Appends the UTF-8 form of `cp`. Surrogates (U+D800..U+DFFF) and values
// above U+10FFFF have no UTF-8 form and become U+FFFD.
inline void append_utf8(std::string& out, char32_t cp, Nul nul) {
  if ((cp == 0 && nul == Nul::replace) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// UTF-16LE to UTF-8: surrogate pairs are combined, lone surrogates become
// U+FFFD, an odd trailing byte is dropped. With `stop_at_nul` the text ends
// at the first U+0000 (formats whose strings are NUL-terminated inside a
// longer field); otherwise NUL characters are kept.
inline std::string utf16le_to_utf8(std::string_view b, bool stop_at_nul) {
  std::string out;
  out.reserve(b.size());
  const auto unit = [&](std::size_t i) {
    return static_cast<char32_t>(static_cast<unsigned char>(b[i]) | (static_cast<unsigned char>(b[i + 1]) << 8));
  };
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
    char32_t c = unit(i);
    if (c >= 0xD800 && c < 0xDC00 && i + 3 < b.size()) {
      const char32_t lo = unit(i + 2);
      if (lo >= 0xDC00 && lo < 0xE000) {
        append_utf8(out, 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00), Nul::keep);
        i += 2;
        continue;
      }
    }
    if (c == 0 && stop_at_nul) break;
    append_utf8(out, c, Nul::keep);  // a lone surrogate becomes U+FFFD there
  }
  return out;
}

// Single-byte text (BIFF "compressed" strings are UTF-16 with the high byte
// dropped, so Latin-1 is exact for them; for ANSI code pages it is a close,
// lossless-for-ASCII approximation). NUL bytes are kept.
inline std::string latin1_to_utf8(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  for (unsigned char c : b) append_utf8(out, c, Nul::keep);
  return out;
}

// `s` without the leading and trailing bytes found in `chars`.
inline std::string_view trim(std::string_view s, std::string_view chars = " \t") {
  while (!s.empty() && chars.find(s.front()) != std::string_view::npos) s.remove_prefix(1);
  while (!s.empty() && chars.find(s.back()) != std::string_view::npos) s.remove_suffix(1);
  return s;
}

// The value of one hexadecimal digit (either case), -1 for any other byte.
inline int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-encoding: each byte for which keep(byte) is false becomes %XX
// (upper-case hex); the callers choose what stays (URL components, log
// values, undecodable names).
template <class Keep>
std::string percent_encode(std::string_view s, Keep keep) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (keep(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return ascii_lower(c); });
  return out;
}

inline char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

inline std::string ascii_upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return ascii_upper(c); });
  return out;
}

// Case-insensitive (ASCII) prefix test; `prefix_lower` is given in lower case.
inline bool istarts_with(std::string_view s, std::string_view prefix_lower) {
  return s.size() >= prefix_lower.size() && ascii_lower(s.substr(0, prefix_lower.size())) == prefix_lower;
}

// Case-insensitive (ASCII) substring test; `needle_lower` is given in lower case.
inline bool icontains(std::string_view hay, std::string_view needle_lower) {
  return ascii_lower(hay).find(needle_lower) != std::string::npos;
}

// The part of `path` after its last separator (any character of
// `separators`); the whole path when it has none. Names written on Windows
// use both '/' and '\'; host paths use '/' only.
inline std::string base_name(std::string_view path, std::string_view separators = "/\\") {
  const std::size_t cut = path.find_last_of(separators);
  return std::string(cut == std::string_view::npos ? path : path.substr(cut + 1));
}

// The items of `items` (anything iterable whose elements append to a
// std::string) separated by `sep`.
template <class Items>
std::string join(const Items& items, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += sep;
    first = false;
    out += item;
  }
  return out;
}

// The first `max_items` of `items` joined with ", ", then ", ..." when
// there were more: a bounded list for a finding's detail.
template <class Items>
std::string join_capped(const Items& items, std::size_t max_items) {
  std::string out;
  std::size_t k = 0;
  for (const auto& item : items) {
    if (k == max_items) return out + ", ...";
    out += (k++ ? ", " : "");
    out += item;
  }
  return out;
}

}  // namespace emogate
