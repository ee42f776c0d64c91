// Quarantine store and the `emogate quarantine` command; see store.h.
// Trusted input: none (stored messages are hostile; IDs are validated).
#include "quarantine/store.h"

#include "common/text.h"
#include "milter/policy.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <stdexcept>

namespace emogate {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write " + what);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
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
    write_all(fd, data, name);
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

std::string read_file_at(int dirfd, const std::string& name) {
  Fd f(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (f.fd < 0) fail("open " + name);
  struct stat st;
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    errno = EINVAL;
    fail("open " + name + " (not a regular file)");
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
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

json meta_to_json(const QuarantineMeta& m) {
  return json{{"id", m.id},           {"time", m.time},       {"queue_id", m.queue_id},
              {"sender", m.sender},   {"recipients", m.recipients},
              {"client", m.client},   {"auth_user", m.auth_user},
              {"verdict", m.verdict}, {"action", m.action},   {"findings", m.findings},
              {"size", m.size},       {"released_by", m.released_by},
              {"released_at", m.released_at}};
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
  return m;
}

std::string dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string iso_time(std::int64_t t) { return utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

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

std::string QuarantineStore::read(std::string_view id, const char* file) const {
  Fd store(open_store(dir_));
  std::string name = entry(id);
  Fd e(::openat(store.fd, name.c_str(), kDirFlags));
  if (e.fd < 0) fail("open entry " + name);
  return read_file_at(e.fd, file);
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

std::string release_copy(std::string_view raw, std::string_view by, std::string_view id,
                         std::int64_t now) {
  std::string who;
  for (char c : by)  // the header must stay one printable line
    who += (c > 0x20 && c < 0x7f) ? c : '_';
  if (who.empty()) who = "unknown";
  std::string eol = raw.find("\r\n") != std::string_view::npos ? "\r\n" : "\n";
  return "X-Emogate-Released: by " + who + " at " + iso_time(now) + " from quarantine " +
         std::string(id) + eol + std::string(raw);
}

namespace {

// Runs `sendmail -i -f SENDER -- RCPT...` with the message on stdin.
// Returns the exit status, or -1 when it could not be run.
int run_sendmail(const std::string& sendmail, const QuarantineMeta& m, const std::string& msg,
                 std::ostream& err) {
  std::vector<std::string> argv = {sendmail, "-i", "-f", m.sender.empty() ? "<>" : m.sender, "--"};
  argv.insert(argv.end(), m.recipients.begin(), m.recipients.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return -1;
  }
  if (pid == 0) {
    ::dup2(p[0], 0);
    ::execv(cargv[0], cargv.data());
    _exit(127);
  }
  ::close(p[0]);
  bool ok = true;
  try {
    write_all(p[1], msg, "sendmail pipe");
  } catch (const std::exception& e) {
    err << "emogate: " << e.what() << "\n";
    ok = false;
  }
  ::close(p[1]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!ok) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string current_user() {
  if (const char* s = std::getenv("SUDO_USER"); s && *s) return s;
  if (passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "uid" + std::to_string(::getuid());
}

// Envelope strings come from the SMTP client: escaped as in the mail log,
// so a CR or LF in them cannot fake a line of the output.
std::string escaped_list(const std::vector<std::string>& v) {
  std::vector<std::string> e;
  for (const auto& x : v) e.push_back(policy::escape_text(x, " ,"));
  return join(e, ",");
}

}  // namespace

int quarantine_main(const Config& config, const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  const char* usage =
      "usage: emogate quarantine list\n"
      "       emogate quarantine show ID [--message]\n"
      "       emogate quarantine release ID [--by NAME] [--keep]\n"
      "       emogate quarantine delete ID\n";
  if (args.empty()) {
    err << usage;
    return 2;
  }
  QuarantineStore store(config.quarantine.dir);
  const std::string& cmd = args[0];
  try {
    if (cmd == "list" && args.size() == 1) {
      for (const auto& m : store.list()) {
        out << m.id << "  " << iso_time(m.time) << "  <" << policy::escape_text(m.sender, " <>") << ">  "
            << escaped_list(m.recipients) << "  " << policy::escape_text(m.verdict, " ") << "  "
            << (m.findings.empty() ? "-" : escaped_list(m.findings))
            << (m.released_by.empty() ? "" : "  released-by=" + policy::escape_text(m.released_by, " "))
            << "\n";
      }
      return 0;
    }
    if (args.size() < 2) {
      err << usage;
      return 2;
    }
    const std::string& id = args[1];
    if (!QuarantineStore::valid_id(id)) {
      err << "emogate: invalid quarantine ID '" << id << "'\n";
      return 2;
    }
    auto m = store.meta(id);
    if (!m) {
      err << "emogate: no quarantined message " << id << " in " << store.dir() << "\n";
      return 1;
    }
    if (cmd == "show") {
      if (args.size() == 3 && args[2] == "--message") {
        out << store.message(id);
        return 0;
      }
      json j = meta_to_json(*m);
      j["time_iso"] = iso_time(m->time);
      try {
        j["report"] = json::parse(store.report(id));
      } catch (const std::exception& e) {
        j["report_error"] = e.what();
      }
      out << dump(j, 2) << "\n";
      return 0;
    }
    if (cmd == "release") {
      std::string by = current_user();
      bool keep = false;
      for (std::size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "--keep") keep = true;
        else if (args[i] == "--by" && i + 1 < args.size()) by = args[++i];
        else {
          err << usage;
          return 2;
        }
      }
      if (m->recipients.empty()) {
        err << "emogate: " << id << " has no recipients to release to\n";
        return 1;
      }
      std::int64_t now = now_s();
      int rc = run_sendmail(config.quarantine.sendmail, *m,
                            release_copy(store.message(id), by, id, now), err);
      if (rc != 0) {
        err << "emogate: " << config.quarantine.sendmail << " failed (status " << rc
            << "); " << id << " kept\n";
        return 1;
      }
      if (keep) {
        m->released_by = by;
        m->released_at = now;
        store.update_meta(*m);
      } else if (!store.remove(id)) {
        err << "emogate: released " << id << " to " << escaped_list(m->recipients)
            << " but could not remove its entry from " << store.dir() << "\n";
        return 1;
      }
      out << "released " << id << " to " << escaped_list(m->recipients) << " by "
          << policy::escape_text(by, " ") << "\n";
      return 0;
    }
    if (cmd == "delete" && args.size() == 2) {
      if (!store.remove(id)) {
        err << "emogate: could not delete " << id << "\n";
        return 1;
      }
      out << "deleted " << id << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    err << "emogate: quarantine " << cmd << ": " << e.what() << "\n";
    return 1;
  }
  err << usage;
  return 2;
}

}  // namespace emogate
