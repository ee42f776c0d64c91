// Loads the configured rule sets; see yara_sets.h.
// Trusted input: the configuration and the rule files.
#include "services/yara_sets.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "engine/services.h"

namespace emogate {

namespace {

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

constexpr std::string_view kSkippedPrefix = "yara: rule file skipped: ";

}  // namespace

std::uint32_t externals_named(std::string_view t) {
  // Every word counts, in comments, strings and regexes too: telling those
  // apart (a '"' inside a regex, "//" inside a string) risks missing a
  // name, which would let a cached result stand for different externals;
  // an extra name only makes keys more specific.
  constexpr std::uint32_t all = (1u << std::size(kYaraExternals)) - 1;
  std::uint32_t used = 0;
  std::size_t i = 0;
  bool line_start = true;
  while (i < t.size()) {
    char c = t[i];
    if (!ident_start(c)) {
      if (c == '\n') line_start = true;
      else if (c != ' ' && c != '\t' && c != '\r') line_start = false;
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < t.size() && ident_char(t[end])) ++end;
    std::string_view word = t.substr(i, end - i);
    if (line_start && word == "include") return all;
    for (std::size_t k = 0; k < std::size(kYaraExternals); ++k)
      if (word == kYaraExternals[k]) used |= 1u << k;
    line_start = false;
    i = end;
  }
  return used;
}

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Compiles `files` for `set`, sorting the compiler's messages into the
// set's lists (and `warnings`) when `report`.
std::shared_ptr<const YaraRuleSet> compile_set(LoadedRuleSet& set, const RuleSettings& settings,
                                               std::vector<std::string> files, bool report,
                                               std::vector<std::string>& warnings) {
  RuleSettings one = settings;
  one.paths = std::move(files);
  one.strict = set.settings.strict;
  std::vector<std::string> own;
  auto rules = YaraRuleSet::compile(one, own, set.settings.one_namespace ? set.settings.name : std::string());
  if (!report) return rules;
  for (const std::string& w : own) {
    if (w.starts_with(kSkippedPrefix)) set.skipped.push_back(w.substr(kSkippedPrefix.size()));
    else if (w.starts_with(kYaraWarningPrefix)) set.warnings.push_back(w.substr(kYaraWarningPrefix.size()));
    else set.skipped.push_back(w.substr(w.starts_with("yara: ") ? 6 : 0));
    warnings.push_back(w);
  }
  return rules;
}

}  // namespace

std::shared_ptr<const YaraRules> YaraRules::load(const RuleSettings& settings, std::vector<std::string>& warnings) {
  auto out = std::make_shared<YaraRules>();
  for (const RuleSetSettings& rs : settings.all_sets()) {
    auto set = std::make_unique<LoadedRuleSet>(settings.cache_bytes);
    set->settings = rs;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::string> problems;
    std::vector<std::string> files = collect_rule_files(rs.paths, problems);
    if (rs.strict && !problems.empty()) {
      std::string all = "YARA rules failed to load (strict):";
      for (const auto& p : problems) all += "\n  " + p;
      throw std::runtime_error(all);
    }
    for (const std::string& p : problems) {
      set->skipped.push_back(p);
      warnings.push_back("yara: " + p);
    }
    // Which files name externals decides each match's cache key.
    std::unordered_set<std::string> named;
    for (const std::string& f : files) {
      std::uint32_t m = externals_named(read_text(f));
      if (m != 0 || rs.one_namespace) named.insert(f);
      set->externals |= m;
    }
    if (!files.empty()) {
      auto rules = compile_set(*set, settings, files, true, warnings);
      // The files that compiled (a broken one is left out of both).
      std::vector<std::string> good_named;
      for (const std::string& f : rules->files())
        if (named.count(f)) good_named.push_back(f);
      set->all_named = good_named.size() == rules->files().size();
      if (!good_named.empty() && !set->all_named && settings.cache_bytes > 0)
        set->named = compile_set(*set, settings, good_named, false, warnings);
      set->named_files.insert(good_named.begin(), good_named.end());
      set->files = rules->files().size();
      set->rules_count = rules->rule_count();
      if (rules->rule_count() > 0) set->rules = std::move(rules);
    }
    set->compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    out->sets_.push_back(std::move(set));
  }
  return out;
}

// Registry hook: compiled once per configuration; a reload compiles aside.
void build_yara_rules(const Config& cfg, ServiceSet& out, std::vector<std::string>& warnings) {
  out.put<YaraRules>(YaraRules::load(cfg.rules, warnings));
}

}  // namespace emogate
