// The quarantine list's index: every entry of the quarantine store with
// what the list page shows and filters on (envelope, decoded Subject,
// findings, state), kept in memory and brought up to date incrementally:
// an inotify watch on the store directory names the entries that came or
// went since the last refresh, and only those are read or dropped. Without
// the watch (inotify unavailable, its queue overflowed, or the directory
// changed with no event seen) the directory's names are read again and
// merged, reading only the new entries; nothing is read when its
// modification time has not moved. An entry whose files cannot be read is
// kept as a broken entry, never dropped.
// XXX a meta.json rewritten in place (`emogate quarantine release --keep`
// from the command line) raises no event on the store directory: the list
// page reads the rows it shows afresh, but filters by state see the change
// only once the entry is opened or the index is rebuilt.
// Trusted input: none (the store's files come from mail; nothing here is
// printed, the pages escape it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quarantine/store.h"

namespace emogate::web {

// How much of a stored message is read for its Subject.
inline constexpr std::size_t kIndexHeadBytes = 64 * 1024;

struct IndexEntry {
  QuarantineMeta meta;  // meta.id always set; the rest empty when broken
  std::string subject;  // decoded (UTF-8), "" when none
  bool broken = false;  // meta.json unreadable
  std::int64_t time = 0;  // meta.time, or the time in the ID when broken
  // Lower-cased copies for the filters.
  std::string sender_lc;
  std::vector<std::string> recipients_lc;
  std::vector<std::string> finding_types;  // lower-cased type of each "type@path"
};

// Builds one entry from the store (a broken one when its meta cannot be read).
IndexEntry read_index_entry(const QuarantineStore& store, const std::string& id);

// Unix seconds of an ID's "YYYYMMDD-HHMMSS" part; 0 when it is not one.
std::int64_t id_time(std::string_view id);

class QuarantineIndex {
 public:
  // `watch`: follow the directory with inotify (tests turn it off to
  // check the rescans).
  explicit QuarantineIndex(const QuarantineStore& store, bool watch = true);
  ~QuarantineIndex();
  QuarantineIndex(const QuarantineIndex&) = delete;
  QuarantineIndex& operator=(const QuarantineIndex&) = delete;
  // Brings the index up to date with the store directory (rescanned while
  // it changed in the last seconds, as two changes may share one
  // timestamp tick). Throws std::runtime_error when the directory cannot
  // be read.
  void refresh();
  // Rereads one entry (after an action on it, or to show it fresh);
  // drops it when it is gone from the store.
  void reload(const std::string& id);
  const std::vector<IndexEntry>& entries() const { return entries_; }  // by ID, oldest first

 private:
  void rescan();
  // Applies the watch's events; false when a rescan is needed instead.
  bool apply_events(bool& any);
  void upsert(const std::string& id);
  void drop(const std::string& id);
  const QuarantineStore& store_;
  std::vector<IndexEntry> entries_;
  std::int64_t mtime_ns_ = -1;
  int inotify_fd_ = -1;  // -1: no watch, rescans only
  bool scanned_ = false;
};

}  // namespace emogate::web
