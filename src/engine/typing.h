// True-type identification. Our own signature checks decide the formats we
// parse (OLE2, OOXML, ZIP, RTF, OneNote, LNK, ...); libmagic names the rest.
// The declared name and Content-Type never decide the type.
//
// Type tags: email, zip, ooxml, ole2, rtf, onenote, lnk, pe, elf, macho, pdf,
// gzip, bzip2, xz, zstd, lz4, lzip, compress, 7z, rar, cab, lzh, tar, iso, udf, vhd, tnef, html, text,
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

// libmagic's database runs only to describe executables and disk images
// (the dangerous_type detail); everything else is our signatures plus its
// built-in text/binary tests. Unknown binary data is application/octet-stream.
TypeInfo identify(std::string_view bytes);

// Only our signature checks (no libmagic): empty tag when none matches.
std::string signature_type(std::string_view bytes);

}  // namespace emogate
