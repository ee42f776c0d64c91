// URL and IPv4 extraction from text for the URL intelligence detector:
// undoes the simple obfuscations droppers use (hxxp, [.], carets, strings
// split and joined with & or + in VBA/XLM) and normalises numeric hosts
// (0xb907d607, 0271.07.0326.07, 3104298503) to dotted quads, so a listed
// URL matches however the dropper spelled it.
// Trusted input: none; output is bounded by the input size and max_urls.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emogate {

struct ExtractedUrls {
  std::vector<std::string> urls;  // normalised, unique, in order of appearance
  std::vector<std::string> ips;   // dotted quads: URL hosts and bare addresses
};

// Undoes the obfuscations above; the result is never longer than `text`.
std::string deobfuscate_text(std::string_view text);

// Runs of at least 4 UTF-16LE ASCII characters (c,0,c,0,...) become plain
// ASCII (shortcut arguments, OneNote and Word text); other bytes are kept.
std::string collapse_utf16le(std::string_view bytes);

// http/https/ftp URLs and IPv4 addresses in `text` (UTF-16LE runs collapsed
// and deobfuscated first).
ExtractedUrls extract_urls(std::string_view text, std::size_t max_urls = 1000);

// "HTTP://User@0xB907D607:80/a#x" -> "http://185.7.214.7/a". Empty host or
// unsupported scheme -> nullopt. Used for list entries too, so both sides
// of a comparison are spelled the same way.
std::optional<std::string> normalize_url(std::string_view url);

// inet_aton-style numeric host (1 to 4 parts, each decimal, 0x-hex or
// 0-octal) -> dotted quad; nullopt when `host` is not such a number.
std::optional<std::string> numeric_host_to_ipv4(std::string_view host);

// Host part of a normalised URL ("http://a.b/c" -> "a.b").
std::string url_host(std::string_view normalized_url);

bool is_ipv4(std::string_view s);

}  // namespace emogate
