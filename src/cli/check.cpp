// See check.h.
// Trusted input: the configuration.
#include "cli/check.h"

#include <exception>
#include <ostream>

#include "config/mta.h"
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
      // Postfix's or Sendmail's files: warnings only (config/mta.h).
      for (const MtaLine& l : check_mta_files(cfg)) *out << (l.warning ? "  warning: " : "") << l.text << '\n';
    }
    return problems;
  } catch (const std::exception& e) {
    err << e.what() << '\n';
    return 1;
  }
}

}  // namespace emogate
