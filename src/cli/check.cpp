// See check.h.
// Trusted input: the configuration.
#include "cli/check.h"

#include <exception>
#include <ostream>

#include "config/postfix.h"
#include "config/sendmail.h"
#include "emogate/config.h"
#include "emogate/scanner.h"
#include "services/yara_rules.h"
#include "state/store.h"
#include "web/server.h"

namespace emogate {

namespace {

// Per rule set: what loaded, what was left out and why, how long it took.
void print_rule_sets(const std::vector<RuleSetInfo>& sets, std::ostream& out) {
  for (const RuleSetInfo& s : sets) {
    out << "rule set \"" << s.name << "\": " << s.files << " file" << (s.files == 1 ? "" : "s") << ", " << s.rules
        << " rule" << (s.rules == 1 ? "" : "s") << ", " << s.skipped.size() << " skipped, " << s.warnings.size()
        << " warning" << (s.warnings.size() == 1 ? "" : "s") << ", compiled in "
        << static_cast<long long>(s.compile_ms + 0.5) << " ms (scope " << s.scope
        << (s.max_action.empty() ? "" : ", max_action " + s.max_action) << ")\n";
    for (const std::string& k : s.skipped) out << "  skipped: " << k << '\n';
    for (const std::string& w : s.warnings) out << "  warning: " << w << '\n';
  }
}

// [milter] postfix_config and sendmail_config: what in the MTA's files
// keeps mail from reaching this milter, or lets it pass unscanned, for the
// `check` command (update-intel's check of new lists skips it). Warnings
// only, also for a file it cannot read: the package reads /etc/postfix,
// which a Sendmail host does not have, and starts the daemon before the
// admin points Postfix at it.
void check_mta(const Config& cfg, std::ostream& out) {
  const MilterSettings& m = cfg.milter;
  // One message at end of data: the wait for a worker (at most
  // scan_timeout_ms), then a scan and its retry, each scan_timeout_ms plus
  // the worker's grace.
  const std::uint64_t worst_ms = 3ull * cfg.limits.scan_timeout_ms + 500;
  const auto print = [&](std::string_view mta, const std::string& key, const std::string& where,
                         std::string_view one, std::string_view many, const mta::Report& r) {
    if (!r.error.empty()) {
      auto line = cfg.lines.find("milter." + key);
      out << mta << ' ' << where << ": not checked\n  warning: "
          << ConfigError(cfg.source, line == cfg.lines.end() ? 0 : line->second, "milter." + key + ": " + r.error)
                 .what()
          << '\n';
      return;
    }
    out << mta << ' ' << where << ": " << r.candidates << ' ' << (r.candidates == 1 ? one : many) << ", "
        << r.reaching << " reaching emogate, " << r.warnings.size() << " warning"
        << (r.warnings.size() == 1 ? "" : "s") << '\n';
    for (const mta::Finding& w : r.warnings)
      out << "  warning: " << w.file << (w.line ? ":" + std::to_string(w.line) : std::string()) << ": " << w.text
          << '\n';
  };
  if (!m.postfix_config.empty())
    print("postfix", "postfix_config", m.postfix_config, "smtpd service with milters",
          "smtpd services with milters",
          postfix::check(m.postfix_config, m.socket, worst_ms));
  if (!m.sendmail_config.empty())
    print("sendmail", "sendmail_config", m.sendmail_config, "mail filter in use", "mail filters in use",
          sendmail::check(m.sendmail_config, m.socket, worst_ms));
}

}  // namespace

std::size_t check_config_problems(const std::string& config_path, std::ostream& err, std::ostream* out) {
  try {
    Config cfg = load_config(config_path);
    std::size_t problems = 0;
    for (const ConfigError& e : check_environment(cfg)) {
      err << e.what() << '\n';
      ++problems;
    }
    // [web], once the file sets the web view up (a listen, a login or TLS
    // away from the defaults): what keeps `emogate web` from starting. The packaged file
    // lists [web] at its defaults, and the milter's unit runs this check.
    const WebSettings& w = cfg.web;
    if (!w.users_file.empty() || !w.proxy_user_header.empty() || !w.trusted_proxies.empty() ||
        !w.certificate.empty() || !w.private_key.empty() || w.listen != WebSettings{}.listen) {
      for (const ConfigError& e : web::web_problems(cfg)) {
        err << e.what() << '\n';
        ++problems;
      }
    }
    // The state store opens (an existing SQLite file read-only; Redis: PING).
    const std::string state_key = cfg.state.backend == "redis" ? "state.redis" : "state.path";
    for (const std::string& why : state::check_state_store(cfg.state)) {
      auto line = cfg.lines.find(state_key);
      err << ConfigError(cfg.source, line == cfg.lines.end() ? 0 : line->second, state_key + ": " + why).what() << '\n';
      ++problems;
    }
    Scanner scanner(cfg);
    for (const std::string& w : scanner.warnings()) {
      err << w << '\n';
      if (!w.starts_with(kYaraWarningPrefix)) ++problems;
    }
    if (out) {
      print_rule_sets(scanner.rule_sets(), *out);
      check_mta(cfg, *out);
    }
    return problems;
  } catch (const std::exception& e) {
    err << e.what() << '\n';
    return 1;
  }
}

}  // namespace emogate
