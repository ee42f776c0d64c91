// libFuzzer target for charset decoding, RFC 2047 words, HTML reduction,
// uuencode, base64, a text body's reading and the engine-free reading of a
// GMime message (part classification, file names, transfer decoding,
// embedded messages): the first byte picks a charset label, the rest is the
// text, also parsed as a message.
#include <cstdint>
#include <set>
#include <string_view>

#include "formats/mime/base64.h"
#include "formats/mime/charset.h"
#include "formats/mime/gmime_message.h"
#include "formats/mime/html_text.h"
#include "formats/mime/text_body.h"
#include "formats/mime/uuencode.h"

namespace {

// Reads every part the way the MIME module does, at most `budget` of them.
void read_parts(GMimeObject* obj, int& budget) {
  if (!obj || --budget < 0) return;
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    for (int i = 0; i < g_mime_multipart_get_count(mp); ++i) read_parts(g_mime_multipart_get_part(mp, i), budget);
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    emogate::embedded_message(GMIME_MESSAGE_PART(obj), "fallback.eml");
  } else if (GMIME_IS_PART(obj)) {
    GMimePart* part = GMIME_PART(obj);
    emogate::LeafPart leaf = emogate::classify_part(part);
    std::set<std::string> problems;
    std::string bytes;
    emogate::decode_content(part, 1 << 20, [] { return false; }, "p", problems, [&](std::string_view c) {
      if (bytes.size() + c.size() > (1u << 20)) return false;
      bytes.append(c);
      return true;
    });
    emogate::decoded_size_hint(part);
    if (leaf.text_body) emogate::read_text_body(bytes, emogate::part_charset(part), leaf.mime_type == "text/html", 1 << 20);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* labels[] = {"iso-2022-jp", "shift_jis", "euc-jp", "utf-8", "", "gb2312",
                                 "ks_c_5601-1987", "iso-8859-1", "x-bogus"};
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string out = emogate::to_utf8(text, labels[data[0] % 9]);
  if (!emogate::is_valid_utf8(out)) __builtin_trap();
  emogate::decode_rfc2047(text);
  emogate::html_to_text(text);
  emogate::html_links(text);
  emogate::find_uuencoded(text, 8, 1 << 20);
  emogate::Base64Decoder b64;
  std::string decoded(emogate::Base64Decoder::max_output(text.size()) + 3, '\0');
  std::size_t n = b64.step(text, decoded.data());
  n += b64.flush(decoded.data() + n);
  if (n > decoded.size()) __builtin_trap();
  emogate::TextBody body = emogate::read_text_body(text, labels[data[0] % 9], data[0] & 1, 1 << 20);
  if (!emogate::is_valid_utf8(body.utf8)) __builtin_trap();
  std::set<std::string> problems;
  emogate::ParsedMessage message(text, problems);
  if (message.message()) emogate::message_subject(message.message());
  int budget = 64;
  read_parts(message.body(), budget);
  return 0;
}
