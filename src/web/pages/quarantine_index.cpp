// The quarantine list's in-memory index; see quarantine_index.h.
// Trusted input: none.
#include "web/pages/quarantine_index.h"

#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

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

QuarantineIndex::QuarantineIndex(const QuarantineStore& store, bool watch) : store_(store) {
  if (!watch) return;
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ >= 0 &&
      ::inotify_add_watch(inotify_fd_, store_.dir().c_str(),
                          IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF |
                              IN_ONLYDIR) < 0) {
    ::close(inotify_fd_);
    inotify_fd_ = -1;
  }
}

QuarantineIndex::~QuarantineIndex() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void QuarantineIndex::refresh() {
  // The events first, then the directory's time: a change between the two
  // is seen again next time, never missed.
  bool any = false;
  const bool watched = scanned_ && inotify_fd_ >= 0 && apply_events(any);
  struct stat st {};
  if (::stat(store_.dir().c_str(), &st) != 0)
    throw std::runtime_error("open " + store_.dir() + ": " + std::strerror(errno));
  const std::int64_t mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));  // the file system's clock, not the pages'
  bool again;
  if (!scanned_) again = true;
  else if (inotify_fd_ >= 0) again = !watched || (!any && mtime_ns != mtime_ns_);  // lost events, or a change without one
  else again = mtime_ns != mtime_ns_ || now - st.st_mtim.tv_sec <= kRecentChangeS;
  if (again) rescan();
  mtime_ns_ = mtime_ns;
}

bool QuarantineIndex::apply_events(bool& any) {
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN;  // drained
    if (n == 0) return false;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        // Lost events or the directory replaced: drain and rescan.
        while (::read(inotify_fd_, buf, sizeof buf) > 0) continue;
        return false;
      }
      const std::string name = ev->len ? std::string(ev->name) : std::string();
      if (!QuarantineStore::valid_id(name)) continue;  // ".tmp-..." while an entry is written
      any = true;
      if (ev->mask & (IN_CREATE | IN_MOVED_TO)) upsert(name);
      else drop(name);
    }
  }
}

void QuarantineIndex::upsert(const std::string& id) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                             [](const IndexEntry& e, const std::string& k) { return e.meta.id < k; });
  IndexEntry fresh = read_index_entry(store_, id);
  if (it != entries_.end() && it->meta.id == id) *it = std::move(fresh);
  else entries_.insert(it, std::move(fresh));
}

void QuarantineIndex::drop(const std::string& id) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                             [](const IndexEntry& e, const std::string& k) { return e.meta.id < k; });
  if (it != entries_.end() && it->meta.id == id) entries_.erase(it);
}

void QuarantineIndex::rescan() {
  if (inotify_fd_ >= 0) {  // what is queued now, the names read below include
    char buf[4096];
    while (::read(inotify_fd_, buf, sizeof buf) > 0) continue;
  }
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
  scanned_ = true;
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
