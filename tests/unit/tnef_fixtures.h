// Builders for TNEF test messages (MS-OXTNEF attributes and MAPI property
// lists), shared by the TNEF parser and TNEF scan tests.
// Trusted input: none (test data only).
#pragma once

#include <cstdint>
#include <string>

#include "unit/zip_fixtures.h"  // put16, put32

namespace emogate::test {

// MS-OXTNEF attribute: level, id, length, data, checksum (sum of data bytes).
inline void tnef_attr(std::string& s, int level, std::uint32_t id, const std::string& data) {
  s += static_cast<char>(level);
  put32(s, id);
  put32(s, static_cast<std::uint32_t>(data.size()));
  s += data;
  std::uint32_t sum = 0;
  for (unsigned char c : data) sum += c;
  put16(s, sum & 0xFFFF);
}

inline std::string tnef_with(const std::string& filename, const std::string& data) {
  std::string s;
  put32(s, 0x223E9F78);
  put16(s, 0x0001);
  tnef_attr(s, 1, 0x00089006, std::string("\x00\x00\x01\x00", 4));  // attTnefVersion
  tnef_attr(s, 2, 0x00069002, std::string(14, '\0'));                // attAttachRendData: new attachment
  tnef_attr(s, 2, 0x00018010, filename + std::string(1, '\0'));       // attAttachTitle
  tnef_attr(s, 2, 0x0006800F, data);                                  // attAttachData
  return s;
}

// attMsgProps holding one PT_BINARY property: count, type, id, values,
// size, data padded to 4 (MS-OXTNEF 2.1.3.4).
inline std::string msg_props_binary(std::uint16_t id, const std::string& value) {
  std::string p;
  put32(p, 1);
  put16(p, 0x0102);
  put16(p, id);
  put32(p, 1);
  put32(p, static_cast<std::uint32_t>(value.size()));
  p += value;
  p.append((4 - value.size() % 4) % 4, '\0');
  return p;
}

}  // namespace emogate::test
