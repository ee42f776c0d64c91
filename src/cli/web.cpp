// `emogate web` and `emogate web-user`: start the help desk's web view
// (refusing a configuration it must not run with), and keep its local
// accounts.
// Trusted input: the command line and the configuration; the password from
// the administrator's terminal or standard input is only hashed.
#include "cli/web.h"

#include <sys/stat.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <string>

#include "milter/log.h"
#include "milter/policy.h"
#include "milter/privileges.h"
#include "quarantine/store.h"
#include "state/store.h"
#include "web/app.h"
#include "web/html.h"
#include "web/server.h"

namespace emogate {
namespace {

// One line from the terminal without echo, prompted on stderr; none when
// stdin is not a terminal or the line cannot be read.
bool read_hidden(const char* prompt, std::string& out) {
  termios old{};
  if (::tcgetattr(STDIN_FILENO, &old) != 0) return false;
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  std::cerr << prompt << std::flush;
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  const bool ok = static_cast<bool>(std::getline(std::cin, out));
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::cerr << '\n';
  return ok;
}

}  // namespace

int web_main(const Config& config, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (!args.empty()) {
    err << "emogate web: unknown argument " << args[0] << '\n';
    return 2;
  }
  if (const auto problems = web::web_problems(config); !problems.empty()) {
    for (const ConfigError& e : problems) err << "emogate web: " << e.what() << '\n';
    return 2;
  }
  // The pages' zone, read before the privileges go and any page is made.
  web::use_time_zone(config.web.time_zone);
  const int fac = syslog_facility(config.log.facility);
  ::openlog("emogate", LOG_PID | LOG_NDELAY, fac < 0 ? LOG_MAIL : fac);
  try {
    // As root: the ids, the accounts, the TLS key and the port; then drop.
    const Ids ids = resolve_ids(config.milter);
    QuarantineStore quarantine(config.quarantine.dir);
    web::Services services;
    services.config = &config;
    services.quarantine = &quarantine;
    services.now = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
    web::App app(services, web::page_routes());
    if (std::string why = app.load_users(); !why.empty()) {
      err << "emogate web: [web] users_file: " << why << '\n';
      return 2;
    }
    web::Server server(config.web, app);
    drop_privileges(ids);
    // After the drop, as the CLI does it: the store's files are the
    // daemon user's.
    std::unique_ptr<state::StateStore> state;
    auto opened = state::open_state_store(config.state);
    if (opened.ok()) {
      state = std::move(*opened);
      services.state = state.get();
    } else {
      services.state_error = opened.status().message();
      err << "emogate web: [state]: " << services.state_error << " (the pages that need it say so)\n";
    }
    // The quarantine list's index, before the first request: with a large
    // quarantine, reading every entry once takes seconds.
    web::warm_pages(services);
    if (config.log.to_stderr) web::set_action_sink([](const std::string& line) { std::cerr << line << '\n'; });
    const std::string where = (config.web.certificate.empty() ? "http://" : "https://") + config.web.listen;
    out << "emogate web: serving " << where << " (port " << server.port() << ")" << std::endl;
    ::syslog(LOG_MAIL | LOG_INFO, "web: serving %s", policy::escape_text(where).c_str());
    server.run(true);
    ::syslog(LOG_MAIL | LOG_INFO, "web: stopped");
    return 0;
  } catch (const std::exception& e) {
    err << "emogate web: " << e.what() << '\n';
    return 1;
  }
}

int web_user_main(const Config& config, const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                  std::ostream& err) {
  if (args.size() != 2 || (args[0] != "add" && args[0] != "passwd" && args[0] != "delete")) {
    err << "usage: emogate web-user [--config FILE] add|passwd|delete NAME\n";
    return 2;
  }
  const std::string& path = config.web.users_file;
  if (path.empty()) {
    err << "emogate web-user: set [web] users_file in " << (config.source.empty() ? "the config" : config.source)
        << " first\n";
    return 2;
  }
  const std::string& name = args[1];
  if (!web::valid_user_name(name)) {
    err << "emogate web-user: user names are 1 to 64 letters, digits, . _ @ + -\n";
    return 2;
  }
  if (args[0] == "delete") {
    if (std::string why = web::remove_user(path, name); !why.empty()) {
      err << "emogate web-user: " << why << '\n';
      return 1;
    }
    out << "deleted " << name << " from " << path << '\n';
    return 0;
  }
  std::string error;
  if (args[0] == "passwd") {
    auto users = web::Users::load(path, error);
    if (!users || !users->contains(name)) {
      err << "emogate web-user: " << (users ? "no user '" + name + "' in " + path : error) << '\n';
      return 1;
    }
  }
  std::string password, again;
  if (&in == &std::cin && ::isatty(STDIN_FILENO)) {
    if (!read_hidden("Password: ", password) || !read_hidden("Again: ", again)) return 1;
    if (password != again) {
      err << "emogate web-user: the passwords differ\n";
      return 1;
    }
  } else if (!std::getline(in, password)) {
    err << "emogate web-user: no password on standard input\n";
    return 1;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  if (std::string why = web::set_user(path, name, password); !why.empty()) {
    err << "emogate web-user: " << why << '\n';
    return 1;
  }
  // Created by root: the web view reads it again after dropping to the
  // [milter] user (when an account changes), so that user owns it.
  if (!existed && ::geteuid() == 0) {
    try {
      const Ids ids = resolve_ids(config.milter);
      if (ids.drop && ::chown(path.c_str(), ids.uid, ids.gid) != 0)
        err << "emogate web-user: warning: cannot chown " << path << " to " << config.milter.user << '\n';
    } catch (const std::exception& e) {
      err << "emogate web-user: warning: " << e.what() << '\n';
    }
  }
  out << (args[0] == "add" ? "set " : "changed ") << name << " in " << path << '\n';
  return 0;
}

}  // namespace emogate
