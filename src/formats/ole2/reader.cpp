// OLE2 compound file reader (MS-CFB). See ole2_reader.h.
// Trusted input: none. Every offset is checked against the file size, every
// chain against the number of sectors the file holds and against a visited
// set; nothing is allocated beyond what the file (or max_bytes) can justify.
#include "formats/ole2/reader.h"

#include "common/bytes.h"
#include "common/text.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

namespace emogate::ole2 {
namespace {

constexpr std::uint32_t kMaxRegSect = 0xFFFFFFFA;
constexpr std::uint32_t kEndOfChain = 0xFFFFFFFE;
constexpr std::uint32_t kNoStream = 0xFFFFFFFF;
constexpr std::size_t kHeaderSize = 512;
constexpr std::size_t kHeaderDifat = 109;
// Bounds that no real document comes near; they keep hostile trees cheap.
constexpr std::size_t kMaxDirEntries = 1u << 16;
constexpr int kMaxDepth = 64;
// Paths repeat their parents' names; this caps what a deep, wide hostile
// tree can make us allocate.
constexpr std::size_t kMaxPathBytes = 8u << 20;

// Path components must not fake extra levels.
std::string path_component(const std::string& name) {
  std::string s = name;
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

}  // namespace

bool has_signature(std::string_view b) {
  static const char kSig[8] = {'\xD0', '\xCF', '\x11', '\xE0', '\xA1', '\xB1', '\x1A', '\xE1'};
  return b.size() >= 8 && std::memcmp(b.data(), kSig, 8) == 0;
}

void Ole2File::problem(std::string p) {
  // A hostile file could repeat one fault many times; a few say enough.
  if (problems_.size() < 32) problems_.push_back(std::move(p));
}

Ole2File Ole2File::open(std::string_view bytes) {
  Ole2File f;
  f.bytes_ = bytes;
  if (!has_signature(bytes)) return f;
  if (bytes.size() < kHeaderSize) {
    f.problem("header truncated (" + std::to_string(bytes.size()) + " bytes)");
    return f;
  }
  f.major_ = le16(bytes, 26);
  std::uint16_t shift = le16(bytes, 30);
  if (le16(bytes, 28) != 0xFFFE) f.problem("bad byte order mark");
  if (f.major_ != 3 && f.major_ != 4) {
    f.problem("unknown major version " + std::to_string(f.major_));
    f.major_ = shift == 12 ? 4 : 3;
  }
  if (shift != 9 && shift != 12) {
    f.problem("bad sector shift " + std::to_string(shift));
    shift = f.major_ == 4 ? 12 : 9;
  } else if ((shift == 12) != (f.major_ == 4)) {
    f.problem("sector shift " + std::to_string(shift) + " does not match version " +
              std::to_string(f.major_));
  }
  f.sector_size_ = 1u << shift;
  if (le16(bytes, 32) != 6) f.problem("bad mini sector shift " + std::to_string(le16(bytes, 32)));
  f.mini_cutoff_ = le32(bytes, 56);
  if (f.mini_cutoff_ != 4096) {
    f.problem("unusual mini stream cutoff " + std::to_string(f.mini_cutoff_));
    f.mini_cutoff_ = 4096;
  }
  const std::uint64_t ss = f.sector_size_;
  f.sector_count_ = bytes.size() > ss ? (bytes.size() - ss + ss - 1) / ss : 0;
  // A partial last sector is common and harmless; a stream that needs the
  // missing bytes reports it when read.

  // DIFAT: which sectors hold the FAT. Only as many FAT sectors as can
  // describe sectors present in the file are useful; the rest is ignored, so
  // a header claiming millions of FAT sectors costs nothing.
  const std::uint64_t per_sector = ss / 4;
  const std::uint64_t useful = (f.sector_count_ + per_sector - 1) / per_sector;
  const std::uint32_t declared_fat = le32(bytes, 44);
  std::uint64_t listed = 0;  // valid FAT sector numbers seen, for the count check
  auto take = [&](std::uint32_t s) {
    if (s <= kMaxRegSect) ++listed;
    if (f.fat_sectors_.size() < useful) f.fat_sectors_.push_back(s);
  };
  for (std::size_t i = 0; i < kHeaderDifat; ++i) take(le32(bytes, 76 + 4 * i));
  std::uint32_t difat = le32(bytes, 68);
  const std::uint32_t declared_difat = le32(bytes, 72);
  std::uint32_t difat_seen = 0;
  std::unordered_set<std::uint32_t> visited;
  while (difat != kEndOfChain && difat != kNoStream && f.fat_sectors_.size() < useful) {
    if (difat > kMaxRegSect || difat >= f.sector_count_) {
      f.problem("DIFAT chain leaves the file at sector " + std::to_string(difat));
      break;
    }
    if (!visited.insert(difat).second) {
      f.problem("DIFAT chain loops at sector " + std::to_string(difat));
      break;
    }
    std::uint64_t off = (difat + 1ull) * ss;
    if (off + ss > bytes.size()) {
      f.problem("DIFAT sector " + std::to_string(difat) + " truncated");
      break;
    }
    for (std::uint64_t i = 0; i + 1 < per_sector; ++i) take(le32(bytes, off + 4 * i));
    difat = le32(bytes, off + ss - 4);
    ++difat_seen;
  }
  const bool capped = f.fat_sectors_.size() >= useful && difat != kEndOfChain && difat != kNoStream;
  if (!capped && difat_seen != declared_difat)
    f.problem("DIFAT sector count " + std::to_string(declared_difat) + " but " +
              std::to_string(difat_seen) + " found");
  while (!f.fat_sectors_.empty() && f.fat_sectors_.back() > kMaxRegSect) f.fat_sectors_.pop_back();
  if (!capped && listed != declared_fat)
    f.problem("FAT sector count " + std::to_string(declared_fat) + " but " +
              std::to_string(listed) + " listed");
  if (f.fat_sectors_.empty()) {
    f.problem("no FAT");
    return f;
  }
  f.ok_ = true;
  f.read_directory();
  return f;
}

std::uint32_t Ole2File::fat_next(std::uint32_t sector, bool& ok) const {
  const std::uint32_t per_sector = sector_size_ / 4;
  std::size_t idx = sector / per_sector;
  ok = false;
  if (idx >= fat_sectors_.size()) return kEndOfChain;
  std::uint32_t fs = fat_sectors_[idx];
  if (fs > kMaxRegSect) return kEndOfChain;
  std::uint64_t off = (fs + 1ull) * sector_size_ + (sector % per_sector) * 4ull;
  if (off + 4 > bytes_.size()) return kEndOfChain;
  ok = true;
  return le32(bytes_, off);
}

std::uint64_t Ole2File::read_chain(std::uint32_t start, std::uint64_t size, bool mini,
                                   std::uint64_t max_bytes, const Sink& sink, std::string* problem) const {
  const std::uint64_t unit = mini ? mini_sector_size_ : sector_size_;
  const std::uint64_t limit = mini ? mini_fat_.size() : sector_count_;
  // Nothing can yield more than the file (or mini stream) holds.
  const std::uint64_t room = mini ? mini_stream_size_ : bytes_.size();
  const std::uint64_t want = std::min({size, max_bytes, room});
  std::uint64_t done = 0;
  std::string why;
  // Adjacent sectors reach the sink as one piece (most streams are contiguous).
  std::uint64_t run_off = 0, run_len = 0;
  auto flush = [&]() {
    const bool go = run_len == 0 || sink(std::string_view(bytes_.data() + run_off, run_len));
    run_len = 0;
    return go;
  };
  auto emit = [&](std::uint64_t off, std::uint64_t n) {
    done += n;
    if (run_len && run_off + run_len == off && run_len < (1u << 20)) {
      run_len += n;
      return true;
    }
    const bool go = flush();
    run_off = off;
    run_len = n;
    return go;
  };
  std::unordered_set<std::uint32_t> visited;
  visited.reserve(std::min<std::uint64_t>(want / unit + 1, 1u << 16));
  std::uint32_t s = start;
  while (done < want) {
    if (s == kEndOfChain) {
      why = "chain ends early";
      break;
    }
    if (s > kMaxRegSect) {
      why = "chain has invalid sector " + std::to_string(s);
      break;
    }
    if (s >= limit) {
      why = mini ? "mini sector " + std::to_string(s) + " beyond the mini FAT"
                 : "truncated: sector " + std::to_string(s) + " is past the end of the file";
      break;
    }
    if (!visited.insert(s).second) {
      why = "chain loops at sector " + std::to_string(s);
      break;
    }
    const std::uint64_t n = std::min<std::uint64_t>(unit, want - done);
    if (mini) {
      std::uint64_t pos = s * unit;  // offset inside the mini stream
      std::uint64_t host = pos / sector_size_;
      if (host >= mini_stream_.size() || pos + n > mini_stream_size_) {
        why = "mini sector " + std::to_string(s) + " outside the mini stream";
        break;
      }
      std::uint64_t off = (mini_stream_[host] + 1ull) * sector_size_ + pos % sector_size_;
      if (off + n > bytes_.size()) {
        why = "mini stream truncated";
        break;
      }
      if (!emit(off, n)) {
        why = "stopped by the reader";
        break;
      }
      s = mini_fat_[s];
    } else {
      std::uint64_t off = (s + 1ull) * sector_size_;
      std::uint64_t have = off < bytes_.size() ? std::min<std::uint64_t>(n, bytes_.size() - off) : 0;
      if (have && !emit(off, have)) {
        why = "stopped by the reader";
        break;
      }
      if (have < n) {
        why = "truncated at sector " + std::to_string(s);
        break;
      }
      bool ok;
      std::uint32_t next = fat_next(s, ok);
      if (!ok && done < want) {
        why = "no FAT entry for sector " + std::to_string(s);
        break;
      }
      s = next;
    }
  }
  if (!flush() && why.empty()) why = "stopped by the reader";
  if (done < std::min(size, max_bytes) && why.empty()) why = "stream larger than the file";
  if (problem) *problem = why;
  return done;
}

void Ole2File::read_directory() {
  // The directory is read whole (bounded): the tree walk needs random access.
  std::vector<std::array<std::uint8_t, 128>> raw;
  std::uint32_t s = le32(bytes_, 48);
  std::unordered_set<std::uint32_t> visited;
  const std::size_t per_sector = sector_size_ / 128;
  while (s != kEndOfChain) {
    if (s > kMaxRegSect || s >= sector_count_) {
      problem("directory chain leaves the file at sector " + std::to_string(s));
      break;
    }
    if (!visited.insert(s).second) {
      problem("directory chain loops at sector " + std::to_string(s));
      break;
    }
    if (raw.size() + per_sector > kMaxDirEntries) {
      problem("directory has more than " + std::to_string(kMaxDirEntries) + " entries");
      break;
    }
    std::uint64_t off = (s + 1ull) * sector_size_;
    for (std::size_t i = 0; i < per_sector && off + (i + 1) * 128 <= bytes_.size(); ++i) {
      raw.emplace_back();
      std::memcpy(raw.back().data(), bytes_.data() + off + i * 128, 128);
    }
    if (off + sector_size_ > bytes_.size()) {
      problem("directory truncated");
      break;
    }
    bool ok;
    s = fat_next(s, ok);
    if (!ok) {
      problem("no FAT entry for directory sector");
      break;
    }
  }
  if (raw.empty()) {
    problem("empty directory");
    return;
  }
  if (raw[0][66] != 5) problem("first directory entry is not the root");

  // Mini stream: the root entry's chain; mini FAT: its own chain.
  const std::string_view r0(reinterpret_cast<const char*>(raw[0].data()), 128);
  std::uint64_t root_size = major_ == 3 ? le32(r0, 120) : le64(r0, 120);
  std::uint32_t ms = le32(r0, 116);
  visited.clear();
  while (root_size > 0 && ms != kEndOfChain &&
         mini_stream_.size() * static_cast<std::uint64_t>(sector_size_) < root_size) {
    if (ms > kMaxRegSect || ms >= sector_count_ || !visited.insert(ms).second) {
      problem("mini stream chain broken at sector " + std::to_string(ms));
      break;
    }
    mini_stream_.push_back(ms);
    bool ok;
    ms = fat_next(ms, ok);
    if (!ok) break;
  }
  mini_stream_size_ = std::min<std::uint64_t>(root_size, mini_stream_.size() * std::uint64_t{sector_size_});
  const std::uint64_t mini_sectors = mini_stream_size_ / mini_sector_size_ + 1;
  std::uint32_t mf = le32(bytes_, 60);
  visited.clear();
  while (mf != kEndOfChain && mf != kNoStream && mini_fat_.size() < mini_sectors) {
    if (mf > kMaxRegSect || mf >= sector_count_ || !visited.insert(mf).second) {
      problem("mini FAT chain broken at sector " + std::to_string(mf));
      break;
    }
    std::uint64_t off = (mf + 1ull) * sector_size_;
    if (off + sector_size_ > bytes_.size()) {
      problem("mini FAT truncated");
      break;
    }
    for (std::uint64_t i = 0; i < sector_size_ / 4; ++i) mini_fat_.push_back(le32(bytes_, off + 4 * i));
    bool ok;
    mf = fat_next(mf, ok);
    if (!ok) break;
  }
  walk_tree(raw);
}

void Ole2File::walk_tree(const std::vector<std::array<std::uint8_t, 128>>& raw) {
  auto make = [&](std::uint32_t id) {
    const auto& e = raw[id];
    const std::string_view v(reinterpret_cast<const char*>(e.data()), 128);
    Entry out;
    out.id = id;
    std::size_t name_bytes = le16(v, 64);
    if (name_bytes > 64 || name_bytes % 2 != 0) {
      problem("bad name length in directory entry " + std::to_string(id));
      name_bytes = 64;
    }
    std::size_t units = name_bytes / 2;
    for (std::size_t i = 0; i < units; ++i)
      if (e[2 * i] == 0 && e[2 * i + 1] == 0) {
        units = i;
        break;
      }
    out.name = utf16le_to_utf8(std::string_view(reinterpret_cast<const char*>(e.data()), units * 2), false);
    out.type = e[66] == 1 ? EntryType::storage : e[66] == 5 ? EntryType::root : EntryType::stream;
    out.start_sector = le32(v, 116);
    out.size = major_ == 3 ? le32(v, 120) : le64(v, 120);
    std::memcpy(out.clsid.data(), e.data() + 80, 16);
    return out;
  };

  entries_.push_back(make(0));
  entries_.back().type = EntryType::root;
  kids_.emplace_back();
  std::size_t path_bytes = 0;
  std::vector<bool> seen(raw.size(), false);
  seen[0] = true;
  struct Item {
    std::uint32_t id;
    std::uint32_t parent;  // index into entries_
    int depth;
  };
  std::vector<Item> stack;
  const std::string_view r0(reinterpret_cast<const char*>(raw[0].data()), 128);
  stack.push_back({le32(r0, 76), 0, 1});
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    if (it.id == kNoStream) continue;
    if (it.id >= raw.size()) {
      problem("directory link to missing entry " + std::to_string(it.id));
      continue;
    }
    if (seen[it.id]) {
      problem("directory tree loops at entry " + std::to_string(it.id));
      continue;
    }
    seen[it.id] = true;
    const auto& e = raw[it.id];
    const std::string_view v(reinterpret_cast<const char*>(e.data()), 128);
    if (e[66] != 1 && e[66] != 2) {
      problem("directory entry " + std::to_string(it.id) + " has type " + std::to_string(e[66]));
      continue;
    }
    Entry out = make(it.id);
    const Entry& parent = entries_[it.parent];
    out.path = (parent.type == EntryType::root ? std::string() : parent.path + "/") +
               path_component(out.name);
    path_bytes += out.path.size();
    if (path_bytes > kMaxPathBytes) {
      problem("directory tree too large (paths exceed " + std::to_string(kMaxPathBytes) + " bytes)");
      break;
    }
    const std::uint32_t self = static_cast<std::uint32_t>(entries_.size());
    by_path_.emplace(ascii_lower(out.path), self);
    entries_.push_back(std::move(out));
    kids_.emplace_back();
    kids_[it.parent].push_back(self);
    stack.push_back({le32(v, 72), it.parent, it.depth});
    stack.push_back({le32(v, 68), it.parent, it.depth});
    if (e[66] == 1) {
      if (it.depth >= kMaxDepth)
        problem("storages nested deeper than " + std::to_string(kMaxDepth));
      else
        stack.push_back({le32(v, 76), self, it.depth + 1});
    }
  }
  // Streams hidden from the tree are still content a detector should see.
  bool orphans = false;
  for (std::uint32_t id = 1; id < raw.size(); ++id) {
    if (seen[id] || raw[id][66] != 2) continue;
    Entry out = make(id);
    if (out.name.empty()) continue;
    out.orphan = true;
    out.path = "[orphan]/" + path_component(out.name);
    by_path_.emplace(ascii_lower(out.path), static_cast<std::uint32_t>(entries_.size()));
    entries_.push_back(std::move(out));
    kids_.emplace_back();
    orphans = true;
  }
  if (orphans) problem("stream entries not reachable from the directory tree");
}

const Entry* Ole2File::find(std::string_view path) const {
  auto it = by_path_.find(ascii_lower(path));
  return it == by_path_.end() ? nullptr : &entries_[it->second];
}

std::vector<const Entry*> Ole2File::children(const Entry* storage) const {
  std::vector<const Entry*> out;
  if (entries_.empty()) return out;
  const Entry* e = storage ? storage : &entries_[0];
  if (e < entries_.data() || e >= entries_.data() + entries_.size()) return out;
  for (std::uint32_t k : kids_[static_cast<std::size_t>(e - entries_.data())]) out.push_back(&entries_[k]);
  return out;
}

std::string Ole2File::read_stream(const Entry& entry, std::uint64_t max_bytes,
                                  std::string* problem) const {
  if (problem) problem->clear();
  std::string out;
  if (entry.type != EntryType::stream || !ok_) return out;
  out.reserve(std::min<std::uint64_t>({entry.size, max_bytes, bytes_.size()}));
  read_chain(entry.start_sector, entry.size, entry.size < mini_cutoff_, max_bytes,
             [&](std::string_view piece) {
               out.append(piece);
               return true;
             },
             problem);
  return out;
}

std::uint64_t Ole2File::read_stream(const Entry& entry, std::uint64_t max_bytes, const Sink& sink,
                                    std::string* problem) const {
  if (problem) problem->clear();
  if (entry.type != EntryType::stream || !ok_) return 0;
  return read_chain(entry.start_sector, entry.size, entry.size < mini_cutoff_, max_bytes, sink, problem);
}

}  // namespace emogate::ole2
