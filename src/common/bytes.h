// Small helpers shared by the Office-format parsers of this directory and
// src/extract (BIFF, OOXML, RTF, OneNote, LNK): bounds-checked little-endian
// reads and text conversion to UTF-8. Input trusted: none — every read is
// checked against the buffer it comes from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace emogate::office {

// Bounds-checked cursor over hostile bytes. A read past the end returns 0 and
// sets `bad`; callers test `ok()` once after a group of reads.
class Reader {
 public:
  explicit Reader(std::string_view d, std::size_t pos = 0) : d_(d), pos_(pos) {
    if (pos_ > d_.size()) { pos_ = d_.size(); bad_ = true; }
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(take(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(take(4)); }
  std::uint64_t u64() { return take(8); }
  std::string_view bytes(std::size_t n) {
    if (n > left()) { bad_ = true; pos_ = d_.size(); return {}; }
    auto s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void skip(std::size_t n) { bytes(n); }
  std::size_t left() const { return d_.size() - pos_; }
  std::size_t pos() const { return pos_; }
  bool ok() const { return !bad_; }

 private:
  std::uint64_t take(std::size_t n) {
    if (n > left()) { bad_ = true; pos_ = d_.size(); return 0; }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v |= std::uint64_t(static_cast<unsigned char>(d_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  std::string_view d_;
  std::size_t pos_;
  bool bad_ = false;
};

inline std::uint16_t le16(std::string_view d, std::size_t at) {
  if (at > d.size() || d.size() - at < 2) return 0;
  return std::uint16_t(static_cast<unsigned char>(d[at]) |
                       (static_cast<unsigned char>(d[at + 1]) << 8));
}
inline std::uint32_t le32(std::string_view d, std::size_t at) {
  if (at > d.size() || d.size() - at < 4) return 0;
  return std::uint32_t(le16(d, at)) | (std::uint32_t(le16(d, at + 2)) << 16);
}

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// UTF-16LE to UTF-8; an odd trailing byte is dropped, lone surrogates become
// U+FFFD, and NUL characters are kept (callers trim where the format says so).
inline std::string utf16le_to_utf8(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
    std::uint32_t c = le16(b, i);
    if (c >= 0xD800 && c < 0xDC00 && i + 3 < b.size()) {
      std::uint32_t lo = le16(b, i + 2);
      if (lo >= 0xDC00 && lo < 0xE000) {
        append_utf8(out, 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00));
        i += 2;
        continue;
      }
    }
    if (c >= 0xD800 && c < 0xE000) c = 0xFFFD;
    append_utf8(out, c);
  }
  return out;
}

// Single-byte text (BIFF "compressed" strings are UTF-16 with the high byte
// dropped, so Latin-1 is exact for them; for ANSI code pages it is a close,
// lossless-for-ASCII approximation).
inline std::string latin1_to_utf8(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  for (unsigned char c : b) append_utf8(out, c);
  return out;
}

inline std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

inline bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower_ascii(s.substr(0, prefix.size())) == prefix;
}

inline bool icontains(std::string_view hay, std::string_view needle_lower) {
  return lower_ascii(hay).find(needle_lower) != std::string::npos;
}

}  // namespace emogate::office
