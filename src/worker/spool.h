// MessageSpool: the milter's buffer for one message when scans run in
// worker processes. Bytes go into a memfd (through a small staging buffer),
// which is sealed at the end and handed to a worker as a descriptor: the
// message is never copied again, and its pages are not part of the
// daemon's heap, so a huge message leaves nothing behind once closed.
// Bytes are stored, never interpreted.
// Trusted input: none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

class MessageSpool {
 public:
  explicit MessageSpool(std::uint64_t hard_cap);
  ~MessageSpool();
  MessageSpool(const MessageSpool&) = delete;
  MessageSpool& operator=(const MessageSpool&) = delete;

  // Appends up to the cap; false when bytes were refused or writing failed.
  bool write(std::string_view s);
  std::uint64_t size() const { return size_; }
  const std::string& error() const { return error_; }
  // Flushes and seals (no more writes, no shrinking); returns the
  // descriptor (still owned by the spool) or -1 with error() set.
  int seal();
  int fd() const { return fd_; }

 private:
  bool put(const char* p, std::size_t n);
  bool flush();
  std::uint64_t cap_;
  std::uint64_t size_ = 0;
  int fd_ = -1;
  std::string stage_;
  std::string error_;
};

}  // namespace emogate
