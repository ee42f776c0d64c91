// ZIP central-directory reader (APPNOTE 6.3.x, sections 4.3.6-4.3.16, and
// the WinZip AE-x extra field 0x9901). libzip hides entry offsets, but the
// offsets are what reveal overlapping-entry bombs and give the password
// checks the encryption header, so we read the directory ourselves.
// Trusted input: none. Every field is bounds-checked against the buffer;
// the entry count is capped by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emogate::zip {

struct Entry {
  std::string name;  // raw bytes as stored (CP437/CP932 or UTF-8 per flag 11)
  std::uint16_t flags = 0;
  std::uint16_t method = 0;  // 99 = WinZip AES (the real method is aes_method)
  std::uint16_t dos_time = 0;
  std::uint16_t dos_date = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_offset = 0;  // absolute offset in the buffer (prefix applied)
  std::uint64_t data_offset = 0;   // first byte after the local header; 0 = unresolved
  // WinZip AES: strength 1/2/3 = AES-128/192/256; 0 = not AES.
  int aes_strength = 0;
  std::uint16_t aes_version = 0;
  std::uint16_t aes_method = 0;
  bool overlaps = false;  // starts inside an earlier entry's range

  bool encrypted() const { return flags & 1u; }
  bool utf8_name() const { return flags & 0x800u; }
  bool has_descriptor() const { return flags & 8u; }
  std::uint16_t real_method() const { return aes_strength ? aes_method : method; }
  // Local header + data, the range no other entry may share.
  std::uint64_t end_offset() const { return data_offset + compressed_size; }
};

struct Directory {
  std::vector<Entry> entries;
  bool found = false;             // an end record was found
  std::uint64_t declared_entries = 0;
  std::uint64_t prefix = 0;       // bytes before the archive (self-extractor code, junk)
  std::uint64_t trailing = 0;     // bytes after the end record and its comment
  bool truncated = false;         // directory ended before its declared entries
  bool capped = false;            // more entries than the caller allows
  std::vector<std::string> problems;  // malformed structure, one line each
  // Overlapping local ranges: the classic non-recursive zip bomb reuses one
  // compressed kernel for many entries.
  std::uint64_t overlapping = 0;
  std::string overlap_example;
};

// Reads the end record, the (ZIP64) directory and each entry's local header.
Directory read_directory(std::string_view data, std::uint64_t max_entries);

// Length of the encryption header in front of the data: 12 for ZipCrypto,
// salt + 2 for AES, 0 when not encrypted.
std::uint64_t encryption_header_size(const Entry& e);

}  // namespace emogate::zip
