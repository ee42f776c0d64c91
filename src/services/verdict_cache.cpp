// VerdictCache: a byte-bounded LRU map; see verdict_cache.h.
// Trusted input: none.
#include "services/verdict_cache.h"

namespace emogate {

namespace {

// What an entry costs: its strings plus a fixed overhead per node and match
// (list and map nodes, vector headers), so that many empty results are
// bounded too.
std::uint64_t cost(const std::string& key, const std::vector<YaraMatch>& matches) {
  std::uint64_t n = 2 * key.size() + 160;
  for (const YaraMatch& m : matches) {
    n += 128 + m.rule.size() + m.ns.size();
    for (const auto& t : m.tags) n += 32 + t.size();
    for (const auto& [k, v] : m.meta) n += 64 + k.size() + v.size();
  }
  return n;
}

}  // namespace

std::optional<std::vector<YaraMatch>> VerdictCache::find(const std::string& key) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->matches;
}

void VerdictCache::put(const std::string& key, const std::vector<YaraMatch>& matches) {
  const std::uint64_t n = cost(key, matches);
  if (n > max_bytes_) return;
  std::lock_guard<std::mutex> lk(mu_);
  if (index_.count(key)) return;  // another thread scanned the same bytes meanwhile
  while (!lru_.empty() && bytes_ + n > max_bytes_) {
    bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front(Entry{key, matches, n});
  index_[key] = lru_.begin();
  bytes_ += n;
}

std::uint64_t VerdictCache::bytes() const {
  std::lock_guard<std::mutex> lk(mu_);
  return bytes_;
}

std::size_t VerdictCache::entries() const {
  std::lock_guard<std::mutex> lk(mu_);
  return lru_.size();
}

}  // namespace emogate
