// Runs each configured YARA rule set over the objects its scope takes (a
// "files" set: attachments, archive members, decrypted documents, embedded
// files; an "all" set: every object, including derived text such as VBA
// source, XLM formulas and HTML text), through the set's verdict cache, and
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

#include "common/text.h"
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
    for (const auto& set : all->sets()) {
      if (set->parts.empty() || ctx.expired()) continue;
      if (set->settings.scope == RuleScope::files && !file) continue;
      if (!vars) vars = vars_for(obj);
      std::vector<YaraMatch> matches;
      for (const auto& part : set->parts) {
        if (ctx.expired()) break;
        auto got = run_part(*part, obj, *vars, hash, ctx);
        matches.insert(matches.end(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
      }
      report(*set, obj, matches, ctx);
    }
  }

 private:
  static std::vector<YaraMatch> run_part(const RuleSetPart& part, const Object& obj, const YaraVars& vars,
                                         std::string& hash, ScanContext& ctx) {
    using namespace std::chrono;
    const std::string_view view = scan_view(obj);
    // A message's header block never comes twice; everything else is
    // looked up by its bytes and the externals the part's rules read.
    const bool cacheable = part.cache.enabled() && obj.type != tag::email;
    std::string key;
    if (cacheable) {
      if (hash.empty()) hash = obj.sha256.empty() ? sha256_hex(view) : obj.sha256;
      key = hash;
      for (std::size_t i = 0; i < std::size(kYaraExternals); ++i)
        if (part.externals & (1u << i)) key += '\0' + vars.value(i);
      if (auto cached = part.cache.find(key)) return std::move(*cached);
    }
    auto left = duration_cast<milliseconds>(ctx.deadline() - ScanContext::Clock::now()).count();
    std::uint32_t budget = ctx.config().rules.timeout_ms;
    if (budget == 0 || static_cast<long long>(budget) > left)
      budget = static_cast<std::uint32_t>(std::max<long long>(left, 1));
    YaraScanResult res = part.rules->scan(view, vars, budget);
    ++part.scans;
    if (res.timed_out)
      ctx.limit_hit(obj, "rules.timeout_ms", res.error);
    else if (!res.error.empty())
      ctx.scan_incomplete(obj.path, "yara", "rule scan failed: " + res.error);
    else if (cacheable)
      part.cache.put(key, res.matches);
    return std::move(res.matches);
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
