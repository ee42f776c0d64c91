// The quarantine list's in-memory index; see quarantine_index.h.
// Trusted input: none.
#include "web/pages/quarantine_index.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <stdexcept>

#include "common/text.h"
#include "formats/mime/gmime_message.h"

namespace emogate::web {

namespace {

// A directory changed this recently is rescanned even when its time looks
// unchanged: two changes may share one timestamp tick.
constexpr std::int64_t kRecentChangeS = 2;

// The header block of a message head: up to its first empty line.
std::string_view header_block(std::string_view head) {
  for (std::string_view sep : {"\r\n\r\n", "\n\n"})
    if (auto p = head.find(sep); p != std::string_view::npos) return head.substr(0, p + sep.size());
  return head;
}

std::string subject_of(std::string_view head) {
  std::string block(header_block(head));
  block += "\n";
  std::set<std::string> problems;
  ParsedMessage parsed(block, problems);
  if (!parsed.message()) return {};
  std::string subject = message_subject(parsed.message()).value_or("");
  const auto first = subject.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return subject.substr(first, subject.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

std::int64_t id_time(std::string_view id) {
  if (!QuarantineStore::valid_id(id)) return 0;
  std::tm tm{};
  std::string s(id.substr(0, 15));
  const char* end = ::strptime(s.c_str(), "%Y%m%d-%H%M%S", &tm);
  if (!end || *end) return 0;
  return static_cast<std::int64_t>(::timegm(&tm));
}

IndexEntry read_index_entry(const QuarantineStore& store, const std::string& id) {
  IndexEntry e;
  e.meta.id = id;
  auto m = store.meta(id);
  if (!m) {
    e.broken = true;
    e.time = id_time(id);
    return e;
  }
  e.meta = std::move(*m);
  e.time = e.meta.time;
  try {
    e.subject = subject_of(store.message_head(id, kIndexHeadBytes));
  } catch (const std::exception&) {
    e.broken = true;  // a meta without its message is not a usable entry
  }
  e.sender_lc = ascii_lower(e.meta.sender);
  for (const auto& r : e.meta.recipients) e.recipients_lc.push_back(ascii_lower(r));
  for (const auto& f : e.meta.findings) e.finding_types.push_back(ascii_lower(f.substr(0, f.find('@'))));
  return e;
}

void QuarantineIndex::refresh() {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));  // the file system's clock, not the pages'
  struct stat st {};
  if (::stat(store_.dir().c_str(), &st) != 0)
    throw std::runtime_error("open " + store_.dir() + ": " + std::strerror(errno));
  const std::int64_t mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (mtime_ns == mtime_ns_ && now - st.st_mtim.tv_sec > kRecentChangeS) return;
  std::vector<std::string> names;
  DIR* d = ::opendir(store_.dir().c_str());
  if (!d) throw std::runtime_error("open " + store_.dir() + ": " + std::strerror(errno));
  while (dirent* de = ::readdir(d))
    if (QuarantineStore::valid_id(de->d_name)) names.emplace_back(de->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  // Merge: keep the entries still there, read the new ones.
  std::vector<IndexEntry> merged;
  merged.reserve(names.size());
  std::size_t old = 0;
  for (const std::string& n : names) {
    while (old < entries_.size() && entries_[old].meta.id < n) ++old;
    if (old < entries_.size() && entries_[old].meta.id == n && !entries_[old].broken)
      merged.push_back(std::move(entries_[old++]));
    else
      merged.push_back(read_index_entry(store_, n));  // new, or broken before: read again
  }
  entries_ = std::move(merged);
  mtime_ns_ = mtime_ns;
}

void QuarantineIndex::reload(const std::string& id) {
  if (!QuarantineStore::valid_id(id)) return;
  auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                             [](const IndexEntry& e, const std::string& k) { return e.meta.id < k; });
  IndexEntry fresh = read_index_entry(store_, id);
  const bool gone = fresh.broken && !store_.meta(id) && [&] {
    struct stat st {};
    return ::lstat((store_.dir() + "/" + id).c_str(), &st) != 0;
  }();
  if (it != entries_.end() && it->meta.id == id) {
    if (gone) entries_.erase(it);
    else *it = std::move(fresh);
  } else if (!gone) {
    entries_.insert(it, std::move(fresh));
  }
}

}  // namespace emogate::web
