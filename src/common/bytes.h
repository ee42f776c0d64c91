// Bounds-checked little-endian reads over hostile bytes, shared by every
// binary parser: a cursor (ByteReader) that stays failed after its first bad
// read, and checked le16/le32/le64 at an offset.
// Trusted input: none. Every read is checked against the buffer it comes from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace emogate {

// Bounds-checked cursor. A read past the end returns 0 (or an empty view),
// moves the cursor to the end and sets the reader failed for good; callers
// test ok() once after a group of reads.
class ByteReader {
 public:
  explicit ByteReader(std::string_view d, std::size_t pos = 0) : d_(d), pos_(pos) {
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
  // True when `n` more bytes can be read (and no read has failed yet).
  bool has(std::size_t n) const { return !bad_ && n <= left(); }
  std::size_t left() const { return d_.size() - pos_; }
  std::size_t pos() const { return pos_; }
  std::string_view data() const { return d_; }
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

// True when `n` bytes starting at `at` lie inside `d`.
inline bool in_bounds(std::string_view d, std::uint64_t at, std::uint64_t n) {
  return at <= d.size() && n <= d.size() - at;
}

// Little-endian integer of `n` (at most 8) bytes at `at`; 0 when any of
// them lies outside `d`.
inline std::uint64_t le_n(std::string_view d, std::uint64_t at, unsigned n) {
  if (n > 8 || !in_bounds(d, at, n)) return 0;
  std::uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(d[at + i])) << (8 * i);
  return v;
}
inline std::uint16_t le16(std::string_view d, std::uint64_t at) { return static_cast<std::uint16_t>(le_n(d, at, 2)); }
inline std::uint32_t le32(std::string_view d, std::uint64_t at) { return static_cast<std::uint32_t>(le_n(d, at, 4)); }
inline std::uint64_t le64(std::string_view d, std::uint64_t at) { return le_n(d, at, 8); }

// The 4 little-endian bytes of `v` (key derivation inputs, test builders).
inline std::string le32_bytes(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

}  // namespace emogate
