// Streams one archive member into a child object in fixed-size chunks, so
// no member is ever held twice and the engine's limits (object size, bytes
// per message, compression ratio, deadline) cut it short while inflating.
//
// Zero padding: Emotet (2023) appended hundreds of MB of zeros to Word
// files so they passed every scanner's size limit. A zero run longer than
// kPaddingRun is held back instead of written: if data follows, the held
// zeros are written first (content stays exact and every limit applies);
// if the member ends inside the run without reaching a limit, they are
// written too. Held zeros count for the compression-ratio and object-size
// limits, so a padded document or an all-zero bomb stops at the first limit
// without ever writing its padding: the finding names that limit and says
// how much zero padding was not kept, and the data before it is analysed.
// Trusted input: none; the bytes come from a decompressor fed by the sender.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "engine/context.h"

namespace emogate {

enum class StreamResult { complete, limited, read_error, expired };

inline constexpr std::uint64_t kPaddingRun = 1u << 20;

namespace detail {
inline bool write_zeros(ChildWriter& w, std::uint64_t n) {
  static const char zeros[65536] = {};
  while (n > 0) {
    std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, sizeof zeros));
    if (!w.write(zeros, k)) return false;
    n -= k;
  }
  return true;
}
// Index of the last non-zero byte + 1, eight bytes at a time: the scan runs
// over every inflated byte of a zero bomb.
inline std::size_t content_end(const char* p, std::size_t n) {
  while (n > 0 && n % 8 != 0 && p[n - 1] == 0) --n;
  if (n % 8 != 0) return n;
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p + n - 8, 8);
    if (w != 0) break;
    n -= 8;
  }
  while (n > 0 && p[n - 1] == 0) --n;
  return n;
}
inline std::string megabytes(std::uint64_t n) {
  return std::to_string(n >> 20) + "." + std::to_string(((n & 0xFFFFF) * 10) >> 20) + " MiB";
}
}  // namespace detail

// `read(buf, cap)` returns bytes read, 0 at the end, < 0 on error. The
// child is committed in every case but a read error before any byte, so
// the detectors still see the prefix of a truncated or corrupt member.
template <class Read>
StreamResult stream_child(ScanContext& ctx, const Object& parent, ChildSpec spec, Read&& read) {
  constexpr std::size_t kChunk = 64 * 1024;
  const std::string member = spec.name;
  const std::uint64_t compressed = spec.compressed_size;
  const Limits& lim = ctx.limits();
  const double ratio_cap = static_cast<double>(compressed) * lim.max_compression_ratio;
  auto buf = std::make_unique<char[]>(kChunk);
  const std::uint64_t declared = spec.declared_size;
  ChildWriter w = ctx.begin_child(parent, std::move(spec));
  // Growing by doubling copies a member about twice; a truthful directory
  // saves that. A lie reserves address space, bounded by the memory and
  // ratio limits, which pages in only as far as real bytes arrive.
  if (declared > 0 && (compressed == 0 || static_cast<double>(declared) <= ratio_cap))
    w.reserve(declared);
  StreamResult result = StreamResult::complete;
  std::uint64_t run = 0, held = 0, total = 0;
  // Writes `n` zero bytes of the current run, holding back past kPaddingRun.
  auto zeros = [&](std::uint64_t n) {
    std::uint64_t now = run < kPaddingRun ? std::min(n, kPaddingRun - run) : 0;
    run += n;
    held += n - now;
    return detail::write_zeros(w, now);
  };
  std::string stopped_by;  // a limit enforced here rather than by the writer
  for (;;) {
    if (ctx.expired()) { result = StreamResult::expired; stopped_by = "scan_timeout_ms"; break; }
    long long got = read(buf.get(), kChunk);
    if (got < 0) { result = StreamResult::read_error; break; }
    if (got == 0) break;
    std::size_t n = static_cast<std::size_t>(got);
    total += n;
    std::size_t last = detail::content_end(buf.get(), n);
    bool ok = true;
    if (last > 0) {
      ok = detail::write_zeros(w, held) && w.write(buf.get(), last);
      held = 0;
      run = 0;
    }
    ok = ok && zeros(n - last);
    if (!ok) { result = StreamResult::limited; break; }
    // Inside a held run, nothing that follows could be kept anyway once the
    // member is past max_object_size or the ratio limit: a zero bomb, stop.
    if (held > 0 && total > lim.max_object_size) stopped_by = "max_object_size";
    else if (held > 0 && compressed > 0 && exceeds_compression_ratio(lim, total, compressed))
      stopped_by = "max_compression_ratio";
    if (!stopped_by.empty()) { result = StreamResult::limited; break; }
  }
  if (result == StreamResult::complete && held > 0) {
    // The member ended inside the run and no limit was reached: the zeros
    // are content after all, written (under the writer's own limits).
    if (!detail::write_zeros(w, held)) result = StreamResult::limited;
  } else if (!stopped_by.empty()) {
    std::string d = "member \"" + member + "\" ";
    if (stopped_by == "max_object_size")
      d += "is larger than " + std::to_string(lim.max_object_size) + " bytes";
    else if (stopped_by == "max_compression_ratio")
      d += compression_ratio_detail(lim, compressed);
    else
      d += "was being extracted when the scan time ran out";
    if (held > 0)
      d += "; the last " + detail::megabytes(held) + " read were zero padding and not kept; the first " +
           detail::megabytes(w.size()) + " are analysed";
    ctx.limit_hit(parent, stopped_by, d);
    w.mark_truncated();
  }
  if (result != StreamResult::read_error || w.size() > 0) ctx.commit(std::move(w));
  return result;
}

}  // namespace emogate
