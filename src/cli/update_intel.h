// `emogate update-intel`: refreshes the URLhaus and Feodo Tracker lists
// ([intel] *_url -> *_path) and the rule folders ([rules] update_command),
// keeping the current ones whenever the new data does not pass the same
// checks the daemon's loader applies, then reloads the daemon (SIGHUP to
// the pid in [milter] pid_file).
// Trusted input: the configuration and the command line. The downloaded
// bytes are untrusted: they are only parsed (url_intel's parser) and
// written to a private temp file next to the list.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emogate/config.h"

namespace emogate {

enum class IntelList { urlhaus, feodo };

// What the daemon's parser makes of one list's text.
struct ListCount {
  std::size_t entries = 0;  // distinct URLs (URLhaus) or IPs (Feodo)
  std::size_t bad = 0;      // lines skipped as unparsable
};
ListCount count_list(IntelList list, std::string_view text);

// Whether a downloaded list may replace the current one: at least
// [intel] min_entries entries and, when there is a current list, at least
// min_ratio times its entries. `why` says what failed ("" when accepted).
struct ListCheck {
  ListCount fresh;
  std::optional<ListCount> current;
  std::string why;
  bool ok() const { return why.empty(); }
};
ListCheck check_list(IntelList list, std::string_view fresh, std::optional<std::string_view> current,
                     const IntelSettings& settings);

// `emogate update-intel [--no-reload]` with the config already loaded from
// config_path. Exit status: 0 everything configured was refreshed (or is
// unchanged) and the daemon reloaded when something changed; 1 a download,
// a check, the rules command or the reload failed (the current lists and
// rules stay); 2 usage.
int update_intel_main(const Config& config, const std::string& config_path, const std::vector<std::string>& args,
                      std::ostream& out, std::ostream& err);

}  // namespace emogate
