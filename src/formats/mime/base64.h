// Streaming base64 decoder (RFC 2045) that counts the bytes outside the
// alphabet as it goes, so validity and decoding cost one pass, not two.
// Like mail clients, it skips what is not base64 and ends a quantum at '='.
// Trusted input: none.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace emogate {

class Base64Decoder {
 public:
  // Decodes `in` into `out`, which must hold max_output(in.size()) bytes;
  // returns the number of bytes written.
  std::size_t step(std::string_view in, char* out);
  // The bits of an unpadded final quantum; call once at the end.
  std::size_t flush(char* out);
  static std::size_t max_output(std::size_t in) { return in / 4 * 3 + 3; }
  std::uint64_t invalid() const { return invalid_; }

 private:
  std::uint32_t acc_ = 0;
  int count_ = 0;  // sextets in acc_
  std::uint64_t invalid_ = 0;
};

}  // namespace emogate
