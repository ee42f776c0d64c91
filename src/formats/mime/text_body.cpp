// Reading a decoded text body: charset, HTML reduction, uuencoded blocks.
// Trusted input: none; the body and its charset label are the sender's.
#include "formats/mime/text_body.h"

#include "formats/mime/charset.h"
#include "formats/mime/html_text.h"

namespace emogate {

TextBody read_text_body(std::string_view bytes, std::string_view charset, bool html, std::uint64_t max_uu_bytes) {
  TextBody body;
  body.utf8 = to_utf8(bytes, charset);
  if (html) body.html_text = html_to_text(body.utf8);
  // Only a body whose text shows a "begin " line is searched for blocks.
  if (body.utf8.find("begin ") != std::string::npos) {
    body.uu = find_uuencoded(bytes, 64, max_uu_bytes);
    for (UuBlock& b : body.uu) b.name = to_utf8(b.name, charset);
  }
  return body;
}

}  // namespace emogate
