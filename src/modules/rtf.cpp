// RTF extractor: every \objdata object becomes a child (an OLE1 Package's
// file under its own name, other OLE1 objects' native data, usually an OLE2
// file, otherwise the raw payload), each with an `embedded_file` finding;
// linked objects with remote sources give `remote_template`; HYPERLINK and
// INCLUDEPICTURE targets go to the URL list. An object's OLE class is its
// child's declared type (Equation Editor objects are flagged by the
// equation module).
// Trusted input: none.
#include "formats/ooxml/relationships.h"
#include "engine/context.h"
#include "common/text.h"
#include "engine/module.h"
#include "formats/rtf/objects.h"

namespace emogate {
namespace {

class RtfExtractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "rtf"; }
  std::vector<std::string> types() const override { return {tag::rtf}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    std::string_view doc = obj.bytes();
    for (auto& url : rtf::field_urls(doc)) ctx.add_url(url);
    auto objects = rtf::objdata(doc, 256, std::size_t(ctx.limits().max_object_size));
    std::size_t n = 0;
    for (const auto& raw : objects) {
      ++n;
      if (raw.empty()) continue;
      if (!ctx.can_add_child(obj)) break;
      ChildSpec spec;
      spec.provenance = "RTF \\objdata #" + std::to_string(n);
      auto ole = rtf::parse_ole1(raw);
      if (!ole.ok) {
        spec.name = "object" + std::to_string(n) + ".bin";
        ctx.add_finding(FindingType::embedded_file, obj,
                        "RTF \\objdata #" + std::to_string(n) + " without OLE1 header (" +
                            std::to_string(raw.size()) + " bytes)");
        ctx.add_child(obj, std::move(spec), std::string_view(raw));
        continue;
      }
      if (ole.format == 1) {
        if (ooxml::remote_target(ole.topic)) {
          ctx.add_url(ole.topic);
          ctx.add_finding(FindingType::remote_template, obj,
                          "RTF linked OLE object (" + ole.class_name + ") loads " + ole.topic);
        }
        continue;
      }
      if (ole.native_truncated)
        ctx.add_finding(FindingType::malformed, obj,
                        "RTF \\objdata #" + std::to_string(n) + ": OLE1 native data size larger than the object");
      if (ole.native.empty()) continue;
      if (ole.class_name == "Package") {
        auto pkg = rtf::parse_package(ole.native);
        if (pkg.ok) {
          std::string file = base_name(pkg.label.empty() ? pkg.source_path : pkg.label);
          spec.name = file.empty() ? "package" + std::to_string(n) : file;
          spec.declared_type = "OLE Package";
          ctx.add_finding(FindingType::embedded_file, obj,
                          "RTF OLE Package '" + spec.name + "' (source path " + pkg.source_path +
                              ", " + std::to_string(pkg.data.size()) + " bytes)");
          if (pkg.truncated)
            ctx.add_finding(FindingType::malformed, obj,
                            "RTF OLE Package '" + spec.name + "' declares " + std::to_string(pkg.declared_size) +
                                " bytes of data but holds " + std::to_string(pkg.data.size()));
          spec.declared_size = pkg.declared_size;
          ctx.add_child(obj, std::move(spec), pkg.data);
          continue;
        }
      }
      spec.name = "object" + std::to_string(n) + ".bin";
      spec.declared_type = ole.class_name;
      // The class name goes with the child: an Equation Editor object is
      // judged by the equation module, like one in any other document.
      ctx.add_finding(FindingType::embedded_file, obj,
                      "RTF embedded OLE object #" + std::to_string(n) + ", class '" + ole.class_name + "' (" +
                          std::to_string(ole.native.size()) + " bytes)");
      ctx.add_child(obj, std::move(spec), ole.native);
    }
  }
};

}  // namespace

std::unique_ptr<Module> make_rtf_module() { return std::make_unique<RtfExtractor>(); }

}  // namespace emogate
