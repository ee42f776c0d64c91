// MessageSpool: the milter's buffer for one message when scans run in
// worker processes. Bytes go into a memfd (through a small staging buffer),
// which is sealed at the end and handed to a worker as a descriptor: the
// message is never copied again, and its pages are not part of the
// daemon's heap, so a huge message leaves nothing behind once closed.
// A message that fits goes instead into one of a few long-lived SpoolRegions,
// whose pages stay allocated between messages (a fresh memfd costs the
// kernel a page allocation, charge and free per 4 KB of every message).
// Bytes are stored, never interpreted.
// Trusted input: none.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emogate {

// A read-only mapping of a sealed spool (or of any file descriptor).
class MappedFd {
 public:
  MappedFd() = default;
  // Maps; view() is empty on failure. `populate`: fault every page in at
  // once (one call instead of a fault per page, for a reader of all of it).
  MappedFd(int fd, std::uint64_t size, bool populate = false);
  ~MappedFd();
  MappedFd(const MappedFd&) = delete;
  MappedFd& operator=(const MappedFd&) = delete;
  std::string_view view() const { return {static_cast<const char*>(map_), len_}; }
  bool ok() const { return map_ != nullptr || len_ == 0; }

 private:
  void* map_ = nullptr;
  std::size_t len_ = 0;
};

// Long-lived shared memory regions for messages of at most `capacity`
// bytes: each a memfd of that size, mapped writable by the daemon once
// (MADV_DONTFORK: a worker forked later does not inherit the mapping) and
// then sealed (F_SEAL_FUTURE_WRITE, SHRINK, GROW, SEAL), so that a worker
// handed its descriptor can map it for reading only and can neither write
// nor resize it, while the daemon keeps writing through its own mapping.
// At most `count` exist; a message finding none free gets a fresh memfd.
// XXX A compromised worker may keep a region's descriptor and read the
// later messages written to it, where a per-message memfd shows it only the
// messages it scans; [milter] spool_region_bytes = 0 turns regions off.
class SpoolRegions {
 public:
  struct Region {
    int fd = -1;
    char* map = nullptr;
  };
  SpoolRegions(std::uint64_t capacity, std::size_t count);
  ~SpoolRegions();
  SpoolRegions(const SpoolRegions&) = delete;
  SpoolRegions& operator=(const SpoolRegions&) = delete;
  std::uint64_t capacity() const { return cap_; }
  // A free region (made when fewer than `count` exist yet); none when all
  // are in use or one cannot be made (then error() says why).
  std::optional<Region> acquire();
  void release(Region r);
  std::string error() const;

 private:
  const std::uint64_t cap_;
  const std::size_t count_;
  mutable std::mutex mu_;
  std::vector<Region> idle_;
  std::vector<Region> all_;
  std::string error_;
};

class MessageSpool {
 public:
  // `regions` (may be null): where a message that fits is written instead
  // of a memfd of its own. Either is taken at the first write (or seal), so
  // a session between MAIL FROM and DATA holds no region.
  explicit MessageSpool(std::uint64_t hard_cap, std::shared_ptr<SpoolRegions> regions = nullptr);
  ~MessageSpool();
  MessageSpool(const MessageSpool&) = delete;
  MessageSpool& operator=(const MessageSpool&) = delete;

  // Appends up to the cap; false when bytes were refused or writing failed.
  bool write(std::string_view s);
  std::uint64_t size() const { return size_; }
  const std::string& error() const { return error_; }
  // Flushes and seals (no more writes, no shrinking); returns the
  // descriptor (still owned by the spool) or -1 with error() set. Its
  // first size() bytes are the message (a region is longer).
  int seal();
  int fd() const { return region_ ? region_->fd : fd_; }

 private:
  bool open();  // the region or memfd, if none yet; false with error() set
  bool put(const char* p, std::size_t n);
  bool flush();
  bool leave_region();  // the bytes so far to a memfd of the spool's own
  std::shared_ptr<SpoolRegions> regions_;
  std::optional<SpoolRegions::Region> region_;
  std::uint64_t cap_;
  std::uint64_t size_ = 0;
  int fd_ = -1;
  std::string stage_;
  std::string error_;
};

}  // namespace emogate
