// FileDataStoreObject scanning for OneNote sections; see onenote_blobs.h.
// Linear scans only; every length is checked against the file size.
// Trusted input: none.
#include "formats/onenote/blobs.h"

#include <cstdint>

#include "common/bytes.h"
#include "common/text.h"

namespace emogate::onenote {
namespace {

// {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC} in its on-disk byte order.
constexpr std::string_view kHeader("\xE7\x16\xE3\xBD\x65\x26\x11\x45\xA4\xC4\x8D\x4D\x0B\x7A\x9E\xAC", 16);
constexpr std::size_t kDataOffset = 16 + 8 + 4 + 8;

bool name_char(std::uint32_t c) {
  if (c < 0x20 || c == 0x7F || c >= 0xFFFE || (c >= 0xD800 && c < 0xE000)) return false;
  for (char bad : std::string_view("<>:\"/\\|?*"))
    if (c == std::uint32_t(static_cast<unsigned char>(bad))) return false;
  return true;
}

}  // namespace

bool is_picture(std::string_view b) {
  for (std::string_view sig : {std::string_view("\x89PNG"), std::string_view("\xFF\xD8\xFF"),
                               std::string_view("GIF8"), std::string_view("BM"),
                               std::string_view("\x01\x00\x00\x00", 4),  // EMF
                               std::string_view("\xD7\xCD\xC6\x9A")})    // placeable WMF
    if (b.starts_with(sig)) return true;
  return false;
}

std::vector<std::string_view> file_blobs(std::string_view file, std::size_t max) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (out.size() < max && (at = file.find(kHeader, at)) != std::string_view::npos) {
    std::size_t data = at + kDataOffset;
    if (data > file.size()) break;
    std::uint64_t len = le64(file, at + 16);
    std::size_t take = std::size_t(std::min<std::uint64_t>(len, file.size() - data));
    out.push_back(file.substr(data, take));
    at = data + take;
  }
  return out;
}

std::vector<std::string> file_names(std::string_view file, std::size_t max) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 4 <= file.size() && out.size() < max; ++i) {
    std::uint32_t cb = le32(file, i);
    if (cb < 6 || cb > 520 || cb % 2 || cb > file.size() - i - 4) continue;
    std::string_view text = file.substr(i + 4, cb);
    std::size_t k = 0, dot = std::string_view::npos;
    for (; k < cb; k += 2) {
      std::uint32_t c = le16(text, k);
      if (!name_char(c)) break;
      if (c == '.') dot = k / 2;
    }
    if (k < cb || dot == std::string_view::npos) continue;
    std::string name = utf16le_to_utf8(text, false);
    std::size_t ext_len = cb / 2 - dot - 1;
    bool ext_ok = ext_len >= 1 && ext_len <= 5 && dot > 0;
    for (std::size_t e = dot + 1; ext_ok && e < cb / 2; ++e) {
      std::uint32_t c = le16(text, e * 2);
      ext_ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
    if (!ext_ok) continue;
    if (out.empty() || out.back() != name) out.push_back(std::move(name));
    i += 3 + cb;
  }
  return out;
}

std::vector<std::string> pair_names(const std::vector<std::string_view>& blobs,
                                    const std::vector<std::string>& names) {
  std::vector<std::string> out(blobs.size());
  std::vector<std::size_t> unnamed;
  for (std::size_t i = 0; i < blobs.size(); ++i)
    if (!is_picture(blobs[i])) unnamed.push_back(i);
  if (unnamed.size() == names.size())
    for (std::size_t k = 0; k < unnamed.size(); ++k) out[unnamed[k]] = names[k];
  else if (blobs.size() == names.size())
    out = names;
  return out;
}

}  // namespace emogate::onenote
