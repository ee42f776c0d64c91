// The quarantine store: atomic entries, listing, reading, metadata
// updates and removal; see store.h. Releasing is release.cpp, the
// `emogate quarantine` command src/cli/quarantine.cpp. Stored messages are
// hostile and are only copied, never parsed; IDs are validated before they
// touch a path.
// Trusted input: none.
#include "quarantine/store.h"

#include "common/text.h"
#include "milter/policy.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "engine/blob.h"

namespace emogate {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// An open file descriptor, closed on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Everything inside the store is reached from a directory descriptor with
// O_NOFOLLOW: an entry or file that is a symbolic link is never followed.
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

void write_file_synced(int dirfd, const std::string& name, std::string_view data) {
  int fd = ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) fail("create " + name);
  try {
    if (int e = write_fully(fd, data.data(), data.size())) {
      errno = e;
      fail("write " + name);
    }
    if (::fsync(fd) != 0) fail("fsync " + name);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) fail("close " + name);
}

void fsync_fd(int fd, const std::string& what) {
  if (::fsync(fd) != 0) fail("fsync dir " + what);
}

std::string read_file_at(int dirfd, const std::string& name, std::size_t max_bytes) {
  Fd f(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (f.fd < 0) fail("open " + name);
  struct stat st;
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    errno = EINVAL;
    fail("open " + name + " (not a regular file)");
  }
  std::string out;
  char buf[65536];
  while (out.size() < max_bytes) {
    ssize_t n = ::read(f.fd, buf, std::min(sizeof buf, max_bytes - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read " + name);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Removes the entry `name` of `dirfd` and the files in it, without
// following links; true when the entry is gone. Entries hold only files,
// so anything else in one (a folder) makes the removal fail.
bool remove_entry_at(int dirfd, const std::string& name) {
  int efd = ::openat(dirfd, name.c_str(), kDirFlags);
  if (efd < 0) return false;
  if (DIR* d = ::fdopendir(efd)) {  // takes efd
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") ::unlinkat(efd, n.c_str(), 0);
    }
    ::closedir(d);
  } else {
    ::close(efd);
  }
  return ::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) == 0;
}

// UTC time formatted with strftime `fmt`.
std::string utc(std::int64_t t, const char* fmt) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

std::string new_id(std::int64_t now) {
  std::string ts = utc(now, "%Y%m%d-%H%M%S");
  std::random_device rd;
  char rnd[16];
  std::snprintf(rnd, sizeof rnd, "%08x", static_cast<unsigned>(rd()));
  return ts + "-" + rnd;
}

QuarantineMeta meta_from_json(const json& j) {
  QuarantineMeta m;
  m.id = j.value("id", "");
  m.time = j.value("time", std::int64_t{0});
  m.queue_id = j.value("queue_id", "");
  m.sender = j.value("sender", "");
  m.recipients = j.value("recipients", std::vector<std::string>{});
  m.client = j.value("client", "");
  m.auth_user = j.value("auth_user", "");
  m.verdict = j.value("verdict", "");
  m.action = j.value("action", "");
  m.findings = j.value("findings", std::vector<std::string>{});
  m.size = j.value("size", std::uint64_t{0});
  m.released_by = j.value("released_by", "");
  m.released_at = j.value("released_at", std::int64_t{0});
  m.released_to = j.value("released_to", std::vector<std::string>{});
  return m;
}

std::string dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

json meta_to_json(const QuarantineMeta& m) {
  json j{{"id", m.id},           {"time", m.time},       {"queue_id", m.queue_id},
              {"sender", m.sender},   {"recipients", m.recipients},
              {"client", m.client},   {"auth_user", m.auth_user},
              {"verdict", m.verdict}, {"action", m.action},   {"findings", m.findings},
              {"size", m.size},       {"released_by", m.released_by},
              {"released_at", m.released_at}};
  if (!m.released_to.empty()) j["released_to"] = m.released_to;
  return j;
}

std::string iso_time(std::int64_t t) { return utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

QuarantineStore::QuarantineStore(std::string dir) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

bool QuarantineStore::valid_id(std::string_view id) {
  if (id.size() != 24) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool ok = (i == 8 || i == 15) ? c == '-'
              : i < 15            ? (c >= '0' && c <= '9')
                                  : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!ok) return false;
  }
  return true;
}

std::string QuarantineStore::entry(std::string_view id) const {
  if (!valid_id(id)) throw std::runtime_error("invalid quarantine ID '" + std::string(id) + "'");
  return std::string(id);
}

namespace {

int open_store(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open " + dir);
  return fd;
}

}  // namespace

void QuarantineStore::ensure_dir() const {
  // Missing parents (e.g. /var/lib/emogate on a new machine) are created
  // 0755 like a package would; the store itself is 0700, also when it
  // already existed with another mode.
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(dir_).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) fail("mkdir " + parent.string());
  }
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) fail("mkdir " + dir_);
  struct stat lst;
  if (::lstat(dir_.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode))
    throw std::runtime_error("quarantine dir " + dir_ +
                             " is a symbolic link; set [quarantine] dir to the directory itself");
  Fd d(::open(dir_.c_str(), kDirFlags));
  if (d.fd < 0) fail("open quarantine dir " + dir_);
  struct stat st;
  if (::fstat(d.fd, &st) != 0) fail("stat " + dir_);
  if ((st.st_mode & 07777) != 0700 && ::fchmod(d.fd, 0700) != 0) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "0%o", st.st_mode & 07777);
    fail("quarantine dir " + dir_ + " is mode " + mode + ", must be 0700, and cannot be changed");
  }
}

std::string QuarantineStore::put(std::string_view raw, std::string_view report_json,
                                 QuarantineMeta meta) const {
  Fd store(open_store(dir_));
  meta.time = now_s();
  for (int attempt = 0;; ++attempt) {
    meta.id = new_id(meta.time);
    std::string tmp = ".tmp-" + meta.id;
    if (::mkdirat(store.fd, tmp.c_str(), 0700) != 0) {
      if (errno == EEXIST && attempt < 5) continue;
      fail("mkdir " + dir_ + "/" + tmp);
    }
    try {
      Fd e(::openat(store.fd, tmp.c_str(), kDirFlags));
      if (e.fd < 0) fail("open " + tmp);
      write_file_synced(e.fd, "message.eml", raw);
      write_file_synced(e.fd, "report.json", report_json);
      write_file_synced(e.fd, "meta.json", dump(meta_to_json(meta)) + "\n");
      fsync_fd(e.fd, tmp);
      // rename() onto an existing non-empty directory fails, so two writers
      // can never merge into one entry.
      if (::renameat(store.fd, tmp.c_str(), store.fd, meta.id.c_str()) != 0) fail("rename " + tmp);
      fsync_fd(store.fd, dir_);
    } catch (...) {
      remove_entry_at(store.fd, tmp);
      throw;
    }
    return meta.id;
  }
}

std::vector<QuarantineMeta> QuarantineStore::list() const {
  std::vector<QuarantineMeta> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) fail("open " + dir_);
  while (dirent* e = ::readdir(d)) {
    if (!valid_id(e->d_name)) continue;
    if (auto m = meta(e->d_name)) out.push_back(std::move(*m));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::string QuarantineStore::read(std::string_view id, const char* file, std::size_t max_bytes) const {
  Fd store(open_store(dir_));
  std::string name = entry(id);
  Fd e(::openat(store.fd, name.c_str(), kDirFlags));
  if (e.fd < 0) fail("open entry " + name);
  return read_file_at(e.fd, file, max_bytes);
}

std::optional<QuarantineMeta> QuarantineStore::meta(std::string_view id) const {
  try {
    QuarantineMeta m = meta_from_json(json::parse(read(id, "meta.json")));
    m.id = std::string(id);
    return m;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string QuarantineStore::message(std::string_view id) const { return read(id, "message.eml"); }

std::string QuarantineStore::report(std::string_view id) const { return read(id, "report.json"); }

std::string QuarantineStore::message_head(std::string_view id, std::size_t max_bytes) const {
  return read(id, "message.eml", max_bytes);
}

void QuarantineStore::update_meta(const QuarantineMeta& m) const {
  Fd store(open_store(dir_));
  std::string name = entry(m.id);
  Fd e(::openat(store.fd, name.c_str(), kDirFlags));
  if (e.fd < 0) fail("open entry " + name);
  const char* tmp = ".meta.json.tmp";
  ::unlinkat(e.fd, tmp, 0);
  write_file_synced(e.fd, tmp, dump(meta_to_json(m)) + "\n");
  if (::renameat(e.fd, tmp, e.fd, "meta.json") != 0) fail("rename " + name + "/" + tmp);
  fsync_fd(e.fd, name);
}

bool QuarantineStore::remove(std::string_view id) const {
  Fd store(open_store(dir_));
  if (!remove_entry_at(store.fd, entry(id))) return false;
  fsync_fd(store.fd, dir_);
  return true;
}

}  // namespace emogate
