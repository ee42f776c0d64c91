// Blob: the bytes of one object, in memory or in a private temp file.
// BlobWriter: streams bytes in, spilling to an unlinked 0600 temp file once
// the in-memory limit is passed, and refusing bytes past a hard cap. The
// caller decides what a refused write means (usually limit_exceeded).
// Trusted input: none.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace emogate {

// Writes all n bytes to fd, retrying short writes and EINTR. Returns 0, or
// the errno of the write that failed. Shared by temp-file spills and the
// milter's message spool.
int write_fully(int fd, const char* p, std::size_t n);

class Blob {
 public:
  Blob();  // empty
  static Blob from_string(std::string bytes);
  // Non-owning view; the caller keeps the bytes alive longer than the Blob.
  static Blob borrow(std::string_view bytes);
  std::string_view view() const;
  std::uint64_t size() const { return view().size(); }
  bool spilled() const;  // backed by a temp file mapping

 private:
  struct Impl;
  friend class BlobWriter;
  explicit Blob(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

class BlobWriter {
 public:
  struct Free {  // for realloc-grown buffers
    void operator()(char* p) const;
  };
  // memory_limit: bytes kept in RAM before spilling; hard_cap: bytes accepted.
  BlobWriter(std::string temp_dir, std::uint64_t memory_limit, std::uint64_t hard_cap);
  ~BlobWriter();
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;

  // Appends up to the cap; returns false when bytes were refused (the part
  // that fits is kept) or the temp file could not be written.
  bool write(const void* data, std::size_t n);
  bool write(std::string_view s) { return write(s.data(), s.size()); }
  // In-place writing, for a producer that writes straight into the buffer
  // (a decoder) instead of into a chunk that write() copies: room for up to
  // n bytes at the end, or null when write() must be used instead (the
  // object is or would go to a temp file, the cap is within n, an error, or
  // no memory). The bytes count only when commit() takes them.
  char* room(std::size_t n);
  // Takes the first n bytes (at most the room asked for) written at room().
  void commit(std::size_t n);
  // Size hint: goes to a temp file at once when the object will not fit in
  // memory, otherwise reserves, so large objects are never copied twice.
  void expect(std::uint64_t n);
  // Size hint from a source that may lie (a ZIP directory, SMTP SIZE=):
  // reserves memory only, and only up to the memory limit; never spills.
  void reserve(std::uint64_t n);
  std::uint64_t size() const { return size_; }
  bool capped() const { return capped_; }
  const std::string& error() const { return error_; }
  // The resource behind error(): "temp_dir" (temp file creation, write or
  // mapping) or "memory" (a buffer could not grow).
  const char* error_resource() const { return memory_error_ ? "memory" : "temp_dir"; }
  // Lowers the hard cap (e.g. when a per-message budget shrinks).
  void set_cap(std::uint64_t cap) { cap_ = cap; }
  std::uint64_t cap() const { return cap_; }
  Blob finish();

 private:
  bool spill();
  bool write_fd(const char* p, std::size_t n);
  std::string temp_dir_;
  std::uint64_t memory_limit_, cap_;
  std::uint64_t size_ = 0;
  bool capped_ = false;
  // Grown with realloc: glibc moves large blocks with mremap, so growing a
  // many-megabyte object remaps pages instead of copying them.
  bool grow(std::size_t need);
  std::unique_ptr<char, Free> mem_;
  std::size_t mem_cap_ = 0;
  std::size_t room_ = 0;  // what the last room() gave
  int fd_ = -1;
  std::string error_;
  bool memory_error_ = false;
};

}  // namespace emogate
