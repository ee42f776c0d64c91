// One node of a message's object tree: the message itself, a MIME part, an
// archive member, an OLE stream, or derived text (VBA source, XLM formulas,
// HTML reduced to text). Modules read objects; only the engine creates them.
// Trusted input: none.
#pragma once

#include <cstdint>
#include <string>

#include "engine/blob.h"

namespace emogate {

struct Object {
  std::uint32_t id = 0;
  const Object* parent = nullptr;
  std::string path;           // "請求書.zip/請求書.xls"
  std::string name;           // declared name ("請求書.xls"); may be empty
  std::string declared_type;  // Content-Type from MIME, or empty
  std::string type;           // true type tag (see engine/typing.h)
  std::string mime;           // libmagic MIME type
  std::string magic;          // libmagic description
  Blob data;
  int depth = 0;
  bool truncated = false;       // cut short by a limit
  bool derived = false;         // produced by analysis, not carried in the mail
  bool from_encrypted = false;  // this or an ancestor was decrypted
  bool body = false;            // the message's own text (a MIME or TNEF body), not a file it carries
  std::string provenance;
  std::string sha256;  // hex, filled by the engine before dispatch

  std::string_view bytes() const { return data.view(); }
  std::uint64_t size() const { return data.size(); }
  // Lower-case extension of the declared name without the dot ("xls").
  std::string extension() const;
};

}  // namespace emogate
