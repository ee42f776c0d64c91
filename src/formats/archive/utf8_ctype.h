// A scope in which the calling thread's LC_CTYPE is C.UTF-8 (uselocale:
// this thread, this scope, nothing else changes). libarchive converts names
// stored as Unicode (7z, RAR 5, RAR 4's Unicode field, LZH's UTF-16
// extension, CAB's UTF-8 flag) to the charset of the calling thread's
// locale, and copies names with no charset (LZH, CAB, RAR 4, tar, ISO) byte
// for byte. The process never sets a locale, so in "C" every non-ASCII
// Unicode name failed to convert and was lost; under C.UTF-8 the Unicode
// names come out as UTF-8 and the byte names stay raw.
// Trusted input: none (reads no data).
#pragma once

#include <locale.h>

namespace emogate {

class Utf8Ctype {
 public:
  Utf8Ctype() {
    thread_local locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (utf8) old_ = uselocale(utf8);
  }
  ~Utf8Ctype() {
    if (old_) uselocale(old_);
  }
  Utf8Ctype(const Utf8Ctype&) = delete;
  Utf8Ctype& operator=(const Utf8Ctype&) = delete;

 private:
  locale_t old_ = nullptr;
};

}  // namespace emogate
