// HTML reduced to the text a reader sees: tags dropped, block elements
// turned into line breaks, script/style contents dropped, character
// references decoded. Used for the password miner and for YARA/URL scans.
// Linear time; the input is hostile.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace emogate {

std::string html_to_text(std::string_view html);

// href/src attribute values found in the HTML (for URL extraction).
std::vector<std::string> html_links(std::string_view html, std::size_t max_links = 1000);

}  // namespace emogate
