// The type tags: the name of every object type the engine knows, and one
// table row per type saying how its bytes are recognised, its MIME name,
// whether it is an archive, which module opens it and whether it is
// dangerous in itself. Typing, the engine and every module's types() read
// them from here; a new container is one row in types.cpp plus the module
// that opens it. The tag strings are what the report and the worker wire
// show, so a tag is never renamed. The signature checks read hostile bytes.
// Trusted input: none.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace emogate {

namespace tag {
// Containers and documents we parse.
inline constexpr char email[] = "email";
inline constexpr char zip[] = "zip";
inline constexpr char ooxml[] = "ooxml";
inline constexpr char ole2[] = "ole2";
inline constexpr char rtf[] = "rtf";
inline constexpr char onenote[] = "onenote";
inline constexpr char lnk[] = "lnk";
inline constexpr char tnef[] = "tnef";
// Executables and other formats we recognise by signature.
inline constexpr char pe[] = "pe";
inline constexpr char elf[] = "elf";
inline constexpr char macho[] = "macho";
inline constexpr char pdf[] = "pdf";
// Single-stream compressors and archives opened through libarchive.
inline constexpr char gzip[] = "gzip";
inline constexpr char bzip2[] = "bzip2";
inline constexpr char xz[] = "xz";
inline constexpr char zstd[] = "zstd";
inline constexpr char lz4[] = "lz4";
inline constexpr char lzip[] = "lzip";
inline constexpr char compress[] = "compress";
inline constexpr char seven_zip[] = "7z";
inline constexpr char rar[] = "rar";
inline constexpr char cab[] = "cab";
inline constexpr char lzh[] = "lzh";
inline constexpr char tar[] = "tar";
// Disk images.
inline constexpr char iso[] = "iso";
inline constexpr char udf[] = "udf";
inline constexpr char vhd[] = "vhd";
// Types without a signature of ours (libmagic's text tests, HTML and
// saved-message heuristics) and the fallbacks.
inline constexpr char html[] = "html";
inline constexpr char text[] = "text";
inline constexpr char image[] = "image";  // PNG, JPEG, GIF, WebP, TIFF
inline constexpr char binary[] = "binary";  // unknown
inline constexpr char empty[] = "empty";
// Derived objects that modules make (never the type of received bytes).
inline constexpr char vba_source[] = "vba_source";
inline constexpr char xlm_formulas[] = "xlm_formulas";
// Not a type: what Module::types() returns to accept every object.
inline constexpr char any[] = "*";
}  // namespace tag

struct TypeSpec {
  std::string_view tag;
  // Our signature check; null when the type is decided otherwise. Rows are
  // tried in table order, so a more specific signature comes first.
  bool (*signature)(std::string_view bytes) = nullptr;
  // The MIME name reported for it; empty: libmagic names it.
  std::string_view mime;
  // An archive is hashed before it is opened, so that its extractor can
  // compare it with its ancestors (a ZIP quine).
  bool archive = false;
  // Module::name() of the extractor that turns it into children; empty:
  // nothing opens it.
  std::string_view opener;
  // dangerous_type by content: what it is ("ELF executable"); empty: not
  // dangerous in itself.
  std::string_view dangerous;
};

// Every row, in signature order.
std::span<const TypeSpec> type_table();

// The row of a tag; null for a tag the table does not know.
const TypeSpec* find_type(std::string_view tag);

bool is_archive_type(std::string_view tag);

// The tags whose row names `module` as opener, in table order: the types()
// of a module that opens several formats.
std::vector<std::string> types_opened_by(std::string_view module);

}  // namespace emogate
