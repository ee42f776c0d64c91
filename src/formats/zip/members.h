// What the ZIP module decides about single members, as plain data: the
// cipher's name, the directory's structure problems as one line, which
// entries are folders, whether libzip reads a cipher as we do, and the fast
// whole-member inflate (libdeflate) for a plain member whose declaration is
// believable. The module turns these into children and findings.
// Trusted input: none. Entries come from read_directory (bounds-checked),
// and every offset is checked again against the archive bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <zip.h>

#include "formats/zip/directory.h"

namespace emogate::zip {

// "ZipCrypto", "AES-128", "AES-192" or "AES-256".
std::string cipher_name(const Entry& e);

// The directory's structure problems, prefix and trailing bytes, joined with
// "; "; empty when there are none. Overlaps and the entry cap are limits,
// not listed here.
std::string structure_problems(const Directory& dir);

// A name ending in '/' or '\': what unzip tools create as a folder.
bool is_folder_entry(const Entry& e);

// The raw name as libzip reports it (its C strings turn NUL into a space),
// to check that libzip and our reader mean the same entry.
std::string libzip_raw_name(const Entry& e);

// Our reading of the entry's cipher is libzip's (`st` from zip_stat_index),
// and libzip can decrypt it.
bool libzip_can_decrypt(const Entry& e, const zip_stat_t& st);

// A plain member inflated whole. `ok` false = the caller's stream decides
// (not stored/deflated, outside the archive, declared size over `max_size`,
// or the data disagrees with its declared size).
struct Inflated {
  bool ok = false;
  bool crc_ok = false;
  std::string_view plain;          // into `archive` (stored) or `storage`
  std::unique_ptr<char[]> storage;
};
Inflated inflate_whole(const Entry& e, std::string_view archive, std::uint64_t max_size);

}  // namespace emogate::zip
