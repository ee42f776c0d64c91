// What Office keeps inside OLE2 streams besides the stream's own records:
// PowerPoint 97-2003's embedded storages (ExOleObjStg records, MS-PPT
// 2.10.34, usually zlib-compressed) at the top level of the "PowerPoint
// Document" stream, and ZIP packages (Office 2007+ themes) appended to
// document streams, found from their end records backwards; the OLE1
// package of an \x01Ole10Native stream. Pure functions
// over the stream bytes for modules/ole2.cpp, tests and the fuzzer.
// Trusted input: none. Record lengths are checked against the stream;
// inflation goes through a sink that can stop it at any chunk.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/rtf/objects.h"

namespace emogate::ole2 {

struct PptStorage {
  bool compressed = false;        // instance 1: uncompressed size, then zlib data
  std::string_view data;          // stored bytes (compressed: the zlib data)
  std::uint32_t declared_size = 0;  // compressed: the uncompressed size stated
  bool truncated = false;         // compressed, but too short for its size field
};
std::vector<PptStorage> ppt_storages(std::string_view stream);

// Inflates zlib data into `sink` in chunks; `sink` returns false to stop
// (a limit), which is not damage. False when the zlib data is damaged.
// Some writers end the stream without its trailer: all `expected` bytes
// arriving is good enough.
bool inflate_zlib(std::string_view in, std::uint64_t expected, const std::function<bool(std::string_view)>& sink);

// The ZIP packages inside a document stream. BIFF splits a THEME record's
// package over ContinueFrt12 records, so a workbook's ("Workbook", "Book")
// theme is reassembled into `theme`; elsewhere, or without a THEME record,
// each package is found from its end record backwards (PowerPoint keeps one
// per master; at most kMaxStreamPackages), last first, and cut out only
// when its directory reads without problems (`max_entries` bounds the walk)
// and it starts with a local header. A package that cannot be cut out
// cleanly stays in the stream's bytes.
inline constexpr int kMaxStreamPackages = 16;
struct StreamPackages {
  std::string theme;
  std::vector<std::string_view> trailing;
};
StreamPackages stream_packages(std::string_view stream_path, std::string_view stream, std::uint64_t max_entries);

// A \x01Ole10Native stream: a 4-byte total size (not trusted), then the
// OLE1 Package (formats/rtf/objects.h, shared with RTF objects). `source` is
// the source path (or temp path); `file` the embedded file's name from it
// (or from the label).
struct NativePackage {
  rtf::Package package;
  std::string source;
  std::string file;
};
std::optional<NativePackage> ole10native(std::string_view stream);

}  // namespace emogate::ole2
