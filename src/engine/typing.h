// True-type identification. Our own signature checks decide the formats we
// parse (OLE2, OOXML, ZIP, RTF, OneNote, LNK, ...); libmagic names the rest.
// The declared name and Content-Type never decide the type.
//
// The type tags and their signatures are the table in types.h.
// Trusted input: none.
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
// Defined with the table, in types.cpp.
std::string signature_type(std::string_view bytes);

}  // namespace emogate
