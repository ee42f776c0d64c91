// Test-only compound file (MS-CFB) writer, so unit tests build their OLE2
// fixtures in code. Streams are added by path ("Macros/VBA/dir"); storages
// are implied by the paths. Small streams go to the mini stream unless
// `no_mini` is set. After build(), the layout fields tell a test where to
// corrupt the file (FAT entries, start sectors).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace emogate::test {

class Ole2Builder {
 public:
  static constexpr std::uint32_t kEnd = 0xFFFFFFFE, kFree = 0xFFFFFFFF, kFatSect = 0xFFFFFFFD,
                                 kDifSect = 0xFFFFFFFC;
  explicit Ole2Builder(int version = 3) : version_(version) {}

  Ole2Builder& add(std::string path, std::string data) {
    streams_.emplace_back(std::move(path), std::move(data));
    return *this;
  }
  bool no_mini = false;

  // Layout, filled by build().
  std::uint32_t sector_size = 512;
  std::map<std::string, std::uint32_t> start;  // stream path -> first (mini) sector
  std::uint32_t dir_start = 0;
  std::vector<std::uint32_t> fat_sectors;      // where the FAT lives
  std::size_t sector_offset(std::uint32_t s) const { return (s + 1ull) * sector_size; }
  // Byte offset of the FAT entry describing `sector`.
  std::size_t fat_entry_offset(std::uint32_t sector) const {
    return sector_offset(fat_sectors[sector / (sector_size / 4)]) + (sector % (sector_size / 4)) * 4;
  }

  std::string build() {
    sector_size = version_ == 4 ? 4096 : 512;
    const std::uint32_t per = sector_size / 4;
    // Directory nodes: index 0 is the root.
    struct Node {
      std::string name;
      int type;  // 1 storage, 2 stream, 5 root
      std::vector<std::size_t> kids;
      const std::string* data = nullptr;
      std::uint32_t start = kEnd;
      std::uint64_t size = 0;
      std::string path;
    };
    std::vector<Node> nodes{{"Root Entry", 5, {}, nullptr, kEnd, 0, ""}};
    for (auto& [path, data] : streams_) {
      std::size_t cur = 0, pos = 0;
      while (true) {
        std::size_t slash = path.find('/', pos);
        std::string part = path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
        bool leaf = slash == std::string::npos;
        std::size_t found = 0;
        for (auto k : nodes[cur].kids)
          if (nodes[k].name == part) found = k;
        if (!found) {
          nodes.push_back({part, leaf ? 2 : 1, {}, leaf ? &data : nullptr, kEnd, 0,
                           path.substr(0, leaf ? path.size() : slash)});
          found = nodes.size() - 1;
          nodes[cur].kids.push_back(found);
        }
        cur = found;
        if (leaf) break;
        pos = slash + 1;
      }
    }
    // Mini stream and mini FAT.
    std::string mini;
    std::vector<std::uint32_t> minifat;
    std::vector<std::pair<std::size_t, const std::string*>> big;  // node, data
    for (std::size_t i = 1; i < nodes.size(); ++i) {
      Node& n = nodes[i];
      if (n.type != 2) continue;
      n.size = n.data->size();
      if (n.size == 0) continue;
      if (n.size < 4096 && !no_mini) {
        n.start = static_cast<std::uint32_t>(minifat.size());
        std::size_t count = (n.size + 63) / 64;
        for (std::size_t k = 0; k < count; ++k)
          minifat.push_back(k + 1 < count ? n.start + k + 1 : kEnd);
        mini += *n.data;
        mini.resize(minifat.size() * 64, '\0');
        start[n.path] = n.start;
      } else {
        big.emplace_back(i, n.data);
      }
    }
    std::string minifat_bytes;
    for (auto v : minifat) put32(minifat_bytes, v);
    // Sector order: FAT, DIFAT, mini stream, mini FAT, directory, big
    // streams, so that a truncated file keeps its FAT and directory.
    auto count = [&](std::uint64_t n) { return static_cast<std::uint32_t>((n + sector_size - 1) / sector_size); };
    std::uint32_t data_n = count(mini.size()) + count(minifat_bytes.size()) + count(nodes.size() * 128);
    for (auto& b : big) data_n += count(b.second->size());
    std::uint32_t nfat = 1, ndifat = 0;
    while (true) {
      ndifat = nfat > 109 ? (nfat - 109 + per - 2) / (per - 1) : 0;
      if (static_cast<std::uint64_t>(nfat) * per >= data_n + nfat + ndifat) break;
      ++nfat;
    }
    std::vector<std::uint32_t> fat(static_cast<std::size_t>(nfat) * per, kFree);
    fat_sectors.clear();
    std::vector<std::uint32_t> difat_ids;
    for (std::uint32_t k = 0; k < nfat; ++k) {
      fat_sectors.push_back(k);
      fat[k] = kFatSect;
    }
    for (std::uint32_t k = 0; k < ndifat; ++k) {
      difat_ids.push_back(nfat + k);
      fat[nfat + k] = kDifSect;
    }
    std::string body;
    std::uint32_t next = nfat + ndifat;
    auto place = [&](const std::string& blob) -> std::uint32_t {
      if (blob.empty()) return kEnd;
      std::uint32_t first = next;
      std::uint32_t n = count(blob.size());
      for (std::uint32_t k = 0; k < n; ++k) fat[first + k] = k + 1 < n ? first + k + 1 : kEnd;
      next += n;
      std::string padded = blob;
      padded.resize(static_cast<std::size_t>(n) * sector_size, '\0');
      body += padded;
      return first;
    };
    std::uint32_t mini_start = place(mini);
    std::uint32_t minifat_start = place(minifat_bytes);
    dir_start = next;
    std::uint32_t first_big = dir_start + count(nodes.size() * 128);
    for (auto& [idx, data] : big) {
      nodes[idx].start = first_big;
      start[nodes[idx].path] = first_big;
      first_big += count(data->size());
    }
    nodes[0].start = mini_start;
    nodes[0].size = mini.size();
    std::string dir;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const Node& n = nodes[i];
      std::string e(128, '\0');
      std::size_t units = std::min<std::size_t>(n.name.size(), 31);
      for (std::size_t k = 0; k < units; ++k) e[2 * k] = n.name[k];
      e[64] = static_cast<char>((units + 1) * 2);
      e[66] = static_cast<char>(n.type);
      e[67] = 1;
      std::uint32_t right = kFree, child = kFree;
      // Siblings form a right-leaning chain: a valid (if unbalanced) tree.
      for (std::size_t p = 0; p < nodes.size(); ++p) {
        const auto& kids = nodes[p].kids;
        for (std::size_t k = 0; k < kids.size(); ++k)
          if (kids[k] == i && k + 1 < kids.size()) right = static_cast<std::uint32_t>(kids[k + 1]);
      }
      if (!n.kids.empty()) child = static_cast<std::uint32_t>(n.kids[0]);
      set32(e, 68, kFree);
      set32(e, 72, right);
      set32(e, 76, child);
      set32(e, 116, n.start);
      set32(e, 120, static_cast<std::uint32_t>(n.size));
      set32(e, 124, static_cast<std::uint32_t>(n.size >> 32));
      dir += e;
    }
    place(dir);
    for (auto& [idx, data] : big) place(*data);
    std::string head;
    for (std::uint32_t k = 0; k < nfat; ++k)
      for (std::uint32_t j = 0; j < per; ++j) put32(head, fat[k * per + j]);
    for (std::uint32_t k = 0; k < ndifat; ++k) {
      for (std::uint32_t j = 0; j + 1 < per; ++j) {
        std::size_t idx = 109 + static_cast<std::size_t>(k) * (per - 1) + j;
        put32(head, idx < nfat ? fat_sectors[idx] : kFree);
      }
      put32(head, k + 1 < ndifat ? difat_ids[k + 1] : kEnd);
    }
    std::string sectors_bytes = head + body;
    // Header.
    std::string h(512, '\0');
    const unsigned char sig[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    for (int i = 0; i < 8; ++i) h[i] = static_cast<char>(sig[i]);
    set16(h, 24, 0x3E);
    set16(h, 26, static_cast<std::uint16_t>(version_));
    set16(h, 28, 0xFFFE);
    set16(h, 30, version_ == 4 ? 12 : 9);
    set16(h, 32, 6);
    set32(h, 40, version_ == 4 ? static_cast<std::uint32_t>((dir.size() + sector_size - 1) / sector_size) : 0);
    set32(h, 44, nfat);
    set32(h, 48, dir_start);
    set32(h, 56, 4096);
    set32(h, 60, minifat_start);
    set32(h, 64, static_cast<std::uint32_t>((minifat_bytes.size() + sector_size - 1) / sector_size));
    set32(h, 68, ndifat ? difat_ids[0] : kEnd);
    set32(h, 72, ndifat);
    for (std::uint32_t k = 0; k < 109; ++k) set32(h, 76 + 4 * k, k < nfat ? fat_sectors[k] : kFree);
    h.resize(sector_size, '\0');
    return h + sectors_bytes;
  }

  static void put32(std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s += static_cast<char>(v >> (8 * i));
  }
  static void set16(std::string& s, std::size_t off, std::uint16_t v) {
    s[off] = static_cast<char>(v);
    s[off + 1] = static_cast<char>(v >> 8);
  }
  static void set32(std::string& s, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s[off + i] = static_cast<char>(v >> (8 * i));
  }

 private:
  int version_;
  std::vector<std::pair<std::string, std::string>> streams_;
};

}  // namespace emogate::test
