// YaraRules: every configured rule set ("default" from [rules] paths, then
// each [[rules.set]]), compiled once per configuration and shared read-only
// by every scan, each with what `emogate check` prints about its load and
// its verdict cache and counters.
//
// A set is compiled in a few groups by its rules' gates (yara_gates.h): the
// rules that need an "MZ" header, and the others by the object size they are
// bounded to (under 1 MiB, under 8 MiB, any). An object is scanned by every
// group whose rules could match it, each once; a rule a group leaves out
// could not have matched the object. A file whose rules fall into several
// groups is compiled into each with the other groups' rules blanked out
// (its private and global rules kept in each); a file that cannot be read
// that way goes whole into the last group. A small set stays one group. Its verdict cache keeps two kinds of
// entries per object: the matches of the files whose text names no external
// variable (their result depends on the bytes alone; keyed by the SHA-256),
// and the matches of the files that name some (keyed by the SHA-256 plus the
// values of those externals). A set with both kinds also compiles the
// second kind on its own, so that the same bytes under another name are
// scanned only by the rules that read the name: a signature-base-sized set,
// of which a few files read `filename`, still scans a campaign's attachment
// once with all its rules whatever it is called. A set compiled in one
// namespace (its files may use each other's private rules) counts as all
// naming externals.
// Trusted input: the configuration and the rule files (see yara_rules.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "emogate/config.h"
#include "services/verdict_cache.h"
#include "services/yara_rules.h"

namespace emogate {

struct RuleGroup {
  std::shared_ptr<const YaraRuleSet> rules;
  std::uint64_t below = UINT64_MAX;  // its rules match only objects smaller than this
  bool mz = false;                   // ... and (when set) starting with "MZ"

  bool applies(std::string_view bytes) const {
    return bytes.size() < below && (!mz || bytes.starts_with("MZ"));
  }
};

struct LoadedRuleSet {
  RuleSetSettings settings;
  // Every file of the set that compiled, in groups with rules; empty when
  // the set has none.
  std::vector<RuleGroup> groups;
  // Only the files that name externals, compiled again on their own; null
  // unless the set also has files that name none.
  std::shared_ptr<const YaraRuleSet> named;
  // The rule files (namespaces) that name externals, and which externals
  // (bit i: kYaraExternals[i]) any of them names: the named entries' keys
  // carry the values of exactly these.
  std::unordered_set<std::string> named_files;
  std::uint32_t externals = 0;
  bool all_named = false;  // every file names some (or one namespace)
  mutable VerdictCache cache;
  mutable std::atomic<std::uint64_t> scans{0};  // YARA passes run (cache hits excluded)
  std::size_t files = 0;
  std::size_t rules_count = 0;
  std::vector<std::string> skipped;   // "file:line: message" of files left out
  std::vector<std::string> warnings;  // compiler warnings, "file:line: message"
  double compile_ms = 0;

  explicit LoadedRuleSet(std::uint64_t cache_bytes) : cache(cache_bytes) {}
  // Whether a match of this set came from a file that names externals.
  bool is_named(const YaraMatch& m) const { return all_named || named_files.count(m.ns) > 0; }
};

class YaraRules {
 public:
  // Throws std::runtime_error when a strict set fails (see YaraRuleSet).
  static std::shared_ptr<const YaraRules> load(const RuleSettings& settings, std::vector<std::string>& warnings);
  const std::vector<std::unique_ptr<LoadedRuleSet>>& sets() const { return sets_; }

 private:
  std::vector<std::unique_ptr<LoadedRuleSet>> sets_;
};

// Which of kYaraExternals the YARA source `text` names (bit i: entry i),
// as whole words anywhere in it. An `include` directive counts as naming
// all of them (the included text is not read here).
std::uint32_t externals_named(std::string_view text);

}  // namespace emogate
