// One decoded text part of a message, as the MIME stage hands it to the
// readers of what the recipient reads (the password miner, URL extraction).
// Trusted input: none; the text is the sender's.
#pragma once

#include <string>

namespace emogate {

// A decoded text part of the message (UTF-8), for the password miner and
// anything else that reads what the recipient reads.
struct TextPart {
  std::string label;  // "text/plain part 1", "text/html part 2", "Subject"
  std::string text;   // UTF-8; HTML already reduced to text
  bool from_html = false;
};

}  // namespace emogate
