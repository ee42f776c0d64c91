// OLE2 module (type "ole2"): every stream of a compound file becomes a
// child named by its path inside the file ("Workbook", "Macros/VBA/Module1").
// Packaged files (\x01Ole10Native, the OLE1 "Package" object) are unwrapped
// into a child with `embedded_file` (and `malformed` when the package's size
// field lies); PowerPoint 97-2003 storages inside "PowerPoint Document"
// become "ole2" children (so the VBA module finds their macros); ZIP
// packages inside a stream (Office 2007+ themes) become children while the
// stream stays a binary record stream (formats/ole2/stream_content.h).
// Damage found on the way becomes one `malformed` finding.
// Trusted input: none. The reader bounds every chain; reads here are capped
// by max_object_size and the engine's byte budget.
#include <string>

#include "engine/context.h"
#include "engine/module.h"
#include "common/bytes.h"
#include "common/text.h"
#include "formats/xls/biff.h"
#include "engine/typing.h"
#include "formats/ole2/reader.h"
#include "formats/ole2/stream_content.h"

namespace emogate {

namespace {

class Ole2Extractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "ole2"; }
  std::vector<std::string> types() const override { return {tag::ole2}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    const ole2::Ole2File file = ole2::Ole2File::open(obj.bytes());
    std::vector<std::string> problems = file.problems();
    if (!file.ok()) {
      std::string d = "not a readable compound file";
      if (!problems.empty()) d += ": " + problems.front();
      ctx.add_finding(FindingType::malformed, obj, d);
      return;
    }
    auto note = [&](const std::string& where, const std::string& problem) {
      if (!problem.empty() && problems.size() < 40) problems.push_back(where + ": " + problem);
    };
    for (const auto& e : file.entries()) {
      if (e.type != ole2::EntryType::stream || e.size == 0) continue;
      if (ctx.expired() || !ctx.can_add_child(obj)) break;
      ChildSpec spec;
      spec.name = e.path;
      spec.provenance = "OLE2 stream";
      std::string problem;
      const bool parse = e.name == "\x01Ole10Native" || e.path == "PowerPoint Document";
      // One byte past max_object_size, so that the engine sees a stream that
      // is too large and reports the limit.
      const std::uint64_t cap = ctx.limits().max_object_size + 1;
      if (!parse && e.size > ctx.limits().max_object_memory) {
        // Large streams go straight into the child's writer, a run of
        // sectors at a time.
        ChildWriter w = ctx.begin_child(obj, std::move(spec));
        file.read_stream(e, cap, [&](std::string_view piece) { return w.write(piece); }, &problem);
        if (!w.stopped()) note(e.path, problem);  // a stop by a limit is reported by the engine
        ctx.commit(std::move(w));
        continue;
      }
      std::string bytes = file.read_stream(e, cap, &problem);
      note(e.path, problem);
      // A ZIP inside a document stream (Office 2007+ keeps its theme
      // package in Workbook, 1Table and PowerPoint Document) is part of the
      // document, not an archive behind a stub: the stream is typed as the
      // binary record stream it is, and the package is scanned on its own.
      const std::string sig = signature_type(bytes);
      if ((sig == tag::zip || sig == tag::ooxml) && !bytes.starts_with("PK")) {
        spec.type = tag::binary;
        embedded_packages(obj, e, bytes, ctx);
      }
      if (e.name == "\x01Ole10Native") unwrap_package(obj, e, bytes, ctx);
      if (e.path == "PowerPoint Document") ppt_storages(obj, bytes, ctx, note);
      ctx.add_child(obj, std::move(spec), Blob::from_string(std::move(bytes)));
    }
    if (!problems.empty()) {
      std::string d = "OLE2 v" + std::to_string(file.major_version()) + ": ";
      for (std::size_t i = 0; i < problems.size(); ++i) d += (i ? "; " : "") + problems[i];
      ctx.add_finding(FindingType::malformed, obj, d);
    }
  }

 private:
  // Inflating through a ChildWriter applies the engine's size/ratio limits.
  template <class Note>
  void ppt_storages(const Object& obj, std::string_view s, ScanContext& ctx, Note& note) const {
    int n = 0;
    for (const ole2::PptStorage& st : ole2::ppt_storages(s)) {
      if (ctx.expired()) break;
      if (!ctx.can_add_child(obj)) continue;
      ChildSpec spec;
      spec.name = "PowerPoint Document/ExOleObjStg" + std::to_string(++n);
      spec.provenance = "storage embedded in the PowerPoint Document stream";
      if (!st.compressed) ctx.add_child(obj, spec, st.data);
      if (!st.compressed || st.truncated) continue;
      spec.compressed_size = st.data.size() + 4;  // with its size field
      const std::string name = spec.name;
      ChildWriter w = ctx.begin_child(obj, std::move(spec));
      const bool intact =
          ole2::inflate_zlib(st.data, st.declared_size, [&w](std::string_view piece) { return w.write(piece); });
      ctx.commit(std::move(w));
      if (!intact) note(name, "zlib data damaged");
    }
  }

  // Each package a child named after the stream; the stream's bytes, which
  // YARA still sees, keep any package that could not be cut out.
  void embedded_packages(const Object& obj, const ole2::Entry& e, std::string_view stream,
                         ScanContext& ctx) const {
    auto add = [&](std::string name, std::string_view zip, std::string how) {
      if (!ctx.can_add_child(obj)) return;
      ChildSpec spec;
      spec.name = e.path + "/" + name;
      spec.provenance = "ZIP package embedded in the " + e.path + " stream" + how;
      ctx.add_child(obj, std::move(spec), zip);
    };
    const ole2::StreamPackages found = ole2::stream_packages(e.path, stream, ctx.limits().max_objects);
    if (!found.theme.empty()) add("theme.zip", found.theme, " (THEME record)");
    int n = 0;
    for (std::string_view zip : found.trailing) add("package" + std::to_string(++n) + ".zip", zip, "");
  }

  // A lying data size is reported; what the stream holds is unwrapped.
  void unwrap_package(const Object& obj, const ole2::Entry& e, std::string_view stream,
                      ScanContext& ctx) const {
    const auto native = ole2::ole10native(stream);
    if (!native) return;
    const rtf::Package& p = native->package;
    ctx.add_finding(FindingType::embedded_file, obj,
                    "OLE Package object " + e.path + " embeds '" + native->file + "' (" +
                        std::to_string(p.data.size()) + " bytes, source path '" + native->source + "')");
    if (p.truncated)
      ctx.add_finding(FindingType::malformed, obj,
                      "OLE Package object " + e.path + " declares " + std::to_string(p.declared_size) +
                          " bytes of data but holds " + std::to_string(p.data.size()));
    if (!ctx.can_add_child(obj)) return;
    ChildSpec spec;
    spec.name = native->file.empty() ? "package.bin" : native->file;
    spec.provenance = "OLE Package payload of " + e.path;
    spec.declared_size = p.declared_size;
    ctx.add_child(obj, spec, p.data);
  }
};

}  // namespace

std::unique_ptr<Module> make_ole2_module() { return std::make_unique<Ole2Extractor>(); }

}  // namespace emogate
