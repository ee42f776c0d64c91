// TNEF module (winmail.dat, application/ms-tnef): every attached file that
// formats/tnef reads becomes a child under its sanitized name; the
// message's compressed RTF body becomes "body.rtf" and its HTML body
// "body.html", since both carry exploits and embedded objects. A damaged
// attribute stream is reported as `malformed`.
// Trusted input: none. The RTF body is bounded by the object size limit
// while it is decompressed.
#include <string>
#include <string_view>
#include <vector>

#include "engine/context.h"
#include "engine/module.h"
#include "formats/archive/member_name.h"
#include "formats/tnef/parse.h"

namespace emogate {
namespace {

class TnefExtractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "tnef"; }
  std::vector<std::string> types() const override { return {tag::tnef}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    const tnef::Message m = tnef::parse(obj.bytes(), [&ctx] { return ctx.expired(); });
    if (!m.signature) {
      ctx.add_finding(FindingType::malformed, obj, "TNEF: no signature");
      return;
    }
    if (!m.problem.empty()) ctx.add_finding(FindingType::malformed, obj, "TNEF: " + m.problem);
    int index = 0;
    for (const auto& a : m.attachments) {
      ++index;
      if (a.data.empty()) continue;
      if (!ctx.can_add_child(obj)) return;
      MemberName name = sanitize_member_name(a.name, "attachment-" + std::to_string(index));
      if (!name.problem.empty())
        ctx.add_finding(FindingType::malformed, obj, "attachment name \"" + name.name + "\": " + name.problem);
      ChildSpec spec;
      spec.name = name.name;
      ctx.add_child(obj, std::move(spec), a.data);
    }
    add_bodies(obj, ctx, m);
  }

 private:
  static void add_bodies(const Object& obj, ScanContext& ctx, const tnef::Message& m) {
    if (m.rtf_compressed && ctx.can_add_child(obj)) {
      std::string body;
      if (tnef::decompress_rtf(*m.rtf_compressed, ctx.limits().max_object_size, body) && !body.empty()) {
        ChildSpec spec;
        spec.name = "body.rtf";
        spec.body = true;
        spec.compressed_size = m.rtf_compressed->size();
        ctx.add_child(obj, std::move(spec), body);
      }
    }
    if (m.html && !m.html->empty() && ctx.can_add_child(obj)) {
      ChildSpec spec;
      spec.name = "body.html";
      spec.body = true;
      ctx.add_child(obj, std::move(spec), *m.html);
    }
  }
};

}  // namespace

std::unique_ptr<Module> make_tnef_module() { return std::make_unique<TnefExtractor>(); }

}  // namespace emogate
