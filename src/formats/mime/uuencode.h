// uuencoded blocks ("begin 644 name" ... "end") embedded in text bodies:
// old mailers and some malware still send attachments this way.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace emogate {

struct UuBlock {
  std::string name;
  std::string data;
  bool complete = false;  // "end" line seen
};

// At most max_blocks blocks, at most max_bytes decoded bytes in all.
std::vector<UuBlock> find_uuencoded(std::string_view text, std::size_t max_blocks,
                                    std::size_t max_bytes);

}  // namespace emogate
