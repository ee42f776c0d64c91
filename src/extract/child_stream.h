// Streams one archive member into a child object in fixed-size chunks, so
// no member is ever held twice and the engine's limits (object size, bytes
// per message, compression ratio, deadline) cut it short while inflating.
#pragma once

#include <cstdint>
#include <string>

#include "engine/context.h"

namespace emogate {

enum class StreamResult { complete, limited, read_error, expired };

// `read(buf, cap)` returns bytes read, 0 at the end, < 0 on error. The
// child is committed in every case but a read error before any byte, so
// the detectors still see the prefix of a truncated or corrupt member.
template <class Read>
StreamResult stream_child(ScanContext& ctx, const Object& parent, ChildSpec spec, Read&& read) {
  constexpr std::size_t kChunk = 64 * 1024;
  auto buf = std::make_unique<char[]>(kChunk);
  ChildWriter w = ctx.begin_child(parent, std::move(spec));
  StreamResult result = StreamResult::complete;
  for (;;) {
    if (ctx.expired()) { result = StreamResult::expired; break; }
    long long n = read(buf.get(), kChunk);
    if (n < 0) { result = StreamResult::read_error; break; }
    if (n == 0) break;
    if (!w.write(buf.get(), static_cast<std::size_t>(n))) { result = StreamResult::limited; break; }
  }
  if (result != StreamResult::read_error || w.size() > 0) ctx.commit(std::move(w));
  return result;
}

}  // namespace emogate
