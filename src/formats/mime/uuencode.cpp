// uudecode: each line starts with a length character (32 + n) followed by
// groups of four characters, each carrying six bits ((c - 32) & 63).
// Trusted input: none.
#include "formats/mime/uuencode.h"

#include <cctype>

namespace emogate {

namespace {

bool parse_begin(std::string_view line, std::string& name) {
  if (!line.starts_with("begin ")) return false;
  std::size_t i = 6;
  std::size_t digits = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '7') ++i, ++digits;
  if (digits < 3 || digits > 4 || i >= line.size() || line[i] != ' ') return false;
  name = std::string(line.substr(i + 1));
  while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
  return !name.empty();
}

}  // namespace

std::vector<UuBlock> find_uuencoded(std::string_view text, std::size_t max_blocks,
                                    std::size_t max_bytes) {
  std::vector<UuBlock> blocks;
  std::size_t total = 0, pos = 0;
  UuBlock* cur = nullptr;
  while (pos < text.size() && blocks.size() <= max_blocks) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!cur) {
      std::string name;
      if (blocks.size() < max_blocks && parse_begin(line, name)) {
        blocks.push_back(UuBlock{std::move(name), {}, false});
        cur = &blocks.back();
      }
      continue;
    }
    if (line == "end") {
      cur->complete = true;
      cur = nullptr;
      continue;
    }
    if (line.empty()) continue;
    std::size_t n = static_cast<std::size_t>((line[0] - 32) & 63);
    if (n == 0) continue;  // the "`" line before "end"
    std::size_t produced = 0;
    for (std::size_t i = 1; i + 3 < line.size() + 3 && produced < n; i += 4) {
      unsigned v[4];
      for (int k = 0; k < 4; ++k)
        v[k] = i + k < line.size() ? static_cast<unsigned>((line[i + k] - 32) & 63) : 0;
      unsigned char out[3] = {static_cast<unsigned char>(v[0] << 2 | v[1] >> 4),
                              static_cast<unsigned char>(v[1] << 4 | v[2] >> 2),
                              static_cast<unsigned char>(v[2] << 6 | v[3])};
      for (int k = 0; k < 3 && produced < n; ++k, ++produced) {
        if (total >= max_bytes) return blocks;
        cur->data.push_back(static_cast<char>(out[k]));
        ++total;
      }
    }
  }
  return blocks;
}

}  // namespace emogate
