// Which objects of a message are files as a user would save them: the
// attachments, archive members, decrypted documents and embedded files,
// as opposed to the layers emogate also walks (OLE streams, package parts,
// text bodies, derived text). Rule sets with scope "files" see only these.
// Decided from the object tree (parents, Object::derived and Object::body)
// and the type table, never from names.
// Trusted input: none.
#pragma once

#include "engine/object.h"

namespace emogate {

bool is_user_file(const Object& obj);

}  // namespace emogate
