// OLE2 compound file reader (MS-CFB), versions 3 and 4.
//
// Trusted input: none. The bytes may be truncated, padded with hundreds of
// megabytes past the last sector, carry wrong sector counts, looping FAT or
// DIFAT chains, or a cyclic directory tree. The reader never throws for bad
// input: it yields whatever entries and stream bytes can be read, plus a list
// of problems (for a `malformed` finding).
//
// Cost: open() reads the header, the DIFAT, the directory chain and the mini
// FAT only; FAT sectors are looked up on demand, so the bytes of a padded file
// beyond what the chains reach are never touched. Every chain is bounded by
// the number of sectors the file can hold and checked for loops.
//
// The Ole2File keeps a view of the bytes: the caller keeps them alive.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace emogate::ole2 {

enum class EntryType { storage, stream, root };

struct Entry {
  std::uint32_t id = 0;       // directory entry index (stable within a file)
  std::string name;           // UTF-8 of the UTF-16 name; control characters kept ("\x01CompObj")
  std::string path;           // names joined by '/', without the root: "Macros/VBA/dir"
  EntryType type = EntryType::stream;
  std::uint64_t size = 0;     // declared size (v3: low 32 bits only, per MS-CFB)
  std::uint32_t start_sector = 0;
  std::array<std::uint8_t, 16> clsid{};
  bool orphan = false;        // valid entry not reachable from the tree; path starts "[orphan]/"
};

// True when the bytes start with the compound file signature.
bool has_signature(std::string_view bytes);

class Ole2File {
 public:
  static constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

  // Never throws for hostile input. ok() is false when the bytes are not a
  // compound file at all (no signature, header unusable); otherwise entries()
  // holds every storage and stream that could be reached, in tree order
  // (root first, then depth-first).
  static Ole2File open(std::string_view bytes);

  bool ok() const { return ok_; }
  int major_version() const { return major_; }
  std::uint32_t sector_size() const { return sector_size_; }
  const std::vector<Entry>& entries() const { return entries_; }
  // Problems found while opening, each a short human-readable sentence.
  // Empty for a well-formed file. read_stream() reports its own problems.
  const std::vector<std::string>& problems() const { return problems_; }

  // Entry by path, compared case-insensitively (ASCII), as Office does.
  const Entry* find(std::string_view path) const;
  // Direct children of a storage (or of the root when `storage` is null).
  std::vector<const Entry*> children(const Entry* storage) const;

  // The stream's bytes, at most min(entry.size, max_bytes). A chain that ends
  // early, loops or leaves the file gives the bytes read so far; the reason is
  // stored in *problem when given (empty when the stream read completely).
  // Storages give an empty string.
  std::string read_stream(const Entry& entry, std::uint64_t max_bytes = kNoLimit,
                          std::string* problem = nullptr) const;

  // The same, handing the bytes to `sink` a sector at a time (no copy of
  // the whole stream); a sink returning false stops the read. Returns the
  // number of bytes handed over.
  using Sink = std::function<bool(std::string_view)>;
  std::uint64_t read_stream(const Entry& entry, std::uint64_t max_bytes, const Sink& sink,
                            std::string* problem = nullptr) const;

 private:
  std::uint32_t fat_next(std::uint32_t sector, bool& ok) const;
  std::uint64_t read_chain(std::uint32_t start, std::uint64_t size, bool mini,
                           std::uint64_t max_bytes, const Sink& sink, std::string* problem) const;
  void read_directory();
  void walk_tree(const std::vector<std::array<std::uint8_t, 128>>& raw);
  void problem(std::string p);

  std::string_view bytes_;
  bool ok_ = false;
  int major_ = 0;
  std::uint32_t sector_size_ = 512;
  std::uint32_t mini_sector_size_ = 64;
  std::uint32_t mini_cutoff_ = 4096;
  std::uint64_t sector_count_ = 0;        // sectors present (partial last one counts)
  std::vector<std::uint32_t> fat_sectors_;  // from the DIFAT, bounded by sector_count_
  std::vector<std::uint32_t> mini_fat_;     // mini FAT entries
  std::vector<std::uint32_t> mini_stream_;  // sectors of the mini stream (root chain)
  std::uint64_t mini_stream_size_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::vector<std::uint32_t>> kids_;  // per entry: indexes of its children
  std::unordered_map<std::string, std::uint32_t> by_path_;  // ASCII-lower-cased path -> index
  std::vector<std::string> problems_;
};

}  // namespace emogate::ole2
