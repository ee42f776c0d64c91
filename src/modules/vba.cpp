// VBA extractor (type "ole2"): finds every VBA project in a compound file
// (Word "Macros/VBA", Excel "_VBA_PROJECT_CUR/VBA", vbaProject.bin "VBA",
// any storage holding a `dir` stream), decompresses each module's source,
// decodes it from the project code page to UTF-8 and hands it back as a
// derived "vba_source" child ("invoice.xls/VBA/Module1.bas"). One
// `vba_macro` finding per project names every keyword found
// (formats/vba/keywords), VBA stomping (p-code the source does not match),
// and the project's SHA-256, which the engine's allow-list matches
// (engine/allow_list.h): the module does not decide.
//
// Project SHA-256 (config [macros] allow_project_sha256): SHA-256 over the
// decompressed module sources as stored (project code page, before
// conversion to UTF-8), concatenated in the order the dir stream lists the
// modules, with nothing in between.
//
// Trusted input: none. Sources are capped at max_object_size per module.
#include <algorithm>
#include <string>

#include "formats/vba/keywords.h"
#include "engine/context.h"
#include "engine/hash.h"
#include "engine/module.h"
#include "formats/vba/ovba.h"

namespace emogate {

namespace {

class VbaExtractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "vba"; }
  std::vector<std::string> types() const override { return {tag::ole2}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    const ole2::Ole2File file = ole2::Ole2File::open(obj.bytes());
    if (!file.ok()) return;
    for (const auto& where : ovba::find_projects(file)) {
      if (ctx.expired()) return;
      const ovba::Project p = ovba::read_project(file, where, ctx.limits().max_object_size);
      report(obj, p, ctx);
      for (const auto& m : p.modules) {
        if (m.raw.empty() || !ctx.can_add_child(obj)) continue;
        ChildSpec spec;
        std::string base = m.name.empty() ? std::string("module") : m.name;
        std::replace(base.begin(), base.end(), '/', '_');  // no fake path levels
        std::replace(base.begin(), base.end(), '\\', '_');
        spec.name = "VBA/" + base + ".bas";
        spec.type = tag::vba_source;
        spec.derived = true;
        spec.provenance = "VBA module source from " + (p.storage_path.empty() ? "/" : p.storage_path) +
                          " (code page " + std::to_string(p.codepage) + ")";
        ctx.add_child(obj, spec, m.text);
      }
    }
  }

 private:
  void report(const Object& obj, const ovba::Project& p, ScanContext& ctx) const {
    std::string all;
    std::vector<std::string_view> texts;
    std::string names;
    for (const auto& m : p.modules) {
      all += m.raw;
      texts.push_back(m.text);
      if (texts.size() <= 10) names += (names.empty() ? "" : ", ") + m.name;
      else if (texts.size() == 11) names += ", ...";
    }
    const vba::KeywordReport kw = vba::analyze_vba(texts);
    const std::string sha = sha256_hex(all);
    std::string d = "VBA project " + (p.storage_path.empty() ? std::string("/") : p.storage_path) + ", " +
                    std::to_string(p.modules.size()) + " module(s)" +
                    (names.empty() ? "" : " (" + names + ")");
    const std::string k = kw.detail();
    if (!k.empty()) d += "; " + k;
    const bool stomped = p.stomped();
    if (stomped) {
      d += "; stomped: p-code does not match the source";
      std::size_t shown = 0;
      for (const auto& m : p.modules)
        for (const auto& s : m.pcode_only)
          if (shown++ < 3) d += (shown == 1 ? " (p-code only: \"" : ", \"") + s + "\"";
      if (shown) d += ")";
    }
    std::size_t unreadable = 0;
    for (const auto& m : p.modules) unreadable += !m.source_complete;
    if (unreadable) d += "; " + std::to_string(unreadable) + " module source(s) unreadable";
    d += "; codepage " + std::to_string(p.codepage) + "; sha256 " + sha;

    std::optional<Verdict> verdict;
    if (kw.malicious() || stomped) verdict = Verdict::malicious;
    ctx.add_macro_project(obj, d, verdict, sha);
  }
};

}  // namespace

std::unique_ptr<Module> make_vba_module() { return std::make_unique<VbaExtractor>(); }

}  // namespace emogate
