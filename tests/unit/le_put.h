// Little-endian integers appended to a byte string, for the archive and
// container fixtures that tests write by hand.
#pragma once

#include <cstdint>
#include <string>

namespace emogate::test {

inline void put16(std::string& s, std::uint32_t v) {
  s += static_cast<char>(v & 0xFF);
  s += static_cast<char>((v >> 8) & 0xFF);
}
inline void put32(std::string& s, std::uint32_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16);
}

}  // namespace emogate::test
