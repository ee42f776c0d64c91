// Names of verdicts and finding types, and the JSON form of a Report.
// Trusted input: none.
#include "emogate/report.h"

#include <nlohmann/json.hpp>

namespace emogate {

namespace {
constexpr std::string_view kVerdictNames[] = {"clean", "suspicious", "malicious"};
constexpr std::string_view kFindingNames[] = {
    "vba_macro",         "xlm_macro",          "yara",           "encrypted_archive",
    "archive_decrypted", "encrypted_document", "dangerous_type", "limit_exceeded",
    "url_blocklisted",   "remote_template",    "embedded_file",  "malformed",
    "spoofed_sender",
};
static_assert(std::size(kFindingNames) == std::size(kAllFindingTypes));
}  // namespace

std::string_view to_string(Verdict v) { return kVerdictNames[static_cast<int>(v)]; }
std::string_view to_string(FindingType t) { return kFindingNames[static_cast<int>(t)]; }

std::optional<Verdict> parse_verdict(std::string_view s) {
  for (int i = 0; i < 3; ++i)
    if (kVerdictNames[i] == s) return static_cast<Verdict>(i);
  return std::nullopt;
}

std::optional<FindingType> parse_finding_type(std::string_view s) {
  for (FindingType t : kAllFindingTypes)
    if (to_string(t) == s) return t;
  return std::nullopt;
}

std::string findings_summary(const Report& report) {
  std::string out;
  for (const Finding& f : report.findings) {
    if (!out.empty()) out += ',';
    out += to_string(f.type);
    out += '@';
    out += f.path;
  }
  return out;
}

nlohmann::json finding_json(const Finding& f) {
  nlohmann::json j = {
      {"type", to_string(f.type)}, {"path", f.path}, {"detail", f.detail}, {"verdict", to_string(f.verdict)}};
  if (!f.limit.empty()) j["limit"] = f.limit;
  if (!f.rule_set.empty()) j["rule_set"] = f.rule_set, j["score"] = f.score;
  if (!f.trick.empty()) j["trick"] = f.trick, j["sender"] = f.sender, j["claimed"] = f.claimed;
  return j;
}

std::string to_json(const Report& r) {
  using nlohmann::json;
  json findings = json::array();
  for (const Finding& f : r.findings) findings.push_back(finding_json(f));
  json objects = json::array();
  for (const ObjectSummary& o : r.objects) {
    json j = {{"path", o.path}, {"type", o.type}, {"mime", o.mime},
              {"size", o.size}, {"sha256", o.sha256}, {"depth", o.depth}};
    if (!o.name.empty()) j["name"] = o.name;
    if (!o.declared_type.empty()) j["declared_type"] = o.declared_type;
    if (o.truncated) j["truncated"] = true;
    if (o.derived) j["derived"] = true;
    if (o.body) j["body"] = true;
    if (!o.provenance.empty()) j["provenance"] = o.provenance;
    objects.push_back(std::move(j));
  }
  json locked = json::array();
  for (const LockedMember& m : r.ppap.locked)
    locked.push_back({{"archive", m.archive}, {"member", m.member}, {"checkable", !m.check.empty()}});
  json j = {{"input", r.input},
            {"verdict", to_string(r.verdict)},
            {"findings", std::move(findings)},
            {"objects", std::move(objects)},
            {"urls", r.urls},
            {"errors", r.errors},
            {"incomplete", r.incomplete},
            {"size", r.size},
            {"scan_ms", static_cast<double>(static_cast<long long>(r.scan_ms * 1000)) / 1000}};
  if (!locked.empty()) j["locked"] = std::move(locked);
  if (!r.rule_sets.empty()) {
    json sets = json::array();
    for (const RuleSetUse& u : r.rule_sets)
      sets.push_back({{"name", u.name},
                      {"objects", u.objects},
                      {"cache_hits", u.cache_hits},
                      {"passes", u.passes},
                      {"bytes", u.bytes},
                      {"cpu_ms", static_cast<double>(static_cast<long long>(u.cpu_ms * 1000)) / 1000}});
    j["rule_sets"] = std::move(sets);
  }
  // Mail carries arbitrary bytes in names: never let bad UTF-8 abort output.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace emogate
