// Shortcut detector: the only module handling type "lnk". A shortcut in mail
// is dangerous by itself (`dangerous_type` with target and command line); one
// starting an interpreter with arguments is malicious. The command line also
// becomes a derived text child so YARA and URL extraction read it.
// Trusted input: none.
#include "formats/lnk/parse.h"
#include "engine/context.h"
#include "engine/module.h"

namespace emogate {
namespace {

class LnkDetector : public Module {
 public:
  Phase phase() const override { return Phase::inspect; }
  std::string_view name() const override { return "lnk"; }
  std::vector<std::string> types() const override { return {tag::lnk}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    auto s = lnk::parse(obj.bytes());
    if (!s.ok) {
      ctx.add_finding(FindingType::dangerous_type, obj, "shortcut (header unreadable)");
      return;
    }
    std::string cmd = s.target();
    if (!s.arguments.empty()) cmd += " " + s.arguments;
    std::string detail = "shortcut: " + (cmd.empty() ? std::string("(no target)") : cmd);
    if (detail.size() > 1024) detail = detail.substr(0, 1024) + "...";
    if (s.show_command == 7) detail += " (runs minimised)";
    if (!s.icon_location.empty()) detail += "; icon " + s.icon_location;
    std::optional<Verdict> v;
    if (lnk::runs_interpreter(s)) v = Verdict::malicious;
    ctx.add_finding(FindingType::dangerous_type, obj, detail, v);
    if (s.truncated) ctx.add_finding(FindingType::malformed, obj, "shortcut structure truncated");
    if (!ctx.can_add_child(obj)) return;
    std::string text = "target: " + s.target() + "\narguments: " + s.arguments +
                       "\nworking directory: " + s.working_dir + "\nname: " + s.name +
                       "\nicon: " + s.icon_location + "\n";
    ChildSpec spec;
    spec.name = "shortcut.txt";
    spec.type = tag::text;
    spec.derived = true;
    spec.provenance = "shortcut target and command line";
    ctx.add_child(obj, std::move(spec), std::string_view(text));
  }
};

}  // namespace

std::unique_ptr<Module> make_lnk_module() { return std::make_unique<LnkDetector>(); }

}  // namespace emogate
