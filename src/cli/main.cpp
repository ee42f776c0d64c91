// emogate command line: scan, check, milter, quarantine, update-intel,
// account, incident, web, web-user (and config-keys, the loader's key table for the man
// page generator). Dispatches to the subcommands and implements scan and
// check here; the milter daemon is src/milter, the quarantine command
// quarantine.cpp, update-intel update_intel.cpp, account and incident
// outbound_admin.cpp, web and web-user web.cpp (the server: src/web).
// Exit status of scan: 0 clean, 1 flagged, 2 error.
// Trusted input: the command line and the configuration.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/text.h"
#include "emogate/config.h"
#include "emogate/scanner.h"
#include "services/yara_rules.h"
#include "cli/check.h"
#include "cli/outbound_admin.h"
#include "cli/ppap_scan.h"
#include "cli/quarantine.h"
#include "cli/report_text.h"
#include "cli/update_intel.h"
#include "cli/web.h"
#include "milter/milter.h"
#include "worker/spool.h"
#include "worker/worker_pool.h"

namespace fs = std::filesystem;
using namespace emogate;

namespace {

const char* kDefaultConfig = "/etc/emogate/emogate.toml";

void usage(std::ostream& out) {
  out << "usage: emogate <command> [options]\n"
         "  scan [--json] [--config FILE] [--message|--file] [--ppap-window 30m] PATH...\n"
         "                      scan .eml messages (or any file as one attachment);\n"
         "                      --ppap-window: correlate password mails with earlier\n"
         "                      encrypted archives, in the order given;\n"
         "                      '-' reads a message from standard input;\n"
         "                      exit 0 clean, 1 flagged, 2 error\n"
         "  check [--config FILE]   validate the config, rules and lists\n"
         "  milter [--config FILE] [--foreground] [--socket SPEC] [--user NAME] [--group NAME]\n"
         "                      run the milter daemon (the flags override [milter])\n"
         "  quarantine [--config FILE] list|show ID|release ID|delete ID\n"
         "  account [--config FILE] list|unfreeze USER [--by NAME]\n"
         "                      accounts frozen for sending malware; let one send again\n"
         "  incident [--config FILE] report [--since T] [--account A] [--json] [--lang en|ja]\n"
         "                      outbound incidents: per account time line, messages,\n"
         "                      recipients, still sending; mail in our name we did not send\n"
         "  web [--config FILE]  the help desk's web view ([web]): quarantine, PPAP holds,\n"
         "                      incidents, status; runs in the foreground until SIGTERM\n"
         "  web-user [--config FILE] add|passwd|delete NAME\n"
         "                      local accounts of the web view ([web] users_file); the\n"
         "                      password is asked on the terminal or read from stdin\n"
         "  update-intel [--config FILE] [--no-reload]\n"
         "                      download the [intel] lists and run [rules] update_command,\n"
         "                      keep the current ones unless the new ones pass the checks,\n"
         "                      then SIGHUP the daemon ([milter] pid_file); exit 0 ok, 1 kept/failed\n"
         "  version\n";
}

// Maps a file read-only; falls back to reading for pipes and empty files.
class InputFile {
 public:
  bool open(const std::string& path, std::string& err) {
    if (path == "-") {
      data_.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      view_ = data_;
      return true;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err = std::strerror(errno);
      return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      err = "not a regular file";
      ::close(fd);
      return false;
    }
    if (st.st_size > 0) {
      void* m = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (m == MAP_FAILED) {
        err = std::strerror(errno);
        ::close(fd);
        return false;
      }
      map_ = m;
      map_len_ = static_cast<size_t>(st.st_size);
      view_ = std::string_view(static_cast<const char*>(m), map_len_);
    }
    ::close(fd);
    return true;
  }
  ~InputFile() {
    if (map_) munmap(map_, map_len_);
  }
  std::string_view view() const { return view_; }

 private:
  std::string data_;
  void* map_ = nullptr;
  size_t map_len_ = 0;
  std::string_view view_;
};

bool is_message_name(const std::string& path) {
  const std::string ext = ascii_lower(fs::path(path).extension().string());
  return path == "-" || ext == ".eml" || ext == ".mbx" || ext == ".mail";
}

Config load_or_default(const std::string& path, bool explicit_path) {
  if (!explicit_path && !fs::exists(path)) return Config{};
  return load_config(path);
}

int cmd_scan(std::vector<std::string> args) {
  bool json = false;
  int force = 0;  // 1 message, 2 file
  std::string config_path = kDefaultConfig;
  bool explicit_config = false;
  std::vector<std::string> paths;
  std::optional<std::uint64_t> ppap_window;  // offline PPAP correlation (cli/ppap_scan.h)
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") json = true;
    else if (a == "--message") force = 1;
    else if (a == "--file") force = 2;
    else if (a == "--config" && i + 1 < args.size()) config_path = args[++i], explicit_config = true;
    else if (a.starts_with("--config=")) config_path = a.substr(9), explicit_config = true;
    else if ((a == "--ppap-window" && i + 1 < args.size()) || a.starts_with("--ppap-window=")) {
      const std::string v = a == "--ppap-window" ? args[++i] : a.substr(14);
      ppap_window = parse_duration_s(v);
      if (!ppap_window || *ppap_window == 0 || *ppap_window > 7 * 86400) {
        std::cerr << "emogate scan: --ppap-window wants a duration like 30m (up to 7d), got '" << v << "'\n";
        return 2;
      }
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::cerr << "emogate scan: unknown option " << a << '\n';
      return 2;
    } else paths.push_back(a);
  }
  if (paths.empty()) {
    usage(std::cerr);
    return 2;
  }
  std::unique_ptr<Scanner> scanner;
  // [limits] isolation = "process": each input is scanned in a sandboxed
  // worker process, so one poisonous file costs that file an error line.
  std::unique_ptr<WorkerPool> pool;
  try {
    Config loaded = load_or_default(config_path, explicit_config);
    if (ppap_window) {
      loaded.ppap.enabled = true;
      loaded.ppap.window_s = static_cast<std::uint32_t>(*ppap_window);
    }
    scanner = std::make_unique<Scanner>(std::move(loaded));
    const Config& cfg = scanner->config();
    if (cfg.limits.isolation == "process") {
      pool = std::make_unique<WorkerPool>(*scanner, worker_pool_settings(cfg, 1), [](const WorkerEvent& ev) {
        if (ev.died) std::cerr << "emogate: scan worker " << ev.pid << " " << ev.how << " (" << ev.cause << ")\n";
      });
      pool->start();
    }
  } catch (const std::exception& e) {
    std::cerr << "emogate: " << e.what() << '\n';
    return 2;
  }
  for (const std::string& w : scanner->warnings()) std::cerr << "emogate: warning: " << w << '\n';
  auto error_line = [&](const std::string& path, const std::string& err, const WorkerPool::Outcome* o) {
    if (json) {
      nlohmann::json j{{"input", path}, {"error", err}};
      if (o) j["failure"] = o->failure == WorkerPool::Failure::load ? "load" : "content", j["failure_cause"] = o->cause;
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      std::cout << path << ": ERROR " << err << '\n';
    }
  };

  // Directories are walked; each regular file below is one input.
  std::vector<std::string> inputs;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (p != "-" && fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec)) found.push_back(it->path().string());
      std::sort(found.begin(), found.end());
      inputs.insert(inputs.end(), found.begin(), found.end());
    } else {
      inputs.push_back(p);
    }
  }

  // One input scanned (in a worker, or here); none after an error line.
  auto scan_one = [&](const std::string& path, const ScanOptions& opts) -> std::optional<Report> {
    const bool message = force == 1 || (force == 0 && is_message_name(path));
    if (pool) {
      // The file's own descriptor (or stdin copied to a sealed memfd) goes
      // to the worker; nothing is read into this process.
      std::optional<MessageSpool> spool;
      int fd = -1;
      std::uint64_t bytes = 0;
      std::string err;
      if (path == "-") {
        spool.emplace(std::uint64_t{1} << 40);
        char chunk[65536];
        while (std::cin.read(chunk, sizeof chunk) || std::cin.gcount() > 0)
          if (!spool->write(std::string_view(chunk, static_cast<std::size_t>(std::cin.gcount())))) break;
        fd = spool->seal();
        if (fd < 0) err = spool->error();
        bytes = spool->size();
      } else {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0) err = std::strerror(errno);
        else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) err = "not a regular file", ::close(fd), fd = -1;
        else bytes = static_cast<std::uint64_t>(st.st_size);
      }
      if (fd < 0) {
        error_line(path, err, nullptr);
        return std::nullopt;
      }
      wire::Request req;
      req.message = message;
      req.name = path;
      req.opts = opts;
      const auto& lim = scanner->config().limits;
      auto o = pool->scan(req, fd, bytes, WorkerPool::Clock::now() + std::chrono::milliseconds(lim.scan_timeout_ms));
      if (path != "-") ::close(fd);
      if (o.failure != WorkerPool::Failure::none && !o.have_report) {
        error_line(path,
                   o.failure == WorkerPool::Failure::load
                       ? "load failure (" + o.cause + "): " + o.error
                       : "content failure (" + o.cause + "): the scan worker " + o.error + ", twice",
                   &o);
        std::cout.flush();
        return std::nullopt;
      }
      Report r = std::move(o.report);
      r.input = path;
      return r;
    }
    InputFile in;
    std::string err;
    if (!in.open(path, err)) {
      if (json) std::cout << nlohmann::json{{"input", path}, {"error", err}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      else std::cout << path << ": ERROR " << err << '\n';
      return std::nullopt;
    }
    Report r = message ? scanner->scan_message(in.view(), {}, opts) : scanner->scan_file(in.view(), path, opts);
    r.input = path;
    return r;
  };

  if (ppap_window) return ppap_correlate(inputs, scanner->config(), json, scan_one, std::cout);
  int status = 0;
  for (const std::string& path : inputs) {
    std::optional<Report> r = scan_one(path, {});
    if (!r) {
      status = 2;
      continue;
    }
    if (json) std::cout << to_json(*r) << '\n';
    else print_report_text(*r, std::cout);
    std::cout.flush();
    if (r->flagged() && status == 0) status = 1;
  }
  return status;
}

int cmd_check(std::vector<std::string> args) {
  std::string config_path = kDefaultConfig;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) config_path = args[++i];
    else if (args[i].starts_with("--config=")) config_path = args[i].substr(9);
    else {
      std::cerr << "emogate check: unknown argument " << args[i] << '\n';
      return 2;
    }
  }
  // Every problem the daemon would stop at (or work badly with) is an
  // error; YARA compiler warnings are printed and fail only a strict set.
  if (std::size_t problems = check_config_problems(config_path, std::cerr, &std::cout)) {
    std::cerr << "emogate check: " << config_path << ": " << problems << " problem(s)\n";
    return 1;
  }
  std::cout << "emogate check: " << config_path << ": OK\n";
  return 0;
}

// ---- milter, quarantine, update-intel (src/milter, quarantine.cpp, update_intel.cpp) ----
// Both take [--config FILE] anywhere before their own arguments.
int cmd_milter_or_quarantine(const std::string& cmd, std::vector<std::string> args) {
  std::string config_path = kDefaultConfig;
  bool foreground = false;
  std::vector<std::string> rest;
  std::vector<std::pair<std::string, std::string>> overrides;  // for trying it out
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) config_path = args[++i];
    else if (args[i].starts_with("--config=")) config_path = args[i].substr(9);
    else if (cmd == "milter" && args[i] == "--foreground") foreground = true;
    else if (cmd == "milter" && (args[i] == "--socket" || args[i] == "--user" || args[i] == "--group") &&
             i + 1 < args.size())
      overrides.emplace_back(args[i], args[i + 1]), ++i;
    else rest.push_back(args[i]);
  }
  if (cmd == "milter" && !rest.empty()) {
    std::cerr << "emogate milter: unknown argument " << rest[0] << '\n';
    return 2;
  }
  Config cfg;
  try {
    cfg = load_config(config_path);
  } catch (const std::exception& e) {
    std::cerr << "emogate: " << e.what() << '\n';
    return 2;
  }
  for (const auto& [flag, value] : overrides) {
    if (flag == "--socket") cfg.milter.socket = value;
    else if (flag == "--user") cfg.milter.user = value;
    else cfg.milter.group = value;
  }
  if (cmd == "milter") return run_milter(cfg, config_path, foreground);
  if (cmd == "update-intel") return update_intel_main(cfg, config_path, rest, std::cout, std::cerr);
  if (cmd == "account") return account_main(cfg, rest, std::cout, std::cerr, std::time(nullptr));
  if (cmd == "incident") return incident_main(cfg, rest, std::cout, std::cerr, std::time(nullptr));
  if (cmd == "web") return web_main(cfg, rest, std::cout, std::cerr);
  if (cmd == "web-user") return web_user_main(cfg, rest, std::cin, std::cout, std::cerr);
  return quarantine_main(cfg, rest, std::cout, std::cerr);
}
// ---- end milter + quarantine ----

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "scan") return cmd_scan(args);
  if (cmd == "check") return cmd_check(args);
  if (cmd == "milter" || cmd == "quarantine" || cmd == "update-intel" || cmd == "account" || cmd == "incident" ||
      cmd == "web" || cmd == "web-user")
    return cmd_milter_or_quarantine(cmd, args);
  if (cmd == "config-keys") {
    // Not in the usage text: for the emogate.toml(5) generator. One line a
    // key: section.key, type, default (TOML), accepted range, tab-separated.
    for (const ConfigKey& k : describe_config())
      std::cout << k.key << '\t' << k.type << '\t' << k.default_value << '\t' << k.range << '\n';
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    std::cout << "emogate " << EMOGATE_VERSION << '\n';
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    usage(std::cout);
    return 0;
  }
  std::cerr << "emogate: unknown command '" << cmd << "'\n";
  usage(std::cerr);
  return 2;
}
