// Equation Editor objects, the one place they are flagged: an OLE2 object
// with an "Equation Native" stream, wherever it sits (Word ObjectPool, OOXML
// embeddings, RTF objects), and an RTF object whose OLE1 class is
// Equation.3 (the RTF module passes the class as the child's declared
// type), whatever its data holds. Equation Editor was removed from Office
// in 2018 after CVE-2017-11882 and CVE-2018-0802; documents still carrying
// such objects are exploit carriers. One `embedded_file` finding per
// object: an RTF object flagged by its class is not flagged again for its
// stream.
// Trusted input: none (only names, class names and parent types are looked at).
#include <set>

#include "common/bytes.h"
#include "common/text.h"
#include "engine/context.h"
#include "engine/module.h"

namespace emogate {
namespace {

constexpr std::string_view kExploit = "the CVE-2017-11882 / CVE-2018-0802 exploit vector";

bool equation_stream(const Object& obj) {
  return obj.parent && obj.parent->type == tag::ole2 && ascii_lower(obj.name).ends_with("equation native");
}

bool equation_class(const Object& obj) {
  return obj.parent && obj.parent->type == tag::rtf && istarts_with(obj.declared_type, "equation.3");
}

// Paths of the objects flagged by their class in this scan.
struct FlaggedByClass {
  std::set<std::string> paths;
};

class EquationDetector : public Module {
 public:
  Phase phase() const override { return Phase::inspect; }
  std::string_view name() const override { return "equation_editor"; }
  std::vector<std::string> types() const override { return {tag::any}; }
  bool accepts(const Object& obj) const override { return equation_stream(obj) || equation_class(obj); }
  void run(const Object& obj, ScanContext& ctx) const override {
    auto& flagged = ctx.scratch<FlaggedByClass>().paths;
    if (equation_class(obj)) {
      flagged.insert(obj.path);
      ctx.add_finding(FindingType::embedded_file, obj,
                      "Equation Editor object (class " + obj.declared_type + ", " + std::to_string(obj.size()) +
                          " bytes), " + std::string(kExploit),
                      Verdict::malicious);
      return;
    }
    if (flagged.count(obj.parent->path)) return;
    ctx.add_finding(FindingType::embedded_file, *obj.parent,
                    "Equation Editor object (" + std::to_string(obj.size()) + " bytes), " + std::string(kExploit),
                    Verdict::malicious);
  }
};

}  // namespace

std::unique_ptr<Module> make_equation_module() { return std::make_unique<EquationDetector>(); }

}  // namespace emogate
