// Blob storage. Spilled blobs live in an unlinked 0600 temp file mapped
// read-only, so a 600 MB padded document costs page cache, not heap.
// Trusted input: none.
#include "engine/blob.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace emogate {

void BlobWriter::Free::operator()(char* p) const { std::free(p); }

struct Blob::Impl {
  std::string owned;
  std::unique_ptr<char, BlobWriter::Free> heap;
  std::string_view view;
  void* map = nullptr;
  std::size_t map_len = 0;
  ~Impl() {
    if (map) munmap(map, map_len);
  }
};

Blob::Blob() : impl_(std::make_shared<Impl>()) {}
Blob::Blob(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Blob Blob::from_string(std::string bytes) {
  auto impl = std::make_shared<Impl>();
  impl->owned = std::move(bytes);
  impl->view = impl->owned;
  return Blob(std::move(impl));
}

Blob Blob::borrow(std::string_view bytes) {
  auto impl = std::make_shared<Impl>();
  impl->view = bytes;
  return Blob(std::move(impl));
}

std::string_view Blob::view() const { return impl_->view; }
bool Blob::spilled() const { return impl_->map != nullptr; }

BlobWriter::BlobWriter(std::string temp_dir, std::uint64_t memory_limit, std::uint64_t hard_cap)
    : temp_dir_(std::move(temp_dir)), memory_limit_(memory_limit), cap_(hard_cap) {}

BlobWriter::~BlobWriter() {
  if (fd_ >= 0) close(fd_);
}

BlobWriter::BlobWriter(BlobWriter&& o) noexcept { *this = std::move(o); }
BlobWriter& BlobWriter::operator=(BlobWriter&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    temp_dir_ = std::move(o.temp_dir_);
    memory_limit_ = o.memory_limit_;
    cap_ = o.cap_;
    size_ = o.size_;
    capped_ = o.capped_;
    mem_ = std::move(o.mem_);
    mem_cap_ = o.mem_cap_;
    o.mem_cap_ = 0;
    fd_ = o.fd_;
    o.fd_ = -1;
    error_ = std::move(o.error_);
    memory_error_ = o.memory_error_;
  }
  return *this;
}

bool BlobWriter::spill() {
  // An O_TMPFILE file never has a name: nothing is left behind even if the
  // process is killed, and a sandboxed scan worker (which may open nothing
  // else) can still spill. Filesystems without it get mkstemp (0600) and an
  // unlink at once.
  fd_ = ::open(temp_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ < 0 && errno != EACCES && errno != EPERM) {
    std::string tmpl = temp_dir_ + "/emogate-XXXXXX";
    fd_ = mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd_ >= 0) unlink(tmpl.c_str());
  }
  if (fd_ < 0) {
    error_ = "cannot create temp file in " + temp_dir_ + ": " + std::strerror(errno);
    return false;
  }
  if (!write_fd(mem_.get(), static_cast<std::size_t>(size_))) {
    // The bytes so far stay in memory; a file shorter than size_ must never
    // be mapped (reading past its end is SIGBUS).
    close(fd_);
    fd_ = -1;
    return false;
  }
  mem_.reset();
  mem_cap_ = 0;
  return true;
}

bool BlobWriter::grow(std::size_t need) {
  if (need <= mem_cap_) return true;
  std::size_t cap = std::max<std::size_t>({need, mem_cap_ * 2, 4096});
  if (cap > memory_limit_ && need <= memory_limit_) cap = static_cast<std::size_t>(memory_limit_);
  char* p = static_cast<char*>(std::realloc(mem_.get(), cap));
  if (!p) {
    error_ = "out of memory growing a buffer to " + std::to_string(cap) + " bytes";
    memory_error_ = true;
    return false;
  }
  (void)mem_.release();
  mem_.reset(p);
  mem_cap_ = cap;
  return true;
}

int write_fully(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return 0;
}

bool BlobWriter::write_fd(const char* p, std::size_t left) {
  if (int e = write_fully(fd_, p, left)) {
    error_ = std::string("temp file write: ") + std::strerror(e);
    return false;
  }
  return true;
}

void BlobWriter::expect(std::uint64_t n) {
  if (fd_ >= 0 || !error_.empty()) return;
  n = std::min(n, cap_);
  if (n > memory_limit_) spill();
  else grow(static_cast<std::size_t>(n));
}

void BlobWriter::reserve(std::uint64_t n) {
  if (fd_ >= 0 || !error_.empty() || n > memory_limit_ || n > cap_) return;
  grow(static_cast<std::size_t>(n));
}

bool BlobWriter::write(const void* data, std::size_t n) {
  if (!error_.empty()) return false;
  bool ok = true;
  if (size_ + n > cap_) {
    n = cap_ > size_ ? static_cast<std::size_t>(cap_ - size_) : 0;
    capped_ = true;
    ok = false;
  }
  if (n == 0) return ok;
  if (fd_ < 0 && size_ + n > memory_limit_) {
    if (!spill()) return false;
  }
  if (fd_ >= 0) {
    if (!write_fd(static_cast<const char*>(data), n)) return false;
  } else {
    if (!grow(static_cast<std::size_t>(size_) + n)) return false;
    std::memcpy(mem_.get() + size_, data, n);
  }
  size_ += n;
  return ok;
}

char* BlobWriter::room(std::size_t n) {
  room_ = 0;
  if (!error_.empty() || fd_ >= 0 || size_ + n > memory_limit_ || size_ + n > cap_) return nullptr;
  if (!grow(static_cast<std::size_t>(size_) + n)) {
    error_.clear();  // write() will meet (and report) the same failure
    memory_error_ = false;
    return nullptr;
  }
  room_ = n;
  return mem_.get() + size_;
}

void BlobWriter::commit(std::size_t n) {
  size_ += std::min(n, room_);
  room_ = 0;
}

Blob BlobWriter::finish() {
  if (fd_ < 0) {
    auto impl = std::make_shared<Blob::Impl>();
    impl->view = std::string_view(mem_.get(), static_cast<std::size_t>(size_));
    impl->heap = std::move(mem_);
    mem_cap_ = 0;
    return Blob(std::move(impl));
  }
  auto impl = std::make_shared<Blob::Impl>();
  struct stat st {};
  if (size_ > 0 && (fstat(fd_, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < size_)) {
    error_ = "temp file shorter than its content (" + std::to_string(st.st_size) + " of " + std::to_string(size_) +
             " bytes)";
  } else if (size_ > 0) {
    void* m = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (m != MAP_FAILED) {
      impl->map = m;
      impl->map_len = size_;
      impl->view = std::string_view(static_cast<const char*>(m), size_);
      madvise(m, size_, MADV_SEQUENTIAL);
    } else {
      error_ = std::string("mmap: ") + std::strerror(errno);
    }
  }
  close(fd_);  // the mapping keeps the unlinked file alive
  fd_ = -1;
  return Blob(std::move(impl));
}

}  // namespace emogate
