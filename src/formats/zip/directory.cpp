// ZIP central-directory reader: see zip_directory.h.
// Trusted input: none.
#include "formats/zip/directory.h"

#include <algorithm>

#include "common/bytes.h"

namespace emogate::zip {
namespace {

constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kEnd64Sig = 0x06064b50;
constexpr std::uint32_t kLocator64Sig = 0x07064b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kLocalSig = 0x04034b50;

// The archive's bytes with its offsets as 64-bit values (ZIP64).
struct Reader {
  std::string_view d;
  bool has(std::uint64_t off, std::uint64_t n) const { return in_bounds(d, off, n); }
  std::uint16_t u16(std::uint64_t off) const { return le16(d, off); }
  std::uint32_t u32(std::uint64_t off) const { return le32(d, off); }
  std::uint64_t u64(std::uint64_t off) const { return le64(d, off); }
};

// The end record is the last signature whose comment fits the buffer and
// whose directory is where it says (an archive can hide another archive in
// its comment); failing that, the last one whose comment fits, so that a
// damaged archive is still read as far as it goes.
bool find_end(const Reader& r, std::uint64_t& pos) {
  if (r.d.size() < 22) return false;
  std::uint64_t last = r.d.size() - 22;
  std::uint64_t first = last > 0xFFFF + 1024 ? last - 0xFFFF - 1024 : 0;
  bool found = false;
  for (std::uint64_t p = last + 1; p-- > first;) {
    if (r.u32(p) != kEndSig || p + 22 + r.u16(p + 20) > r.d.size()) continue;
    std::uint64_t cd_size = r.u32(p + 12), cd_off = r.u32(p + 16);
    bool consistent = cd_off + cd_size == p && (r.u16(p + 10) == 0 || (r.has(cd_off, 4) && r.u32(cd_off) == kCentralSig));
    if (!found || consistent) pos = p;
    found = true;
    if (consistent) break;
  }
  return found;
}

void parse_extra(const Reader& r, std::uint64_t off, std::uint64_t len, Entry& e, bool need_usize,
                 bool need_csize, bool need_offset) {
  std::uint64_t end = off + len;
  while (off + 4 <= end) {
    std::uint16_t id = r.u16(off), sz = r.u16(off + 2);
    std::uint64_t body = off + 4;
    if (body + sz > end) break;
    if (id == 0x0001) {  // ZIP64: only the fields that overflowed, in this order
      std::uint64_t p = body;
      auto take = [&](bool need, std::uint64_t& field) {
        if (need && p + 8 <= body + sz) { field = r.u64(p); p += 8; }
      };
      take(need_usize, e.uncompressed_size);
      take(need_csize, e.compressed_size);
      take(need_offset, e.local_offset);
    } else if (id == 0x9901 && sz >= 7) {  // WinZip AE-1/AE-2
      e.aes_version = r.u16(body);
      int strength = static_cast<unsigned char>(r.d[body + 4]);
      e.aes_strength = (strength >= 1 && strength <= 3) ? strength : 0;
      e.aes_method = r.u16(body + 5);
    }
    off = body + sz;
  }
}

// A hostile directory could produce one problem per entry; a few are enough.
void note(Directory& dir, std::string problem) {
  if (dir.problems.size() < 16) dir.problems.push_back(std::move(problem));
}

std::string printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 80)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  return out;
}

void find_overlaps(Directory& dir, std::uint64_t cd_start) {
  std::vector<Entry*> order;
  for (auto& e : dir.entries)
    if (e.data_offset) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(),
            [](const Entry* a, const Entry* b) { return a->local_offset < b->local_offset; });
  std::uint64_t reach = 0;
  const Entry* reacher = nullptr;
  for (Entry* e : order) {
    if (reacher && e->local_offset < reach) {
      e->overlaps = true;
      if (!dir.overlapping++)
        dir.overlap_example = "\"" + printable(e->name) + "\" starts inside \"" + printable(reacher->name) + "\"";
    }
    if (e->end_offset() > reach) { reach = e->end_offset(); reacher = e; }
    if (e->end_offset() > cd_start)
      note(dir, "entry \"" + printable(e->name) + "\" runs into the central directory");
  }
}

}  // namespace

std::uint64_t encryption_header_size(const Entry& e) {
  if (!e.encrypted()) return 0;
  if (e.aes_strength) return 4 + 4 * static_cast<std::uint64_t>(e.aes_strength) + 2;  // salt 8/12/16 + verifier
  return 12;
}

Directory read_directory(std::string_view data, std::uint64_t max_entries) {
  Directory dir;
  Reader r{data};
  std::uint64_t end = 0;
  if (!find_end(r, end)) {
    note(dir, "no end of central directory record");
    return dir;
  }
  dir.found = true;
  dir.trailing = data.size() - (end + 22 + r.u16(end + 20));
  if (r.u16(end + 4) != 0 || r.u16(end + 6) != 0) note(dir, "multi-disk archive");
  std::uint64_t count = r.u16(end + 10);
  std::uint64_t cd_size = r.u32(end + 12);
  std::uint64_t cd_off = r.u32(end + 16);
  std::uint64_t record = end;  // where the directory should stop
  if (end >= 20 && r.u32(end - 20) == kLocator64Sig) {
    std::uint64_t z64 = r.u64(end - 12);
    // The locator's offset is relative to the archive start, which may have
    // a prefix; the record sits just before the locator when it is honest.
    std::uint64_t at = end - 20 >= 56 ? end - 20 - 56 : 0;
    if (r.has(z64, 56) && r.u32(z64) == kEnd64Sig) at = z64;
    if (r.has(at, 56) && r.u32(at) == kEnd64Sig) {
      count = r.u64(at + 32);
      cd_size = r.u64(at + 40);
      cd_off = r.u64(at + 48);
      record = at;
    } else {
      note(dir, "ZIP64 locator without a ZIP64 end record");
    }
  }
  dir.declared_entries = count;
  if (cd_off > record || cd_size > record - cd_off) {
    note(dir, "central directory offset/size point past the end record");
    dir.truncated = true;
    if (cd_off >= data.size()) return dir;
  } else {
    dir.prefix = record - (cd_off + cd_size);
  }
  std::uint64_t pos = cd_off + dir.prefix;
  std::uint64_t cd_start = pos;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (dir.entries.size() >= max_entries) { dir.capped = true; break; }
    if (!r.has(pos, 46) || r.u32(pos) != kCentralSig) {
      dir.truncated = true;
      note(dir, "central directory ends after " + std::to_string(i) + " of " +
                             std::to_string(count) + " entries");
      break;
    }
    Entry e;
    std::uint16_t made_by [[maybe_unused]] = r.u16(pos + 4);
    e.flags = r.u16(pos + 8);
    e.method = r.u16(pos + 10);
    e.dos_time = r.u16(pos + 12);
    e.dos_date = r.u16(pos + 14);
    e.crc = r.u32(pos + 16);
    e.compressed_size = r.u32(pos + 20);
    e.uncompressed_size = r.u32(pos + 24);
    std::uint64_t n = r.u16(pos + 28), m = r.u16(pos + 30), k = r.u16(pos + 32);
    e.local_offset = r.u32(pos + 42);
    if (!r.has(pos + 46, n + m + k)) {
      dir.truncated = true;
      note(dir, "central directory entry " + std::to_string(i) + " is cut short");
      break;
    }
    e.name.assign(data.substr(pos + 46, n));
    parse_extra(r, pos + 46 + n, m, e, e.uncompressed_size == 0xFFFFFFFF,
                e.compressed_size == 0xFFFFFFFF, e.local_offset == 0xFFFFFFFF);
    e.local_offset += dir.prefix;
    if (r.has(e.local_offset, 30) && r.u32(e.local_offset) == kLocalSig) {
      std::uint64_t start = e.local_offset + 30 + r.u16(e.local_offset + 26) + r.u16(e.local_offset + 28);
      if (r.has(start, e.compressed_size)) e.data_offset = start;
    }
    if (!e.data_offset)
      note(dir, "entry \"" + printable(e.name) + "\" has no readable local header or data");
    dir.entries.push_back(std::move(e));
    pos += 46 + n + m + k;
  }
  find_overlaps(dir, cd_start);
  return dir;
}

}  // namespace emogate::zip
