// VerdictCache: what one rule set matched in bytes it has already scanned,
// keyed by the bytes' SHA-256 (plus the external values the set's rules can
// read), so that the same attachment sent to many recipients is scanned by
// the set once. In memory, bounded by [rules] cache_bytes (least recently
// used entries go first), shared by every thread that scans with the set
// and dropped with it on reload.
// Trusted input: none (keys and matches come from scanned objects).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "services/yara_rules.h"

namespace emogate {

class VerdictCache {
 public:
  explicit VerdictCache(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}

  bool enabled() const { return max_bytes_ > 0; }
  // The matches remembered for `key` (counted as a hit), or nullopt (a miss).
  std::optional<std::vector<YaraMatch>> find(const std::string& key);
  // Remembers a complete scan's matches; an entry larger than the whole
  // budget is not kept.
  void put(const std::string& key, const std::vector<YaraMatch>& matches);

  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }
  std::uint64_t bytes() const;
  std::size_t entries() const;

 private:
  struct Entry {
    std::string key;
    std::vector<YaraMatch> matches;
    std::uint64_t bytes = 0;
  };
  const std::uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::uint64_t bytes_ = 0;
  std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

}  // namespace emogate
