// MessageSpool and MappedFd; see spool.h.
// Trusted input: none.
#include "worker/spool.h"

#include "engine/blob.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

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

SpoolRegions::SpoolRegions(std::uint64_t capacity, std::size_t count) : cap_(capacity), count_(count) {}

SpoolRegions::~SpoolRegions() {
  for (const Region& r : all_) {
    ::munmap(r.map, static_cast<std::size_t>(cap_));
    ::close(r.fd);
  }
}

std::optional<SpoolRegions::Region> SpoolRegions::acquire() {
  std::lock_guard lk(mu_);
  if (!idle_.empty()) {
    Region r = idle_.back();
    idle_.pop_back();
    return r;
  }
  if (all_.size() >= count_ || cap_ == 0 || !error_.empty()) return std::nullopt;
  Region r;
  r.fd = ::memfd_create("emogate-region", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  const char* step = "memfd_create";
  if (r.fd >= 0 && ::ftruncate(r.fd, static_cast<off_t>(cap_)) != 0) step = "ftruncate";
  else if (r.fd >= 0) {
    void* m = ::mmap(nullptr, static_cast<std::size_t>(cap_), PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
    if (m == MAP_FAILED) step = "mmap";
    else r.map = static_cast<char*>(m);
    // A worker forked later (a replacement) must not inherit this writable
    // mapping: fork leaves it out of the child.
    if (r.map && ::madvise(r.map, static_cast<std::size_t>(cap_), MADV_DONTFORK) != 0) {
      ::munmap(r.map, static_cast<std::size_t>(cap_));
      r.map = nullptr;
      step = "madvise";
    }
  }
  // The seal comes after the daemon's writable mapping, which it does not
  // affect; every later writable mapping and every write(2) is refused.
  if (r.map && ::fcntl(r.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) == 0) {
    all_.push_back(r);
    return r;
  }
  if (r.map) step = "sealing";
  // Not retried: the kernel or the limits will not change (per-message
  // memfds still work).
  error_ = std::string("spool region ") + step + ": " + std::strerror(errno);
  if (r.map) ::munmap(r.map, static_cast<std::size_t>(cap_));
  if (r.fd >= 0) ::close(r.fd);
  return std::nullopt;
}

void SpoolRegions::release(Region r) {
  std::lock_guard lk(mu_);
  idle_.push_back(r);
}

std::string SpoolRegions::error() const {
  std::lock_guard lk(mu_);
  return error_;
}

MessageSpool::MessageSpool(std::uint64_t hard_cap, std::shared_ptr<SpoolRegions> regions)
    : regions_(std::move(regions)), cap_(hard_cap) {}

bool MessageSpool::open() {
  if (region_ || fd_ >= 0) return true;  // callers stop at error() first
  if (regions_) region_ = regions_->acquire();
  if (region_) return true;
  fd_ = ::memfd_create("emogate-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd_ < 0) {
    error_ = std::string("memfd_create: ") + std::strerror(errno);
    return false;
  }
  stage_.reserve(kStage);
  return true;
}

MessageSpool::~MessageSpool() {
  if (region_) regions_->release(*region_);
  if (fd_ >= 0) ::close(fd_);
}

bool MessageSpool::leave_region() {
  fd_ = ::memfd_create("emogate-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  const bool ok = fd_ >= 0 && put(region_->map, static_cast<std::size_t>(size_));
  if (fd_ < 0) error_ = std::string("memfd_create: ") + std::strerror(errno);
  regions_->release(*region_);
  region_.reset();
  stage_.reserve(kStage);
  return ok;
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
  if (!error_.empty() || !open()) return false;
  bool fits = true;
  if (s.size() > cap_ - size_) {
    s = s.substr(0, static_cast<std::size_t>(cap_ - size_));
    fits = false;
  }
  if (region_ && s.size() > regions_->capacity() - size_ && !leave_region()) return false;
  if (region_) {
    std::memcpy(region_->map + size_, s.data(), s.size());
    size_ += s.size();
    return fits;
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
  if (!error_.empty() || !open()) return -1;
  if (region_) return region_->fd;  // sealed when made
  if (!flush()) return -1;
  if (::fcntl(fd_, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    error_ = std::string("sealing the message spool: ") + std::strerror(errno);
    return -1;
  }
  return fd_;
}

}  // namespace emogate
