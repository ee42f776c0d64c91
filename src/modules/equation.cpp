// Equation Editor objects: an OLE2 object with an "Equation Native" stream,
// wherever it sits (Word ObjectPool, OOXML embeddings, RTF objects). Equation
// Editor was removed from Office in 2018 after CVE-2017-11882 and
// CVE-2018-0802; documents still carrying such objects are exploit carriers.
// Input trusted: none (only the stream's name and parent type are looked at).
#include "common/text.h"
#include "engine/context.h"
#include "engine/module.h"

namespace emogate {
namespace {

class EquationDetector : public Detector {
 public:
  std::string_view name() const override { return "equation_editor"; }
  std::vector<std::string> types() const override { return {"*"}; }
  bool accepts(const Object& obj) const override {
    return obj.parent && obj.parent->type == "ole2" &&
           ascii_lower(obj.name).ends_with("equation native");
  }
  void detect(const Object& obj, ScanContext& ctx) const override {
    ctx.add_finding(FindingType::embedded_file, *obj.parent,
                    "Equation Editor object (" + std::to_string(obj.size()) +
                        " bytes), the CVE-2017-11882 / CVE-2018-0802 exploit vector",
                    Verdict::malicious);
  }
};

}  // namespace

std::unique_ptr<Detector> make_equation_detector() { return std::make_unique<EquationDetector>(); }

}  // namespace emogate
