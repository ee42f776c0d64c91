// `emogate check`'s test, shared with `emogate update-intel` (which runs it
// after a rules update command): load the config, the rules and the lists
// exactly as the daemon would and check the machine for what it needs.
// Trusted input: the configuration.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

namespace emogate {

// Prints one line per problem to err and returns how many there were; a
// config that does not load at all is one problem. YARA compiler warnings
// are printed and count only when [rules] strict is set (the loader then
// fails on them by itself). With `out`, also prints per rule set what
// loaded, what was skipped and why, and how long it took.
std::size_t check_config_problems(const std::string& config_path, std::ostream& err,
                                  std::ostream* out = nullptr);

}  // namespace emogate
