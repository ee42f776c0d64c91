// Runs the compiled YARA rule set over every object, including derived text
// (VBA source, XLM formulas, HTML text) and decrypted archive members, and
// turns matches into `yara` findings.
// Trusted input: none in the object; the
// rules are shared read-only, the scan is bounded by [rules] timeout_ms and
// by what is left of the message deadline.
#include <algorithm>
#include <chrono>

#include "services/yara_rules.h"
#include "engine/context.h"
#include "engine/module.h"

namespace emogate {

namespace {

YaraVars vars_for(const Object& obj) {
  YaraVars v;
  v.filename = obj.name;
  v.extension = obj.extension();
  v.path = obj.path;
  v.depth = obj.depth;
  v.type = obj.type;
  v.mime = obj.mime;
  v.parent_type = obj.parent ? obj.parent->type : std::string();
  v.from_encrypted = obj.from_encrypted;
  v.truncated = obj.truncated;
  return v;
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
    const auto* rules = ctx.service<YaraRuleSet>();
    if (!rules || rules->rule_count() == 0 || ctx.expired()) return;
    using namespace std::chrono;
    auto left = duration_cast<milliseconds>(ctx.deadline() - ScanContext::Clock::now()).count();
    std::uint32_t budget = ctx.config().rules.timeout_ms;
    if (budget == 0 || static_cast<long long>(budget) > left)
      budget = static_cast<std::uint32_t>(std::max<long long>(left, 1));

    auto res = rules->scan(scan_view(obj), vars_for(obj), budget);
    for (const auto& m : res.matches) {
      // Rules may ask for a verdict; otherwise the yara baseline applies.
      std::optional<Verdict> v;
      if (auto mv = m.meta_value("verdict"); !mv.empty()) v = parse_verdict(mv);
      ctx.add_finding(FindingType::yara, obj, describe(m), v);
    }
    if (res.timed_out)
      ctx.limit_hit(obj, "rules.timeout_ms", res.error);
    else if (!res.error.empty())
      ctx.scan_incomplete(obj.path, "yara", "rule scan failed: " + res.error);
  }
};

}  // namespace

std::unique_ptr<Module> make_yara_module() { return std::make_unique<YaraDetector>(); }

}  // namespace emogate
