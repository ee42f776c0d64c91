// The calling thread's CPU time, for the counters that say what a piece of
// work cost (the outbound watch's metric, a rule set's passes).
// Trusted input: none needed (reads the kernel's clock only).
#pragma once

#include <time.h>

#include <cstdint>

namespace emogate {

// In nanoseconds; 0 if the clock cannot be read.
inline std::uint64_t thread_cpu_ns() {
  timespec t{};
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return 0;
  return static_cast<std::uint64_t>(t.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(t.tv_nsec);
}

}  // namespace emogate
