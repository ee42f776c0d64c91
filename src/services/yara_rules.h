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

// Context handed to rules as external variables (the table in
// rules/README.md says what each one holds for which object). The LOKI
// names carry the values LOKI gives them; emogate's own names keep theirs.
struct YaraVars {
  std::string filename;     // LOKI: base name of the object's declared name
  std::string extension;    // LOKI: lower-case, with the dot (".exe"); "" without one
  std::string path;         // path inside the message
  std::int64_t depth = 0;
  std::string type;         // emogate's true type tag
  std::string mime;         // MIME type
  std::string parent_type;  // empty for the root
  bool from_encrypted = false;
  bool truncated = false;  // content cut short by a limit
  std::string filepath;    // LOKI: folder part of the declared name ("" for none)
  std::string filetype;    // LOKI: magic table name ("EXE", "OLE", "UNKNOWN")
  // LOKI's `owner` (the file's owner account) is always "": nothing in a
  // message owns its attachments.

  // External `i` of kYaraExternals as text (a cache key part).
  std::string value(std::size_t i) const;
};

// Every external a rule may name, in one fixed order.
inline constexpr std::string_view kYaraExternals[] = {
    "filename", "filepath", "extension", "filetype",       "owner",    "path",
    "type",     "mime",     "depth",     "parent_type", "from_encrypted", "truncated"};

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

// Every rule file under `paths`, as compile() finds them (folders walked
// recursively for *.yar / *.yara, sorted; files named explicitly taken as
// they are). Paths that do not exist or cannot be listed go to `problems`
// as "path:0: why".
std::vector<std::string> collect_rule_files(const std::vector<std::string>& paths,
                                            std::vector<std::string>& problems);

// A rule file to compile: read from `path`, or, when `text` is set, that
// text under the path's name (a file with some of its rules blanked out).
struct RuleSource {
  std::string path;
  std::shared_ptr<const std::string> text;
};

class YaraRuleSet {
 public:
  // Compiles every *.yar / *.yara file under settings.paths (folders are
  // walked recursively, in sorted order). Throws std::runtime_error when
  // strict and anything fails or warns, or when libyara cannot initialise.
  // Non-fatal problems go to `warnings` as "file:line: message".
  // A non-empty `one_namespace` puts every file into that one namespace
  // (rules of one file may then use private rules of another).
  static std::shared_ptr<const YaraRuleSet> compile(const RuleSettings& settings,
                                                    std::vector<std::string>& warnings,
                                                    const std::string& one_namespace = {});
  // The same for files already collected (`problems`: what collecting
  // them found, "path:0: why").
  static std::shared_ptr<const YaraRuleSet> compile_sources(std::vector<RuleSource> files,
                                                            std::vector<std::string> problems, bool strict,
                                                            std::vector<std::string>& warnings,
                                                            const std::string& one_namespace = {});
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
