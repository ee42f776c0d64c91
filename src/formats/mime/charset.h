// Charset decoding to UTF-8 for mail text, with the Japanese supersets that
// real mail needs: ISO-2022-JP is decoded as CP50221 (NEC and IBM extension
// characters such as ① and ㈱, half-width katakana) and Shift_JIS as CP932.
// Input is hostile: invalid sequences become U+FFFD, never an error.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>

namespace emogate {

// charset: a MIME charset label, case-insensitive; empty = guess.
std::string to_utf8(std::string_view bytes, std::string_view charset);

// ISO-2022-JP (CP50221 superset) to CP932 bytes; exposed for tests.
std::string iso2022jp_to_cp932(std::string_view bytes);

// UTF-8 to CP932 bytes (characters CP932 lacks are dropped); returns false
// when nothing could be converted.
bool utf8_to_cp932(std::string_view utf8, std::string& out);

bool is_valid_utf8(std::string_view s);

// RFC 2047 encoded words in a header value, decoded with to_utf8.
std::string decode_rfc2047(std::string_view value);

}  // namespace emogate
