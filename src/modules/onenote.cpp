// OneNote extractor: every embedded file (FileDataStoreObject) becomes a
// child typed by its content, with an `embedded_file` finding naming it, so
// that an embedded script or executable meets the type detector.
// Trusted input: none.
#include "engine/context.h"
#include "engine/module.h"
#include "formats/onenote/blobs.h"

namespace emogate {
namespace {

class OneNoteExtractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "onenote"; }
  std::vector<std::string> types() const override { return {tag::onenote}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    auto blobs = onenote::file_blobs(obj.bytes());
    if (blobs.empty()) return;
    auto names = onenote::pair_names(blobs, onenote::file_names(obj.bytes()));
    for (std::size_t i = 0; i < blobs.size(); ++i) {
      if (!ctx.can_add_child(obj)) break;
      ChildSpec spec;
      spec.name = names[i].empty() ? "file" + std::to_string(i + 1) : names[i];
      spec.provenance = "OneNote FileDataStoreObject #" + std::to_string(i + 1);
      if (!onenote::is_picture(blobs[i]))  // pasted pictures are ordinary
        ctx.add_finding(FindingType::embedded_file, obj,
                      "OneNote embedded file '" + spec.name + "' (" +
                          std::to_string(blobs[i].size()) + " bytes)");
      ctx.add_child(obj, std::move(spec), blobs[i]);
    }
  }
};

}  // namespace

std::unique_ptr<Module> make_onenote_module() { return std::make_unique<OneNoteExtractor>(); }

}  // namespace emogate
