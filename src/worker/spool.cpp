// MessageSpool and MappedFd; see spool.h.
// Trusted input: none.
#include "worker/spool.h"

#include "engine/blob.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace emogate {

namespace {
constexpr std::size_t kStage = 64 * 1024;  // one write(2) per this many bytes
}

MappedFd::MappedFd(int fd, std::uint64_t size, bool populate) {
  if (size == 0) return;
  void* m = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0),
                   fd, 0);
  if (m == MAP_FAILED) return;
  map_ = m;
  len_ = static_cast<std::size_t>(size);
}

MappedFd::~MappedFd() {
  if (map_) ::munmap(map_, len_);
}

MessageSpool::MessageSpool(std::uint64_t hard_cap) : cap_(hard_cap) {
  fd_ = ::memfd_create("emogate-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd_ < 0) error_ = std::string("memfd_create: ") + std::strerror(errno);
  stage_.reserve(kStage);
}

MessageSpool::~MessageSpool() {
  if (fd_ >= 0) ::close(fd_);
}

bool MessageSpool::put(const char* p, std::size_t n) {
  if (int e = write_fully(fd_, p, n)) {
    error_ = std::string("message spool write: ") + std::strerror(e);
    return false;
  }
  return true;
}

bool MessageSpool::flush() {
  if (!put(stage_.data(), stage_.size())) return false;
  stage_.clear();
  return true;
}

bool MessageSpool::write(std::string_view s) {
  if (fd_ < 0 || !error_.empty()) return false;
  bool fits = true;
  if (s.size() > cap_ - size_) {
    s = s.substr(0, static_cast<std::size_t>(cap_ - size_));
    fits = false;
  }
  size_ += s.size();
  if (stage_.size() + s.size() > kStage) {
    if (!flush()) return false;
    if (s.size() >= kStage) {  // large chunk: straight to the memfd
      return put(s.data(), s.size()) && fits;
    }
  }
  stage_.append(s);
  return fits;
}

int MessageSpool::seal() {
  if (fd_ < 0 || !error_.empty()) return -1;
  if (!flush()) return -1;
  if (::fcntl(fd_, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    error_ = std::string("sealing the message spool: ") + std::strerror(errno);
    return -1;
  }
  return fd_;
}

}  // namespace emogate
