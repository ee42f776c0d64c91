// Postfix's side of the milter, as `emogate check` reads it: main.cf and
// master.cf (the files postconf(1) reads, with the same logical lines,
// comments, `$name` expansion and per-service `-o` overrides), and what in
// them keeps mail from reaching emogate or lets it through unscanned while
// emogate is down or late: an smtpd service whose smtpd_milters does not
// name emogate's socket (or names it outside smtpd's chroot),
// milter_default_action = accept, a milter_content_timeout shorter than
// what one message can cost emogate, and emogate in non_smtpd_milters
// (released mail would be scanned and held again).
// Only text is read; no Postfix command runs and nothing is resolved
// through DNS. Parameters main.cf does not set take Postfix 3.7's defaults.
// Trusted input: admin files. Every read is bounded (mta::kMaxFileBytes,
// the expansion depth and size), as `check` must survive any file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/mta_check.h"

namespace emogate::postfix {

inline constexpr int kMaxExpansionDepth = 16;           // $a naming $b naming ...
inline constexpr std::size_t kMaxValueBytes = 16u << 10;      // an expanded value
inline constexpr std::size_t kMaxExpansions = 1024;           // $name lookups for one value
inline constexpr std::size_t kMaxExpansionBytes = 256u << 10;  // characters written for one value, all levels
inline constexpr std::size_t kMaxSmtpdServices = 256;         // master.cf smtpd services checked

struct Setting {
  std::string value;
  std::size_t line = 0;  // where its logical line starts (1-based)
};

// main.cf: name -> its last definition.
using MainCf = std::map<std::string, Setting, std::less<>>;
MainCf parse_main_cf(std::string_view text);

struct Service {
  std::string name, type, command;  // e.g. "smtp", "inet", "smtpd"
  char chroot = '-';                // 'y', 'n' or '-' (Postfix >= 3.0: no)
  std::size_t line = 0;
  std::map<std::string, std::string, std::less<>> overrides;  // -o name=value
};
std::vector<Service> parse_master_cf(std::string_view text);

// A value with `$name`, `${name}` and `$(name)` replaced from `params`
// (then from Postfix's defaults; unknown names expand to nothing).
std::string expand(std::string_view value, const MainCf& params);

// One entry of a milter list: its address and its own settings from the
// `{ address, name = value, ... }` form.
struct MilterEntry {
  std::string address;
  std::map<std::string, std::string, std::less<>> settings;
};
std::vector<MilterEntry> parse_milter_list(std::string_view value);

// Postfix's time values (`300s`, `5m`, a bare number of seconds).
std::optional<std::uint64_t> parse_seconds(std::string_view value);

// Whether Postfix's milter address reaches emogate's [milter] socket, for
// a service chrooted (or not) in queue_directory.
bool same_endpoint(std::string_view emogate_socket, std::string_view postfix_address, bool chrooted,
                   std::string_view queue_directory);


// Reads `<dir>/main.cf` and `<dir>/master.cf`. Report::candidates counts
// the smtpd services that take milters.
mta::Report check(const std::string& dir, const mta::Milter& ours);
// The same on the files' texts (tests, fuzzing).
mta::Report check_texts(std::string_view main_cf, std::string_view master_cf, const std::string& dir,
                        const mta::Milter& ours);

}  // namespace emogate::postfix
