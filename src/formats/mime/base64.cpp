// Base64 decoding: table lookups, four characters at a time where it can.
// Trusted input: none.
#include "formats/mime/base64.h"

namespace emogate {

namespace {

constexpr std::uint8_t kSkip = 0xFE, kPad = 0xFD, kBad = 0xFF;

constexpr auto kTable = [] {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kBad;
  for (int i = 0; i < 26; ++i) t['A' + i] = static_cast<std::uint8_t>(i), t['a' + i] = static_cast<std::uint8_t>(26 + i);
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<std::uint8_t>(52 + i);
  t['+'] = 62;
  t['/'] = 63;
  t['='] = kPad;
  for (unsigned char c : {'\r', '\n', ' ', '\t'}) t[c] = kSkip;
  return t;
}();

}  // namespace

std::size_t Base64Decoder::step(std::string_view in, char* out) {
  auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const unsigned char* const end = p + in.size();
  char* o = out;
  while (p < end) {
    // Mail wraps base64 in lines of whole quanta, so between line breaks
    // four valid characters at a time is the common case.
    if (count_ == 0) {
      while (end - p >= 4) {
        std::uint32_t a = kTable[p[0]], b = kTable[p[1]], c = kTable[p[2]], d = kTable[p[3]];
        if ((a | b | c | d) >= 64) break;
        std::uint32_t v = a << 18 | b << 12 | c << 6 | d;
        o[0] = static_cast<char>(v >> 16);
        o[1] = static_cast<char>(v >> 8);
        o[2] = static_cast<char>(v);
        o += 3;
        p += 4;
      }
      if (p == end) break;
    }
    std::uint8_t v = kTable[*p++];
    if (v < 64) {
      acc_ = acc_ << 6 | v;
      if (++count_ == 4) {
        *o++ = static_cast<char>(acc_ >> 16);
        *o++ = static_cast<char>(acc_ >> 8);
        *o++ = static_cast<char>(acc_);
        acc_ = 0;
        count_ = 0;
      }
    } else if (v == kPad) {
      o += flush(o);
    } else if (v == kBad) {
      ++invalid_;
    }
  }
  return static_cast<std::size_t>(o - out);
}

std::size_t Base64Decoder::flush(char* out) {
  std::size_t n = 0;
  if (count_ == 2) {
    out[n++] = static_cast<char>(acc_ >> 4);
  } else if (count_ == 3) {
    out[n++] = static_cast<char>(acc_ >> 10);
    out[n++] = static_cast<char>(acc_ >> 2);
  }
  acc_ = 0;
  count_ = 0;
  return n;
}

}  // namespace emogate
