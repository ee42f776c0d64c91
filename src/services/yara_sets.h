// YaraRules: every configured rule set ("default" from [rules] paths, then
// each [[rules.set]]), compiled once per configuration and shared read-only
// by every scan, each with what `emogate check` prints about its load and
// its verdict cache and counters.
//
// A set is compiled in up to two groups by its rules' gates (yara_gates.h):
// the rules that need an "MZ" header, and the others. An object is scanned
// by every group whose rules could match it, each once; a rule a group
// leaves out could not have matched the object. A file whose rules fall into several
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
//
// One pass for two sets: a "files" (or "loki") set's group for objects of
// any size and type also holds the rules of the "all" set before it (the
// default set, when it is one such group itself and loaded without a
// problem), each file in its own namespace as before; a user file then costs
// one pass for both sets instead of two, and the module hands the other set
// its part of the matches (by namespace). Every other object (and a file a
// "loki" set skips) is scanned by the "all" set alone.
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
  bool mz = false;  // its rules match only objects starting with "MZ"

  // The namespaces of the rules of another set (`YaraRules::merged_base`)
  // compiled into this group too; null when none are.
  std::shared_ptr<const std::unordered_set<std::string>> merged;

  bool applies(std::string_view bytes) const {
    return !mz || bytes.starts_with("MZ");
  }
  // Whether a match of this group's pass is one of the other set's rules.
  bool from_merged(const YaraMatch& m) const { return merged && merged->count(m.ns) > 0; }
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
  // The set whose rules other sets' groups also hold (RuleGroup::merged),
  // or null; it has exactly one group, which applies to every object.
  const LoadedRuleSet* merged_base() const { return merged_base_; }

 private:
  std::vector<std::unique_ptr<LoadedRuleSet>> sets_;
  const LoadedRuleSet* merged_base_ = nullptr;
};

// Which of kYaraExternals the YARA source `text` names (bit i: entry i),
// as whole words anywhere in it. An `include` directive counts as naming
// all of them (the included text is not read here).
std::uint32_t externals_named(std::string_view text);

}  // namespace emogate
