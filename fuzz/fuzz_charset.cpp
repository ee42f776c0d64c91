// libFuzzer target for charset decoding, RFC 2047 words, HTML reduction,
// uuencode and base64: the first byte picks a charset label, the rest is the
// text.
#include <cstdint>
#include <string_view>

#include "formats/mime/base64.h"
#include "formats/mime/charset.h"
#include "formats/mime/html_text.h"
#include "formats/mime/uuencode.h"

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
  return 0;
}
