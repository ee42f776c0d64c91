// MS-OVBA: VBA project storage. Decompression (2.4.1), the `dir` stream
// (2.3.4.2) and locating projects inside a compound file.
//
// Trusted input: none. Decompression output is bounded by the caller's cap;
// malformed containers yield the bytes decoded so far and a flag.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/ole2/reader.h"

namespace emogate::ovba {

// Decompresses a CompressedContainer. Returns at most max_out bytes; sets
// *complete to false when the input was malformed, truncated or capped.
std::string decompress(std::string_view in, std::size_t max_out, bool* complete = nullptr);

struct Module {
  std::string name;         // UTF-8 (MODULENAMEUNICODE if present, else from the code page)
  std::string stream_name;  // UTF-8, as the OLE2 entry name reads
  std::uint32_t text_offset = 0;  // MODULEOFFSET: where compressed source starts
  bool procedural = true;   // MODULETYPE 0x21 (standard) vs 0x22 (document/class)
};

struct Dir {
  std::uint16_t codepage = 1252;
  std::string project_name;
  std::vector<Module> modules;
  std::vector<std::string> problems;
};

// Parses a decompressed `dir` stream.
Dir parse_dir(std::string_view dir);

// Text in a Windows code page (932, 1251, 65001...) to UTF-8; undecodable
// bytes become U+FFFD. Unknown code pages fall back to Windows-1252.
std::string to_utf8(std::string_view text, std::uint16_t codepage);

// A VBA project found in a compound file: the storage holding `dir`
// ("Macros/VBA", "_VBA_PROJECT_CUR/VBA", "VBA" in vbaProject.bin).
struct ProjectLocation {
  const ole2::Entry* vba_storage = nullptr;
  const ole2::Entry* dir_stream = nullptr;
};
std::vector<ProjectLocation> find_projects(const ole2::Ole2File& file);

struct ModuleSource {
  std::string name;         // module name, UTF-8
  std::string raw;          // decompressed source in the project code page
  std::string text;         // the same, UTF-8
  bool stream_found = false;
  bool source_complete = false;
  // Strings in the module's compiled p-code (comments, literals) that the
  // source does not contain: the mark of VBA stomping.
  std::vector<std::string> pcode_only;
  bool pcode_without_source = false;  // p-code present, source has no code lines
};

struct Project {
  std::string storage_path;  // "Macros/VBA"; empty for the root
  std::uint16_t codepage = 1252;
  std::vector<ModuleSource> modules;  // in dir stream order
  std::vector<std::string> problems;
  bool stomped() const;
};

// Reads one project: dir stream, every module's source (each capped at
// max_source bytes) and the p-code comparison.
Project read_project(const ole2::Ole2File& file, const ProjectLocation& where,
                     std::size_t max_source);

}  // namespace emogate::ovba
