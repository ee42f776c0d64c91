// YaraRuleSet: the YARA rules from the configured paths, compiled once and
// shared read-only by every worker thread. Each rule file gets its own
// namespace (its path), so one file's global rules only gate its own rules.
// A file that does not compile is skipped with a file:line:message warning
// (or fails the whole set when [rules] strict = true).
//
// Trusted input: the rule files are admin-supplied, but third-party sets are often
// broken, so every compiler error is caught and reported. Scanned bytes are
// hostile; libyara bounds its own work and we add a per-object timeout.
//
// yara.h is deliberately not included here: it defines function-like macros
// with common names (get_string, ...) that break other headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emogate/config.h"

namespace emogate {

// Context handed to rules as external variables.
struct YaraVars {
  std::string filename;     // declared name of the object
  std::string extension;    // lower-case, without dot
  std::string path;         // path inside the message
  std::int64_t depth = 0;
  std::string type;         // emogate's true type tag
  std::string mime;         // libmagic MIME type
  std::string parent_type;  // empty for the root
  bool from_encrypted = false;
  bool truncated = false;  // content cut short by a limit
};

struct YaraMatch {
  std::string rule;
  std::string ns;  // the rule file's path
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, std::string>> meta;  // values as text

  // The meta value for `key`, or empty.
  std::string meta_value(std::string_view key) const;
};

struct YaraScanResult {
  std::vector<YaraMatch> matches;  // matches found before any error
  bool timed_out = false;
  std::string error;  // empty on success
};

// Prefix of a compiler warning (a slow string, ...) in the warnings list:
// the rule set works, so `emogate check` prints it without failing, unless
// [rules] strict makes every warning fatal.
inline constexpr std::string_view kYaraWarningPrefix = "yara: warning: ";

class YaraRuleSet {
 public:
  // Compiles every *.yar / *.yara file under settings.paths (folders are
  // walked recursively, in sorted order). Throws std::runtime_error when
  // strict and anything fails or warns, or when libyara cannot initialise.
  // Non-fatal problems go to `warnings` as "file:line: message".
  static std::shared_ptr<const YaraRuleSet> compile(const RuleSettings& settings,
                                                    std::vector<std::string>& warnings);
  ~YaraRuleSet();
  YaraRuleSet(const YaraRuleSet&) = delete;
  YaraRuleSet& operator=(const YaraRuleSet&) = delete;

  // Scans `data` in place (no copy: large objects are memory-mapped views).
  // timeout_ms 0 means no timeout. Thread-safe.
  YaraScanResult scan(std::string_view data, const YaraVars& vars, std::uint32_t timeout_ms) const;

  std::size_t rule_count() const;
  const std::vector<std::string>& files() const;  // files compiled in

 private:
  struct Impl;
  explicit YaraRuleSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace emogate
