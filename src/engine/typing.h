// True-type identification. Our own signature checks decide the formats we
// parse (OLE2, OOXML, ZIP, RTF, OneNote, LNK, ...); libmagic names the rest.
// The declared name and Content-Type never decide the type.
//
// Type tags: email, zip, ooxml, ole2, rtf, onenote, lnk, pe, elf, macho, pdf,
// gzip, bzip2, xz, 7z, rar, cab, lzh, tar, iso, udf, vhd, tnef, html, text,
// image (PNG, JPEG, GIF, WebP, TIFF by signature), binary (unknown), and
// derived tags set by modules (vba_source, xlm_formulas).
#pragma once

#include <string>
#include <string_view>

namespace emogate {

struct TypeInfo {
  std::string type;   // tag
  std::string mime;   // libmagic MIME
  std::string magic;  // libmagic description
};

// Text is never given to libmagic's database (HTML and saved messages are
// recognised here). soft_magic = false skips the database for binary data
// too (about 0.3 ms per object); the engine asks for it only for files the
// message carries directly, whose MIME type the report shows to admins.
// Objects inside containers the database could only call octet-stream or a
// type that nothing here parses.
TypeInfo identify(std::string_view bytes, bool soft_magic = true);

// Only our signature checks (no libmagic): empty tag when none matches.
std::string signature_type(std::string_view bytes);

}  // namespace emogate
