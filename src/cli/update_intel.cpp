// `emogate update-intel`; see update_intel.h. Downloads go through libcurl
// (http and https only, size and time capped by named [intel] settings) into
// a 0600 temp file in the list's own directory, so the final rename is
// atomic; the file becomes 0644 (the daemon's user reads it) just before.
// Trusted input: the configuration; the downloads are untrusted bytes.
#include "cli/update_intel.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <thread>

#include "cli/check.h"
#include "common/text.h"
#include "services/url_intel.h"

namespace fs = std::filesystem;

namespace emogate {

ListCount count_list(IntelList list, std::string_view text) {
  UrlIntel parsed;
  ListCount c;
  if (list == IntelList::urlhaus) {
    c.bad = parsed.add_urlhaus(text);
    c.entries = parsed.url_count();
  } else {
    c.bad = parsed.add_feodo(text);
    c.entries = parsed.ip_count();
  }
  return c;
}

ListCheck check_list(IntelList list, std::string_view fresh, std::optional<std::string_view> current,
                     const IntelSettings& s) {
  ListCheck r;
  r.fresh = count_list(list, fresh);
  if (current) r.current = count_list(list, *current);
  if (r.fresh.entries < s.min_entries) {
    r.why = std::to_string(r.fresh.entries) + " entries (" + std::to_string(r.fresh.bad) +
            " unparsable lines), fewer than [intel] min_entries " + std::to_string(s.min_entries);
  } else if (r.current && static_cast<double>(r.fresh.entries) < s.min_ratio * static_cast<double>(r.current->entries)) {
    r.why = std::to_string(r.fresh.entries) + " entries, fewer than [intel] min_ratio " + std::to_string(s.min_ratio) +
            " times the current list's " + std::to_string(r.current->entries) + " (a truncated download?)";
  }
  return r;
}

namespace {

const char* list_name(IntelList l) { return l == IntelList::urlhaus ? "urlhaus" : "feodo"; }

enum class Outcome { skipped, unchanged, replaced, failed };

// ---------------------------------------------------------------- download

struct Sink {
  int fd;
  std::uint64_t written = 0, cap;
  bool too_big = false, write_failed = false;
};

size_t write_to_fd(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  const size_t len = size * n;
  if (s->written + len > s->cap) {
    s->too_big = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  for (size_t done = 0; done < len;) {
    ssize_t w = ::write(s->fd, data + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      s->write_failed = true;
      return 0;
    }
    done += static_cast<size_t>(w);
  }
  s->written += len;
  return len;
}

// Fetches url into fd. Returns "" or what went wrong.
std::string download(const std::string& url, int fd, const IntelSettings& s) {
  CURL* c = curl_easy_init();
  if (!c) return "libcurl could not start";
  Sink sink{fd, 0, s.max_download_size};
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string agent = std::string("emogate/") + EMOGATE_VERSION + " update-intel";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);  // an HTTP error page is not a list
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(s.download_timeout_s));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(s.max_download_size));
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip on the wire, the list as stored
  curl_easy_setopt(c, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_to_fd);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED)
    return "larger than [intel] max_download_size " + std::to_string(s.max_download_size);
  if (sink.write_failed) return std::string("cannot write the temp file: ") + std::strerror(errno);
  if (rc != CURLE_OK) return std::string(curl_easy_strerror(rc)) + (errbuf[0] ? std::string(": ") + errbuf : "");
  if (url.rfind("http", 0) == 0 && status != 200) return "HTTP status " + std::to_string(status);
  return {};
}

bool sync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

Outcome update_list(IntelList list, const std::string& url, const std::string& path, const IntelSettings& s,
                    std::ostream& out, std::ostream& err) {
  const char* name = list_name(list);
  if (path.empty() || url.empty()) return Outcome::skipped;
  const fs::path target(path);
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string tmpl = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());  // 0600
  if (fd < 0) {
    err << "emogate update-intel: " << name << ": cannot create a temp file in " << dir.string() << ": "
        << std::strerror(errno) << "; kept " << path << '\n';
    return Outcome::failed;
  }
  const std::string tmp = tmpl;
  auto fail = [&](const std::string& why) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    err << "emogate update-intel: " << name << ": " << why << "; kept " << path << '\n';
    return Outcome::failed;
  };
  if (std::string e = download(url, fd, s); !e.empty()) return fail("download from " + url + " failed: " + e);
  std::string fresh;
  std::optional<std::string> current;
  try {
    fresh = read_intel_file(tmp);
    std::error_code ec;
    if (fs::exists(target, ec)) current = read_intel_file(path);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (current && *current == fresh) {
    ::close(fd);
    ::unlink(tmp.c_str());
    out << "emogate update-intel: " << name << ": " << path << " unchanged\n";
    return Outcome::unchanged;
  }
  ListCheck chk = check_list(list, fresh, current ? std::optional<std::string_view>(*current) : std::nullopt, s);
  if (!chk.ok()) return fail("download from " + url + " refused: " + chk.why);
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) return fail(std::string("cannot finish the temp file: ") + std::strerror(errno));
  ::close(fd);
  fd = -1;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(std::string("cannot rename the temp file: ") + std::strerror(errno));
  sync_dir(dir);
  out << "emogate update-intel: " << name << ": " << path << " replaced: " << chk.fresh.entries << " entries";
  if (chk.current) out << " (was " << chk.current->entries << ")";
  if (chk.fresh.bad) out << ", " << chk.fresh.bad << " unparsable lines skipped";
  out << '\n';
  return Outcome::replaced;
}

// ---------------------------------------------------------------- rules

// What identifies the rule files' state: every file's path, size and mtime.
std::string rules_fingerprint(const std::vector<std::string>& paths) {
  std::string fp;
  for (const std::string& p : paths) {
    std::error_code ec;
    auto add = [&fp](const fs::path& f) {
      struct stat st;
      if (::lstat(f.c_str(), &st) != 0) return;
      fp += f.string() + ' ' + std::to_string(st.st_size) + ' ' + std::to_string(st.st_mtim.tv_sec) + '.' +
            std::to_string(st.st_mtim.tv_nsec) + '\n';
    };
    add(p);
    if (!fs::is_directory(p, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec))
      add(it->path());
  }
  return fp;
}

// A copy of each rule path taken before the update command, in a private
// (0700) temp dir, so read-only paths (the packaged rules) need no write
// access next to them. Only paths the command changed are put back.
struct RulesBackup {
  struct Entry {
    fs::path original, copy;  // copy: holder/<index>; absent when the path did not exist
    bool existed = false;
    std::string fingerprint;
  };
  fs::path holder;
  std::vector<Entry> entries;

  std::string take(const std::vector<std::string>& paths) {
    std::string tmpl = (fs::temp_directory_path() / "emogate-rules-rollback.XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return std::string("cannot create a rollback dir: ") + std::strerror(errno);
    holder = tmpl;
    for (const std::string& p : paths) {
      Entry e;
      e.original = fs::path(p);
      e.copy = holder / std::to_string(entries.size());
      std::error_code ec;
      e.existed = fs::exists(fs::symlink_status(e.original, ec));
      e.fingerprint = rules_fingerprint({p});
      if (e.existed) {
        fs::copy(e.original, e.copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
        if (ec) return "cannot copy " + p + " for rollback: " + ec.message();
      }
      entries.push_back(std::move(e));
    }
    return {};
  }
  // Puts back every path the command changed; returns "" or what could not be restored.
  std::string restore() {
    std::string problems;
    for (const Entry& e : entries) {
      if (rules_fingerprint({e.original.string()}) == e.fingerprint) continue;
      std::error_code ec;
      fs::remove_all(e.original, ec);
      if (!ec && e.existed)
        fs::copy(e.copy, e.original, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
      if (ec) problems += (problems.empty() ? "" : "; ") + e.original.string() + ": " + ec.message();
    }
    return problems;
  }
  ~RulesBackup() {
    std::error_code ec;
    if (!holder.empty()) fs::remove_all(holder, ec);
  }
};

// Runs cmd through /bin/sh in its own process group; kills the group past
// timeout_s. Returns "" on exit status 0, else what happened.
std::string run_command(const std::string& cmd, std::uint32_t timeout_s) {
  pid_t pid = ::fork();
  if (pid < 0) return std::string("fork failed: ") + std::strerror(errno);
  if (pid == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return std::string("waitpid failed: ") + std::strerror(errno);
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return "killed after [rules] update_timeout_s " + std::to_string(timeout_s) + " s";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return "killed by signal " + std::to_string(WTERMSIG(status));
}

Outcome update_rules(const Config& cfg, const std::string& config_path, std::ostream& out, std::ostream& err) {
  const RuleSettings& r = cfg.rules;
  if (r.update_command.empty()) return Outcome::skipped;
  RulesBackup backup;
  auto fail = [&](const std::string& why) {
    std::string lost = backup.restore();
    err << "emogate update-intel: rules: " << why << "; "
        << (lost.empty() ? "restored the rule paths as they were" : "RESTORE FAILED: " + lost) << '\n';
    return Outcome::failed;
  };
  if (std::string e = backup.take(r.paths); !e.empty()) {  // the command has not run: nothing to put back
    err << "emogate update-intel: rules: " << e << "; did not run update_command\n";
    return Outcome::failed;
  }
  const std::string before = rules_fingerprint(r.paths);
  out.flush();
  if (std::string e = run_command(r.update_command, r.update_timeout_s); !e.empty())
    return fail("update_command '" + r.update_command + "' failed: " + e);
  if (rules_fingerprint(r.paths) == before) {
    out << "emogate update-intel: rules: unchanged\n";
    return Outcome::unchanged;
  }
  if (std::size_t n = check_config_problems(config_path, err))
    return fail("the updated rules fail emogate check (" + std::to_string(n) + " problem(s))");
  out << "emogate update-intel: rules: updated and checked\n";
  return Outcome::replaced;
}

// ---------------------------------------------------------------- reload

// SIGHUP to the daemon in [milter] pid_file. Returns "" or why not.
std::string reload_daemon(const MilterSettings& ms) {
  if (ms.pid_file.empty())
    return "[milter] pid_file is not set, so the daemon cannot be found; reload it yourself "
           "(systemctl reload emogate, or SIGHUP)";
  std::ifstream in(ms.pid_file);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return "no pid in " + ms.pid_file + " (is the daemon running?)";
  // The pid must still be an emogate process, not a recycled number.
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string argv0;
  std::getline(cmdline, argv0, '\0');
  if (base_name(argv0, "/").rfind("emogate", 0) != 0)
    return "process " + std::to_string(pid) + " from " + ms.pid_file + " is not emogate (is the daemon running?)";
  if (::kill(static_cast<pid_t>(pid), SIGHUP) != 0)
    return "cannot signal process " + std::to_string(pid) + ": " + std::strerror(errno);
  return {};
}

}  // namespace

int update_intel_main(const Config& cfg, const std::string& config_path, const std::vector<std::string>& args,
                      std::ostream& out, std::ostream& err) {
  bool reload = true;
  for (const std::string& a : args) {
    if (a == "--no-reload") reload = false;
    else {
      err << "emogate update-intel: unknown argument " << a << '\n';
      return 2;
    }
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<Outcome> done = {
      update_list(IntelList::urlhaus, cfg.intel.urlhaus_url, cfg.intel.urlhaus_path, cfg.intel, out, err),
      update_list(IntelList::feodo, cfg.intel.feodo_url, cfg.intel.feodo_path, cfg.intel, out, err),
      update_rules(cfg, config_path, out, err)};
  curl_global_cleanup();
  bool failed = false, changed = false;
  for (Outcome o : done) failed |= o == Outcome::failed, changed |= o == Outcome::replaced;
  if (changed && reload) {
    if (std::string e = reload_daemon(cfg.milter); !e.empty()) {
      err << "emogate update-intel: not reloaded: " << e << '\n';
      failed = true;
    } else {
      out << "emogate update-intel: sent SIGHUP to the daemon (" << cfg.milter.pid_file << ")\n";
    }
  }
  return failed ? 1 : 0;
}

}  // namespace emogate
