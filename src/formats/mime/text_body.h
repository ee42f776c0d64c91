// A text body of a message, read: its bytes (transfer encoding already
// removed) decoded to UTF-8 from the part's charset, HTML reduced to the
// text the recipient reads, and the uuencoded blocks it carries with their
// names decoded from the same charset.
// Trusted input: none; the body and its charset label are the sender's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/mime/uuencode.h"

namespace emogate {

struct TextBody {
  std::string utf8;         // the body in UTF-8 (HTML markup kept)
  std::string html_text;    // an HTML body reduced to text; empty for plain text
  std::vector<UuBlock> uu;  // uuencoded blocks (at most 64), names in UTF-8
};

// `max_uu_bytes` bounds the decoded bytes of all uuencoded blocks together.
TextBody read_text_body(std::string_view bytes, std::string_view charset, bool html, std::uint64_t max_uu_bytes);

}  // namespace emogate
