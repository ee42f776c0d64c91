// Test-only module, linked into the test binaries (emogate_tests,
// emogate_testhooks) and never into the shipped `emogate`: an object whose
// bytes start with a marker makes the scanning process misbehave the way a
// broken parser would, or try what the worker sandbox must refuse.
//   EMOGATE-TEST-CRASH   abort()                (a parser's heap check)
//   EMOGATE-TEST-SEGV    write through a null pointer
//   EMOGATE-TEST-SPIN    loop forever           (a parser that never ends)
//   EMOGATE-TEST-ALLOC   allocate without end   (a decompression bomb)
//   EMOGATE-TEST-SOCKET  socket(AF_INET)        (must be refused)
//   EMOGATE-TEST-EXEC    execve("/bin/sh")      (must be refused)
//   EMOGATE-TEST-OPEN:<path>  open(path)        (must be refused)
// What a refused call returned is reported with add_error().
// Trusted input: the object bytes (only compared against the markers).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/context.h"
#include "engine/module.h"
#include "engine/registry.h"

namespace emogate {
namespace {

constexpr std::string_view kPrefix = "EMOGATE-TEST-";

class PoisonDetector : public Module {
 public:
  Phase phase() const override { return Phase::inspect; }
  std::string_view name() const override { return "test_poison"; }
  std::vector<std::string> types() const override { return {"*"}; }
  bool accepts(const Object& obj) const override { return obj.bytes().starts_with(kPrefix); }
  void run(const Object& obj, ScanContext& ctx) const override {
    std::string_view b = obj.bytes().substr(kPrefix.size());
    if (b.starts_with("CRASH")) std::abort();
    if (b.starts_with("SEGV")) {
      volatile int* p = nullptr;
      *p = 1;
    }
    if (b.starts_with("SPIN"))
      for (;;) asm volatile("" ::: "memory");
    if (b.starts_with("ALLOC")) {
      std::vector<std::unique_ptr<char[]>> keep;
      for (;;) {
        keep.emplace_back(new char[16 << 20]);
        std::memset(keep.back().get(), 1, 16 << 20);
      }
    }
    if (b.starts_with("SOCKET")) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      ctx.add_error("test hook: socket() = " + std::to_string(fd) + " (" + std::strerror(errno) + ")");
      if (fd >= 0) ::close(fd);
    }
    if (b.starts_with("EXEC")) {
      char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), const_cast<char*>("true"), nullptr};
      ::execve("/bin/sh", argv, environ);
      ctx.add_error(std::string("test hook: execve failed (") + std::strerror(errno) + ")");
    }
    if (b.starts_with("OPEN:")) {
      std::string path(b.substr(5, b.find_first_of("\r\n") == std::string_view::npos ? std::string_view::npos
                                                                                        : b.find_first_of("\r\n") - 5));
      int fd = ::open(path.c_str(), O_RDONLY);
      ctx.add_error("test hook: open(" + path + ") = " + std::to_string(fd) + " (" +
                    (fd < 0 ? std::strerror(errno) : "opened") + ")");
      if (fd >= 0) ::close(fd);
    }
  }
};

const bool registered = [] {
  test_modules().push_back([]() -> std::unique_ptr<Module> { return std::make_unique<PoisonDetector>(); });
  return true;
}();

}  // namespace
}  // namespace emogate
