// YaraRules: every configured rule set ("default" from [rules] paths, then
// each [[rules.set]]), compiled once per configuration and shared read-only
// by every scan, each with what `emogate check` prints about its load and
// its verdict caches and counters.
//
// A set is compiled in two parts: the files whose text names no external
// variable, whose result depends on the scanned bytes alone (cached by
// their SHA-256), and the files that name some (cached by the SHA-256 plus
// the values of those externals). So a signature-base-sized set, of which
// a few files read `filename`, still scans a campaign's attachment once
// whatever it is called. A set compiled in one namespace (its files may
// use each other's private rules) stays one part.
// Trusted input: the configuration and the rule files (see yara_rules.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emogate/config.h"
#include "services/verdict_cache.h"
#include "services/yara_rules.h"

namespace emogate {

struct RuleSetPart {
  std::shared_ptr<const YaraRuleSet> rules;
  // Bit i set: the part's rule text names kYaraExternals[i]; its cache keys
  // carry the values of exactly these.
  std::uint32_t externals = 0;
  mutable VerdictCache cache;
  mutable std::atomic<std::uint64_t> scans{0};  // YARA scans run (cache hits excluded)

  explicit RuleSetPart(std::uint64_t cache_bytes) : cache(cache_bytes) {}
};

struct LoadedRuleSet {
  RuleSetSettings settings;
  std::vector<std::unique_ptr<RuleSetPart>> parts;  // parts with rules only
  std::size_t files = 0;
  std::size_t rules = 0;
  std::vector<std::string> skipped;   // "file:line: message" of files left out
  std::vector<std::string> warnings;  // compiler warnings, "file:line: message"
  double compile_ms = 0;
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
