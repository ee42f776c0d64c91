// Loads the configured rule sets; see yara_sets.h.
// Trusted input: the configuration and the rule files.
#include "services/yara_sets.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "engine/services.h"
#include "services/yara_gates.h"

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

// Sorts compiler messages into the set's lists (and `warnings`), each once.
void add_messages(LoadedRuleSet& set, const std::vector<std::string>& own, std::vector<std::string>& warnings) {
  std::unordered_set<std::string> seen;
  for (const std::string& w : own) {
    if (!seen.insert(w).second) continue;
    if (w.starts_with(kSkippedPrefix)) set.skipped.push_back(w.substr(kSkippedPrefix.size()));
    else if (w.starts_with(kYaraWarningPrefix)) set.warnings.push_back(w.substr(kYaraWarningPrefix.size()));
    else set.skipped.push_back(w.substr(w.starts_with("yara: ") ? 6 : 0));
    warnings.push_back(w);
  }
}

// The groups, in scan order: "MZ" rules, then every other rule. Rules are
// not split further by their size bound: a small object would meet every
// size group, and each pass costs libyara's per-scan work (its condition
// code, module objects) whatever the rules in it, which outweighed the
// strings a large object is spared.
constexpr std::size_t kMzGroup = 0, kLastGroup = 1, kGroups = 2;
// An "MZ" group with fewer than this share of the split rules (percent) is
// not worth a pass of its own: its rules go to the last group.
constexpr std::size_t kMinGroupPercent = 5;

struct FilePlan {
  std::string path;
  std::shared_ptr<const std::string> text;
  RuleFileShape shape;
  std::vector<std::size_t> group;  // per rule of shape (public rules)
  std::size_t shared = 0;          // private and global rules
};

// Assigns each public rule of the splittable files a group; no "MZ" group
// when it would be too small to be worth a pass.
void plan_groups(std::vector<FilePlan>& files) {
  std::size_t mz = 0, total = 0;
  for (const FilePlan& f : files)
    if (f.shape.splittable)
      for (const RuleShape& r : f.shape.rules) {
        if (r.shared) continue;
        mz += r.gate.mz;
        ++total;
      }
  const bool use_mz = mz * 100 >= total * kMinGroupPercent;
  for (FilePlan& f : files) {
    if (!f.shape.splittable) continue;
    f.group.assign(f.shape.rules.size(), kLastGroup);
    for (std::size_t k = 0; k < f.shape.rules.size(); ++k)
      if (use_mz && !f.shape.rules[k].shared && f.shape.rules[k].gate.mz) f.group[k] = kMzGroup;
  }
}

// Another set's one group, which a set's last group may hold too (see
// yara_sets.h): the sources it was compiled from and their namespaces.
struct MergeSource {
  std::vector<RuleSource> sources;
  std::shared_ptr<const std::unordered_set<std::string>> namespaces;
};

// The last group's sources with `with`'s too, compiled into `rg` when every
// file of `with` compiles there; false (and `rg` untouched) otherwise.
bool compile_merged(const LoadedRuleSet& set, const std::vector<RuleSource>& src, const MergeSource& with,
                    std::vector<std::string>& own, RuleGroup& rg) {
  std::vector<RuleSource> both = src;
  both.insert(both.end(), with.sources.begin(), with.sources.end());
  std::vector<std::string> msgs;
  std::shared_ptr<const YaraRuleSet> rules;
  try {
    rules = YaraRuleSet::compile_sources(std::move(both), {}, set.settings.strict, msgs);
  } catch (const std::runtime_error&) {
    return false;  // strict: the set's own files are compiled alone below, and say why
  }
  const auto& in = rules->files();
  for (const std::string& ns : *with.namespaces)
    if (std::find(in.begin(), in.end(), ns) == in.end()) return false;
  own.insert(own.end(), msgs.begin(), msgs.end());
  rg.rules = std::move(rules);
  rg.merged = with.namespaces;
  return true;
}

// Compiles the planned groups, one at a time (each file's text for a
// group is made just before); files that failed in any group go to `failed`.
// The last group also holds `with`'s rules when given (and they compile);
// `last` receives that group's own sources.
std::vector<RuleGroup> compile_groups(const LoadedRuleSet& set, const std::vector<FilePlan>& files,
                                      std::vector<std::string>& own, std::unordered_set<std::string>& failed,
                                      const MergeSource* with = nullptr, std::vector<RuleSource>* last = nullptr) {
  std::vector<std::array<bool, kGroups>> in(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    const FilePlan& f = files[i];
    in[i].fill(false);
    if (f.shape.splittable)
      for (std::size_t k = 0; k < f.group.size(); ++k)
        if (!f.shape.rules[k].shared) in[i][f.group[k]] = true;
    if (std::count(in[i].begin(), in[i].end(), true) == 0) in[i][kLastGroup] = true;
  }
  std::vector<RuleGroup> out;
  const std::string ns = set.settings.one_namespace ? set.settings.name : std::string();
  for (std::size_t g = 0; g < kGroups; ++g) {
    std::vector<RuleSource> src;
    std::unordered_set<std::string> asked;
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (!in[i][g]) continue;
      const FilePlan& f = files[i];
      asked.insert(f.path);
      // From its path only when the file goes whole to the last group: a
      // gated group compiles the text its gates were read from (the file
      // may have changed since), and a file's import of a module no rule of
      // the group uses would still load the module (and build its object
      // tree) at every scan.
      if (!f.text) {
        src.push_back({f.path, nullptr});
        continue;
      }
      std::vector<bool> keep(f.group.size());
      for (std::size_t k = 0; k < keep.size(); ++k) keep[k] = f.group[k] == g;
      src.push_back({f.path, std::make_shared<const std::string>(keep_rules(*f.text, f.shape, keep))});
    }
    if (src.empty()) continue;
    RuleGroup rg;
    if (g == kLastGroup && last) *last = src;
    if (g != kLastGroup || !with || !compile_merged(set, src, *with, own, rg))
      rg.rules = YaraRuleSet::compile_sources(std::move(src), {}, set.settings.strict, own, ns);
    rg.mz = g == kMzGroup;
    for (const auto& p : rg.rules->files()) asked.erase(p);
    failed.insert(asked.begin(), asked.end());
    out.push_back(std::move(rg));
  }
  return out;
}

}  // namespace

std::shared_ptr<const YaraRules> YaraRules::load(const RuleSettings& settings, std::vector<std::string>& warnings) {
  auto out = std::make_shared<YaraRules>();
  // The "all" set whose rules the "files" sets after it take into their last
  // group, and what they need for it (see yara_sets.h).
  LoadedRuleSet* base = nullptr;
  MergeSource base_src;
  std::size_t base_rules = 0;
  for (const RuleSetSettings& rs : settings.all_sets()) {
    auto set = std::make_unique<LoadedRuleSet>(settings.cache_bytes);
    set->settings = rs;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::string> problems;
    std::vector<std::string> paths = collect_rule_files(rs.paths, problems);
    if (rs.strict && !problems.empty()) {
      std::string all = "YARA rules failed to load (strict):";
      for (const auto& p : problems) all += "\n  " + p;
      throw std::runtime_error(all);
    }
    for (const std::string& p : problems) {
      set->skipped.push_back(p);
      warnings.push_back("yara: " + p);
    }
    // Which files name externals decides each match's cache key; the
    // rules' gates decide their groups (one namespace: one group).
    std::unordered_set<std::string> named;
    std::vector<FilePlan> files;
    for (std::string& path : paths) {
      FilePlan f;
      f.text = std::make_shared<const std::string>(read_text(path));
      std::uint32_t m = externals_named(*f.text);
      if (m != 0 || rs.one_namespace) named.insert(path);
      set->externals |= m;
      if (!rs.one_namespace) f.shape = analyse_rule_file(*f.text);
      for (const RuleShape& r : f.shape.rules) f.shared += r.shared;
      f.path = std::move(path);
      files.push_back(std::move(f));
    }
    // Merged only when no namespace of the two sets can be the same.
    const MergeSource* with = base && rs.scope != RuleScope::all && !rs.one_namespace ? &base_src : nullptr;
    for (const FilePlan& f : files)
      if (with && with->namespaces->count(f.path)) with = nullptr;
    std::vector<RuleSource> last;
    if (!files.empty()) {
      plan_groups(files);
      // Only the files with a rule in a gated group, or whose imports may
      // be blanked, need their text again.
      for (FilePlan& f : files) {
        bool gated = false;
        for (std::size_t k = 0; k < f.group.size(); ++k)
          gated |= !f.shape.rules[k].shared && f.group[k] != kLastGroup;
        if (!f.shape.splittable || (!gated && f.shape.imports.empty())) f.text.reset();
      }
      std::vector<std::string> own;
      std::unordered_set<std::string> failed;
      set->groups = compile_groups(*set, files, own, failed, with, &last);
      // A file compiled from edited text that failed must not half-load
      // through other groups (nor fail for the editing): compile it whole
      // in the last group instead, once more. A file compiled whole was
      // already left out as broken, as ever.
      bool again = false;
      for (FilePlan& f : files)
        if (f.text && failed.count(f.path)) {
          f.shape.splittable = false;
          f.text.reset();
          again = true;
        }
      if (again) {
        own.clear();
        failed.clear();
        set->groups.clear();
        set->groups = compile_groups(*set, files, own, failed, with, &last);
      }
      add_messages(*set, own, warnings);
      // The files that compiled (a broken one is left out everywhere).
      std::unordered_set<std::string> good;
      for (const RuleGroup& g : set->groups) {
        set->rules_count += g.rules->rule_count() - (g.merged ? base_rules : 0);
        for (const std::string& p : g.rules->files())
          if (!g.merged || !g.merged->count(p)) good.insert(p);
        if (g.merged) out->merged_base_ = base;
      }
      std::vector<std::string> good_named;
      for (const FilePlan& f : files) {
        if (!good.count(f.path)) continue;
        if (named.count(f.path)) good_named.push_back(f.path);
        // Shared rules compiled into more than one group count once.
        std::size_t in = 0;
        for (const RuleGroup& g : set->groups)
          in += std::count(g.rules->files().begin(), g.rules->files().end(), f.path);
        if (in > 1) set->rules_count -= f.shared * (in - 1);
      }
      set->files = good.size();
      set->all_named = good_named.size() == good.size();
      if (!good_named.empty() && !set->all_named && settings.cache_bytes > 0) {
        std::vector<RuleSource> src;
        for (auto& p : good_named) src.push_back({p, nullptr});
        std::vector<std::string> ignored;  // the groups reported them
        set->named = YaraRuleSet::compile_sources(std::move(src), {}, false, ignored,
                                                  rs.one_namespace ? rs.name : std::string());
      }
      set->named_files.insert(good_named.begin(), good_named.end());
      std::erase_if(set->groups, [](const RuleGroup& g) { return g.rules->rule_count() == 0; });
    }
    // The first "all" set that is one group for every object, loaded
    // without a problem (so its files compile again as they did), can go
    // into later "files" sets' passes.
    if (!base && rs.scope == RuleScope::all && !rs.one_namespace && set->skipped.empty() && set->warnings.empty() &&
        set->groups.size() == 1 && !set->groups[0].mz && !last.empty()) {
      base = set.get();
      base_src.sources = std::move(last);
      const auto& in = set->groups[0].rules->files();
      base_src.namespaces = std::make_shared<const std::unordered_set<std::string>>(in.begin(), in.end());
      base_rules = set->groups[0].rules->rule_count();
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
