// Runs each configured YARA rule set over the objects its scope takes (a
// "files" set: attachments, archive members, decrypted documents, embedded
// files; a "loki" set: those of them LOKI's default scan would read; an
// "all" set: every object, including derived text such as VBA source, XLM
// formulas and HTML text), through the set's verdict cache, and
// turns matches into `yara` findings: a rule's `verdict` meta wins, scored
// rules take the verdict their summed `score` reaches, the others the
// set's default verdict.
// Trusted input: none in the object; the rules are shared read-only, the
// scan is bounded by [rules] timeout_ms and by what is left of the message
// deadline.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>
#include <iterator>
#include <optional>

#include "common/text.h"
#include "common/thread_cpu.h"
#include "engine/context.h"
#include "engine/file_scope.h"
#include "engine/hash.h"
#include "engine/module.h"
#include "services/loki_externals.h"
#include "services/yara_sets.h"

namespace emogate {

namespace {

// LOKI reads at most this many leading bytes for its file type.
constexpr std::size_t kFiletypeHead = 16;

YaraVars vars_for(const Object& obj) {
  YaraVars v;
  v.filename = base_name(obj.name);
  v.filepath = folder_part(obj.name);
  v.extension = loki_extension(v.filename);
  v.filetype = std::string(loki_filetype(obj.bytes().substr(0, kFiletypeHead)));
  v.path = obj.path;
  v.depth = obj.depth;
  v.type = obj.type;
  v.mime = obj.mime;
  v.parent_type = obj.parent ? obj.parent->type : std::string();
  v.from_encrypted = obj.from_encrypted;
  v.truncated = obj.truncated;
  return v;
}

// A `score` meta as LOKI reads it (an integer, or a string holding one).
std::optional<long long> score_of(const YaraMatch& m) {
  for (const auto& [k, v] : m.meta) {
    if (k != "score") continue;
    long long n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc() && end == v.data() + v.size()) return n;
  }
  return std::nullopt;
}

// A message's parts, bodies and attachments are objects of their own, each
// scanned decoded; of the message itself only the header block is new, so
// that is all we scan (no second pass over base64 text, no duplicate hits).
std::string_view scan_view(const Object& obj) {
  std::string_view b = obj.bytes();
  if (obj.type != tag::email) return b;
  b = b.substr(0, std::min<std::size_t>(b.size(), 1u << 20));
  // The header block ends at the first empty line, CRLF or LF; one pass
  // (searching for each form separately would read a CRLF body to its end).
  for (std::size_t nl = b.find('\n'); nl != std::string_view::npos; nl = b.find('\n', nl + 1)) {
    std::string_view rest = b.substr(nl + 1);
    if (rest.starts_with("\n") || rest.starts_with("\r\n")) return b.substr(0, nl > 0 && b[nl - 1] == '\r' ? nl - 1 : nl);
  }
  return b;
}

// "Rule [namespace] tags=a,b: description (reference=..., date=...)".
std::string describe(const YaraMatch& m) {
  std::string d = m.rule + " [" + m.ns + "]";
  if (!m.tags.empty()) {
    d += " tags=";
    for (std::size_t i = 0; i < m.tags.size(); ++i) d += (i ? "," : "") + m.tags[i];
  }
  if (auto desc = m.meta_value("description"); !desc.empty()) d += ": " + desc;
  std::string rest;
  for (const auto& [k, v] : m.meta) {
    if (k == "description") continue;
    rest += (rest.empty() ? "" : ", ") + k + "=" + v;
  }
  if (!rest.empty()) d += " (" + rest + ")";
  return d;
}

// The part of a merged group's pass (RuleGroup::merged) that belongs to the
// set whose rules the group also holds: taken by that set instead of a pass
// of its own.
struct BasePart {
  const LoadedRuleSet* base = nullptr;
  bool ran = false, complete = false;
  std::vector<YaraMatch> matches;
};

class YaraDetector final : public Module {
 public:
  Phase phase() const override { return Phase::inspect; }
  std::string_view name() const override { return "yara"; }
  std::vector<std::string> types() const override { return {tag::any}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    const auto* all = ctx.service<YaraRules>();
    if (!all) return;
    const bool file = is_user_file(obj);
    std::optional<YaraVars> vars;
    std::string hash;  // of the scanned bytes, once a cache needs it
    const auto& sets = all->sets();
    BasePart part;
    part.base = all->merged_base();
    // The sets holding another set's rules scan first, so that set can take
    // its part of their pass; findings are still reported in set order.
    std::vector<std::optional<std::vector<YaraMatch>>> got(sets.size());
    for (bool base_now : {false, true})
      for (std::size_t i = 0; i < sets.size(); ++i) {
        const LoadedRuleSet& set = *sets[i];
        if ((&set == part.base) != base_now || set.groups.empty() || ctx.expired()) continue;
        if (set.settings.scope != RuleScope::all && !file) continue;
        if (!vars) vars = vars_for(obj);
        if (set.settings.scope == RuleScope::loki && !loki_scans(vars->filetype, vars->extension)) continue;
        RuleSetUse& use = ctx.rule_set_use(set.settings.name);
        ++use.objects;
        got[i] = run_set(set, obj, *vars, hash, ctx, part, use);
      }
    for (std::size_t i = 0; i < sets.size(); ++i)
      if (got[i]) report(*sets[i], obj, *got[i], ctx);
  }

 private:
  // One YARA pass of `rules` over the object, its matches added to `out`
  // and its cost to `use`. Returns whether it completed; a limit or an
  // error is reported here, and what matched before the stop is still added.
  static bool scan(const YaraRuleSet& rules, const Object& obj, const YaraVars& vars, ScanContext& ctx,
                   ScanContext::Clock::time_point until, std::vector<YaraMatch>& out, RuleSetUse& use) {
    using namespace std::chrono;
    const std::uint64_t cpu_start = thread_cpu_ns();
    auto left = duration_cast<milliseconds>(until - ScanContext::Clock::now()).count();
    const std::uint32_t budget = static_cast<std::uint32_t>(std::clamp<long long>(left, 1, UINT32_MAX));
    const std::string_view view = scan_view(obj);
    YaraScanResult res = rules.scan(view, vars, budget);
    ++use.passes;
    use.bytes += view.size();
    use.cpu_ms += static_cast<double>(thread_cpu_ns() - cpu_start) / 1e6;
    out.insert(out.end(), std::make_move_iterator(res.matches.begin()), std::make_move_iterator(res.matches.end()));
    if (res.timed_out)
      ctx.limit_hit(obj, "rules.timeout_ms", res.error);
    else if (!res.error.empty())
      ctx.scan_incomplete(obj.path, "yara", "rule scan failed: " + res.error);
    return res.error.empty();
  }

  // The whole set over the object: each group whose rules could match it.
  // The base set takes its part of a merged pass when one ran; a merged
  // group's pass leaves the base set's matches in `part`.
  static bool scan_set(const LoadedRuleSet& set, const Object& obj, const YaraVars& vars, ScanContext& ctx,
                       std::vector<YaraMatch>& out, BasePart& part, RuleSetUse& use) {
    ++set.scans;
    if (&set == part.base && part.ran) {
      out.insert(out.end(), part.matches.begin(), part.matches.end());
      return part.complete;
    }
    const std::string_view view = scan_view(obj);
    const auto until = object_deadline(ctx);
    for (const RuleGroup& g : set.groups) {
      if (!g.applies(view)) continue;
      if (!g.merged) {
        if (!scan(*g.rules, obj, vars, ctx, until, out, use)) return false;
        continue;
      }
      std::vector<YaraMatch> both;
      const bool complete = scan(*g.rules, obj, vars, ctx, until, both, use);
      const bool keep = !part.ran;  // a later merged pass repeats the same part
      if (keep) part.complete = complete;
      part.ran = true;
      for (YaraMatch& m : both)
        if (!g.from_merged(m)) out.push_back(std::move(m));
        else if (keep) part.matches.push_back(std::move(m));
      if (!complete) return false;
    }
    return true;
  }

  // [rules] timeout_ms for the object (all its passes), within what is
  // left of the message's deadline.
  static ScanContext::Clock::time_point object_deadline(const ScanContext& ctx) {
    const std::uint32_t ms = ctx.config().rules.timeout_ms;
    if (ms == 0) return ctx.deadline();
    return std::min(ctx.deadline(), ScanContext::Clock::now() + std::chrono::milliseconds(ms));
  }

  // The set's matches for the object: from its cache when every kind of
  // entry the set has is there (see yara_sets.h), else by one pass of the
  // whole set, or of its externals-reading files alone when only their
  // entry is missing. Matches of files that name no externals come first.
  static std::vector<YaraMatch> run_set(const LoadedRuleSet& set, const Object& obj, const YaraVars& vars,
                                        std::string& hash, ScanContext& ctx, BasePart& part, RuleSetUse& use) {
    std::vector<YaraMatch> got;
    // A message's header block never comes twice; everything else is
    // looked up by its bytes and the externals the set's rules read.
    if (!set.cache.enabled() || obj.type == tag::email) {
      scan_set(set, obj, vars, ctx, got, part, use);
      return got;
    }
    if (hash.empty()) hash = obj.sha256.empty() ? sha256_hex(scan_view(obj)) : obj.sha256;
    const bool has_pure = !set.all_named, has_named = !set.named_files.empty() || set.all_named;
    const std::string pure_key = "p" + hash;
    std::string named_key = "n" + hash;
    for (std::size_t i = 0; i < std::size(kYaraExternals); ++i)
      if (set.externals & (1u << i)) named_key += '\0' + vars.value(i);
    std::optional<std::vector<YaraMatch>> pure, named;
    if (has_pure) pure = set.cache.find(pure_key);
    if (has_named) named = set.cache.find(named_key);
    if ((pure || !has_pure) && (named || !has_named)) {
      ++use.cache_hits;
      got = pure ? std::move(*pure) : std::vector<YaraMatch>();
      if (named) got.insert(got.end(), std::make_move_iterator(named->begin()), std::make_move_iterator(named->end()));
      return got;
    }
    if (pure && set.named) {
      // The same bytes under other externals: only the rules reading them.
      ++set.scans;
      if (scan(*set.named, obj, vars, ctx, object_deadline(ctx), got, use)) set.cache.put(named_key, got);
      pure->insert(pure->end(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
      return std::move(*pure);
    }
    const bool complete = scan_set(set, obj, vars, ctx, got, part, use);
    std::vector<YaraMatch> p, n;
    for (YaraMatch& m : got) (set.is_named(m) ? n : p).push_back(std::move(m));
    if (complete) {
      if (has_pure) set.cache.put(pure_key, p);
      if (has_named) set.cache.put(named_key, n);
    }
    p.insert(p.end(), std::make_move_iterator(n.begin()), std::make_move_iterator(n.end()));
    return p;
  }

  // LOKI sums the `score` metas of one file's hits; here per object and set.
  static void report(const LoadedRuleSet& set, const Object& obj, const std::vector<YaraMatch>& matches,
                     ScanContext& ctx) {
    if (matches.empty()) return;
    long long total = 0;
    for (const YaraMatch& m : matches)
      if (auto sc = score_of(m)) total = std::clamp<long long>(total + std::clamp<long long>(*sc, INT_MIN, INT_MAX), INT_MIN, INT_MAX);
    const RuleSetSettings& rs = set.settings;
    const Verdict by_score = total >= rs.score_malicious    ? Verdict::malicious
                             : total >= rs.score_suspicious ? Verdict::suspicious
                                                            : Verdict::clean;
    const Verdict fallback = rs.verdict.value_or(ctx.config().baseline(FindingType::yara));
    for (const YaraMatch& m : matches) {
      std::optional<Verdict> v;
      if (auto mv = m.meta_value("verdict"); !mv.empty()) v = parse_verdict(mv);
      if (!v) v = score_of(m) ? by_score : fallback;
      ctx.add_rule_finding(obj, describe(m), *v, rs.name, static_cast<int>(total));
    }
  }
};

}  // namespace

std::unique_ptr<Module> make_yara_module() { return std::make_unique<YaraDetector>(); }

}  // namespace emogate
