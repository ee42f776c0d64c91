// is_user_file: see file_scope.h.
// Trusted input: none.
#include "engine/file_scope.h"

#include "engine/types.h"

namespace emogate {

namespace {

// A format a file on disk has (a document, archive, executable, shortcut,
// disk image...): a type our table recognises by signature, other than
// pictures and the fallbacks. Text, HTML, images, unknown binary and the
// derived types are not: inside a document those are its streams and parts.
bool file_format(const std::string& type) {
  if (type == tag::image || type == tag::email) return false;
  const TypeSpec* t = find_type(type);
  return t && t->signature != nullptr;
}

}  // namespace

bool is_user_file(const Object& obj) {
  if (obj.derived) return false;
  const Object* parent = obj.parent;
  // The scanned input: a file given to `emogate scan`, or a message.
  if (!parent) return obj.type != tag::email;
  const std::string& pt = parent->type;
  // MIME and TNEF parts other than the message's own text bodies are
  // attachments; a message/rfc822 part is a message.
  if (pt == tag::email || pt == tag::tnef) return !obj.body && obj.type != tag::email;
  // Members of archives and disk images (an OOXML package is a ZIP, but its
  // parts are the document's layers).
  if (is_archive_type(pt) && pt != tag::ooxml) return true;
  // OneNote keeps only embedded files in its file data store.
  if (pt == tag::onenote) return true;
  // Inside documents (OLE2 streams, OOXML parts, RTF objects): what has a
  // file's format (a decrypted package, an embedded workbook, a packaged
  // executable).
  if (pt == tag::ole2 || pt == tag::ooxml || pt == tag::rtf) return file_format(obj.type);
  return false;
}

}  // namespace emogate
