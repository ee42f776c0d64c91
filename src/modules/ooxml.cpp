// OOXML package analysis (type "ooxml"): external relationships Office
// fetches on open (remote templates, OLE links, frames) as
// `remote_template` and their URLs in the URL list; Excel 4.0 macro sheets
// (XML and .xlsb binary) with their visibility and auto-open names as
// `xlm_macro`; a VBA project the content types declare but the package
// does not hold as an OLE2 part as `vba_macro`. The parsing is
// formats/ooxml/package.h; the reads are bounded by [limits] ooxml_*.
// XXX The package is inflated here a second time: the ZIP module extracts
// the same parts as children, but only after this module has run (inspect
// before expand), and reading those children instead would move these
// findings to a later point of the walk and make them depend on the ZIP
// module's limits; both change what is reported.
// Trusted input: none.
#include <set>

#include "common/bytes.h"
#include "common/text.h"
#include "formats/xls/biff.h"
#include "engine/xlm_findings.h"
#include "formats/ooxml/relationships.h"
#include "formats/ooxml/xml_scan.h"
#include "engine/context.h"
#include "engine/module.h"
#include "engine/xlm_findings.h"
#include "formats/ooxml/package.h"

namespace emogate {
namespace {

class OoxmlDetector : public Module {
 public:
  Phase phase() const override { return Phase::inspect; }
  std::string_view name() const override { return "ooxml"; }
  std::vector<std::string> types() const override { return {tag::ooxml}; }
  void run(const Object& obj, ScanContext& ctx) const override;
};

void OoxmlDetector::run(const Object& obj, ScanContext& ctx) const {
  const Limits& lim = ctx.limits();
  const ooxml::PackageLimits limits{lim.ooxml_read_budget, lim.ooxml_max_part, lim.ooxml_max_xml_part,
                                    lim.ooxml_max_entries};
  const ooxml::Package pkg(obj.bytes(), limits);
  if (!pkg.ok()) return;  // the ZIP module reports broken archives
  const std::uint64_t cap = std::min<std::uint64_t>(lim.max_object_memory, limits.max_part);
  const auto expired = [&ctx] { return ctx.expired(); };

  const ooxml::Relationships rels = ooxml::read_relationships(pkg, cap, expired);
  std::set<std::string> reported;
  for (const auto& [part, r] : rels.external) {
    std::string low = ascii_lower(r.target);
    if (low.starts_with("http://") || low.starts_with("https://") || low.starts_with("ftp://"))
      ctx.add_url(r.target);
    if (ooxml::fetches_on_open(r.type, r.target) && reported.insert(r.type + "\n" + r.target).second)
      ctx.add_finding(FindingType::remote_template, obj,
                      r.type + " relationship (" + part + ") loads external " + r.target);
  }

  xlm::report(ctx, obj, obj, ooxml::macro_sheets(pkg, rels, cap, expired));
  // A VBA project declared in [Content_Types].xml is analysed by the OLE2 and
  // VBA modules when its part is an OLE2 file; a declared project whose part
  // is missing or is something else would otherwise pass unnoticed.
  for (const auto& [part, present] : ooxml::misdeclared_vba(pkg))
    ctx.add_finding(FindingType::vba_macro, obj,
                    "content types declare a VBA project at " + part +
                        (present ? " but the part is not an OLE2 file" : " but the part is missing"));
  if (pkg.exhausted())
    ctx.limit_hit(obj, "ooxml_read_budget",
                  "OOXML analysis read " + std::to_string(limits.read_budget >> 20) + " MB of parts and stopped");
}

}  // namespace

std::unique_ptr<Module> make_ooxml_module() { return std::make_unique<OoxmlDetector>(); }

}  // namespace emogate
