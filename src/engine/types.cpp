// The type table: one row per type tag (see types.h), and the signature
// walk over it. Every check is bounds-checked and cheap: it runs on every
// object, including 600 MB padded files.
// Trusted input: none.
#include "engine/types.h"

#include <algorithm>

#include "engine/typing.h"

namespace emogate {

namespace {

using Bytes = std::string_view;

bool starts(Bytes b, std::string_view sig, std::size_t off = 0) {
  return b.size() >= off + sig.size() && b.compare(off, sig.size(), sig) == 0;
}

bool zip_local_header(Bytes b) { return starts(b, "PK\x03\x04") || starts(b, "PK\x05\x06") || starts(b, "PK\x07\x08"); }

// An OOXML package names "[Content_Types].xml" in its central directory (at
// the end) or in an early local header; searching both ends is cheap.
bool looks_like_ooxml(Bytes b) {
  constexpr std::string_view marker = "[Content_Types].xml";
  Bytes head = b.substr(0, std::min<std::size_t>(b.size(), 64 * 1024));
  if (head.find(marker) != Bytes::npos) return true;
  std::size_t tail_len = std::min<std::size_t>(b.size(), 256 * 1024);
  return b.substr(b.size() - tail_len).find(marker) != Bytes::npos;
}

// A ZIP with bytes in front (junk, or a script) still opens in every unzip
// tool, so it must open here: the end record sits in the tail.
bool zip_with_prefix(Bytes b) {
  constexpr std::size_t kEocdWindow = 65535 + 22;
  Bytes tail = b.substr(b.size() > kEocdWindow ? b.size() - kEocdWindow : 0);
  return tail.find("PK\x05\x06") != Bytes::npos && b.find("PK\x03\x04") != Bytes::npos;
}

// Unix compress: the third byte holds the code width (9-16 bits) and two
// reserved bits that are always clear.
bool unix_compress(Bytes b) {
  return starts(b, "\x1F\x9D") && b.size() > 3 && (b[2] & 0x60) == 0 && (b[2] & 0x1F) >= 9 && (b[2] & 0x1F) <= 16;
}

// ISO 9660 and UDF volume descriptors start in sector 16 (0x8000), each one
// sector (2048 bytes) long, with the identifier after the type byte.
bool volume_descriptor(Bytes b, std::string_view id, int first, int count) {
  for (int i = first; i < first + count; ++i)
    if (starts(b, id, 0x8001 + 0x800 * static_cast<std::size_t>(i))) return true;
  return false;
}

// A fixed VHD has its only footer in the last sector (512 bytes; 511 in
// images from old Virtual PC versions); its first sector may be all zeros.
bool vhd(Bytes b) {
  if (starts(b, "conectix") || starts(b, "vhdxfile")) return true;
  return b.size() >= 1024 && (starts(b, "conectix", b.size() - 512) || starts(b, "conectix", b.size() - 511));
}

bool image(Bytes b) {
  return starts(b, "\x89PNG\r\n\x1A\n") || starts(b, "\xFF\xD8\xFF") || starts(b, "GIF87a") || starts(b, "GIF89a") ||
         (starts(b, "RIFF") && starts(b, "WEBP", 8)) || starts(b, "II*\x00") || starts(b, "MM\x00*");
}

constexpr bool kArchive = true;

// Signature order matters: OOXML before ZIP, executables before the
// archives a self-extractor carries, ISO 9660 before UDF (a UDF bridge image
// starts with ISO 9660 descriptors and is read as ISO). MIME names are given
// for the formats our signatures decide, so libmagic (about a third of a
// millisecond per call) runs only where it adds something.
// clang-format off
constexpr TypeSpec kTypes[] = {
  // tag, signature, MIME, archive, opener, dangerous
  {tag::ole2, [](Bytes b) { return starts(b, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"); }, "application/x-ole-storage", false, "ole2", ""},
  {tag::ooxml, [](Bytes b) { return zip_local_header(b) && looks_like_ooxml(b); }, "application/zip", kArchive, "zip", ""},
  {tag::zip, zip_local_header, "application/zip", kArchive, "zip", ""},
  {tag::rtf, [](Bytes b) { return starts(b, "{\\rt"); }, "text/rtf", false, "rtf", ""},
  // OneNote section: {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3}
  {tag::onenote, [](Bytes b) { return starts(b, "\xE4\x52\x5C\x7B\x8C\xD8\xA7\x4D\xAE\xB1\x53\x78\xD0\x29\x96\xD3"); },
   "application/onenote", false, "onenote", ""},
  // Shell link: header size 0x4C and CLSID 00021401-0000-0000-C000-000000000046.
  {tag::lnk, [](Bytes b) { return starts(b, std::string_view("\x4C\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46", 20)); },
   "application/x-ms-shortcut", false, "", ""},
  {tag::pe, [](Bytes b) { return starts(b, "MZ"); }, "", false, "", "Windows executable (PE)"},
  {tag::elf, [](Bytes b) { return starts(b, "\x7F" "ELF"); }, "", false, "", "ELF executable"},
  {tag::macho, [](Bytes b) { return starts(b, "\xCF\xFA\xED\xFE") || starts(b, "\xCE\xFA\xED\xFE") || starts(b, "\xCA\xFE\xBA\xBE"); },
   "", false, "", "Mach-O executable"},
  {tag::pdf, [](Bytes b) { return starts(b, "%PDF-"); }, "application/pdf", false, "", ""},
  {tag::gzip, [](Bytes b) { return starts(b, "\x1F\x8B"); }, "application/gzip", kArchive, "libarchive", ""},
  {tag::bzip2, [](Bytes b) { return starts(b, "BZh"); }, "application/x-bzip2", kArchive, "libarchive", ""},
  {tag::xz, [](Bytes b) { return starts(b, "\xFD" "7zXZ"); }, "application/x-xz", kArchive, "libarchive", ""},
  {tag::zstd, [](Bytes b) { return starts(b, "\x28\xB5\x2F\xFD"); }, "application/zstd", kArchive, "libarchive", ""},
  {tag::lz4, [](Bytes b) { return starts(b, "\x04\x22\x4D\x18") || starts(b, "\x02\x21\x4C\x18"); }, "application/x-lz4", kArchive, "libarchive", ""},
  {tag::lzip, [](Bytes b) { return starts(b, "LZIP\x01"); }, "application/x-lzip", kArchive, "libarchive", ""},
  {tag::compress, unix_compress, "application/x-compress", kArchive, "libarchive", ""},
  {tag::seven_zip, [](Bytes b) { return starts(b, "7z\xBC\xAF\x27\x1C"); }, "application/x-7z-compressed", kArchive, "libarchive", ""},
  {tag::rar, [](Bytes b) { return starts(b, "Rar!\x1A\x07"); }, "application/x-rar", kArchive, "libarchive", ""},
  {tag::cab, [](Bytes b) { return starts(b, "MSCF"); }, "application/vnd.ms-cab-compressed", kArchive, "libarchive", ""},
  {tag::lzh, [](Bytes b) { return b.size() >= 7 && b[2] == '-' && b[3] == 'l' && (b[4] == 'h' || b[4] == 'z') && b[6] == '-'; },
   "application/x-lzh-compressed", kArchive, "libarchive", ""},
  {tag::tnef, [](Bytes b) { return starts(b, "\x78\x9F\x3E\x22"); }, "application/vnd.ms-tnef", kArchive, "tnef", ""},
  {tag::tar, [](Bytes b) { return starts(b, "ustar", 257); }, "application/x-tar", kArchive, "libarchive", ""},
  {tag::iso, [](Bytes b) { return volume_descriptor(b, "CD001", 0, 3); }, "", kArchive, "libarchive", "ISO 9660 disk image"},
  {tag::udf, [](Bytes b) { return volume_descriptor(b, "BEA01", 0, 1) || volume_descriptor(b, "NSR02", 0, 1) || volume_descriptor(b, "NSR03", 0, 1); },
   "", kArchive, "libarchive", "UDF disk image"},
  {tag::vhd, vhd, "", false, "", "virtual hard disk image"},
  {tag::image, image, "", false, "", ""},  // MIME by the image format, in typing
  // No signature of ours: typing decides these after the walk.
  {tag::email, nullptr, "", false, "mime", ""},
  {tag::html, nullptr, "", false, "", ""},
  {tag::text, nullptr, "", false, "", ""},
  {tag::binary, nullptr, "", false, "", ""},
  {tag::empty, nullptr, "", false, "", ""},
  {tag::vba_source, nullptr, "", false, "", ""},
  {tag::xlm_formulas, nullptr, "", false, "", ""},
};
// clang-format on

}  // namespace

std::span<const TypeSpec> type_table() { return kTypes; }

const TypeSpec* find_type(std::string_view t) {
  for (const TypeSpec& s : kTypes)
    if (s.tag == t) return &s;
  return nullptr;
}

bool is_archive_type(std::string_view t) {
  const TypeSpec* s = find_type(t);
  return s && s->archive;
}

std::vector<std::string> types_opened_by(std::string_view module) {
  std::vector<std::string> out;
  for (const TypeSpec& s : kTypes)
    if (s.opener == module) out.emplace_back(s.tag);
  return out;
}

std::string signature_type(std::string_view b) {
  for (const TypeSpec& s : kTypes)
    if (s.signature && s.signature(b)) return std::string(s.tag);
  if (zip_with_prefix(b)) return looks_like_ooxml(b) ? tag::ooxml : tag::zip;
  return {};
}

}  // namespace emogate
