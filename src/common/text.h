// Small text helpers shared by parsers: ASCII-only case folding (mail and
// file formats define their keywords in ASCII; locale rules must not apply).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace emogate {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return ascii_lower(c); });
  return out;
}

}  // namespace emogate
