// See check.h.
// Trusted input: the configuration.
#include "cli/check.h"

#include <exception>
#include <ostream>

#include "emogate/config.h"
#include "emogate/scanner.h"
#include "services/yara_rules.h"

namespace emogate {

std::size_t check_config_problems(const std::string& config_path, std::ostream& err) {
  try {
    Config cfg = load_config(config_path);
    std::size_t problems = 0;
    for (const ConfigError& e : check_environment(cfg)) {
      err << e.what() << '\n';
      ++problems;
    }
    Scanner scanner(cfg);
    for (const std::string& w : scanner.warnings()) {
      err << w << '\n';
      if (!w.starts_with(kYaraWarningPrefix)) ++problems;
    }
    return problems;
  } catch (const std::exception& e) {
    err << e.what() << '\n';
    return 1;
  }
}

}  // namespace emogate
