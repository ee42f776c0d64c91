// Parsing what an HTTP request carries into the pages' Request (web.h):
// percent-decoding, the query string and the urlencoded form (bounded by
// the number of fields), the request path, cookies and the language choice.
// Trusted input: none. Every function takes hostile bytes, never throws, and
// reports malformed input as false (the server answers 400).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "web/web.h"

namespace emogate::web {

// Percent-decoding; with `plus_is_space` (query and form) '+' is a space.
// False on a '%' not followed by two hex digits.
bool url_decode(std::string_view in, std::string& out, bool plus_is_space);

// "a=1&b=x%20y&c" into `out` (appended, decoded; "c" has an empty value).
// False when a pair does not decode or when there are more than
// `max_fields` pairs (empty pairs between '&'s are skipped, not counted).
bool parse_pairs(std::string_view text, std::size_t max_fields, std::multimap<std::string, std::string>& out);

// The request target's path, decoded: it must start with '/', and no
// segment may be "." or "..", nor contain a control character or a
// backslash after decoding. False otherwise.
bool parse_path(std::string_view raw_path, std::string& out);

// The value of cookie `name` in a Cookie header ("a=1; b=2"); none when absent.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);

// "ja" or "en" from ?lang= (given when non-empty), else the remembered
// choice (cookie), else the Accept-Language header: ja when Japanese has a
// higher q-value than English (and than "*"), else en.
Lang choose_lang(std::string_view query_lang, std::string_view cookie_lang, std::string_view accept_language);

// "en"/"ja" for a Lang, and back (none for anything else).
std::string_view lang_code(Lang l);
std::optional<Lang> parse_lang(std::string_view code);

}  // namespace emogate::web
