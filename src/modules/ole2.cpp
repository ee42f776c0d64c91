// OLE2 extractor (type "ole2"): every stream of a compound file becomes a
// child object named by its path inside the file ("Workbook",
// "Macros/VBA/Module1"), so YARA and the other modules see it. Packaged
// files (\x01Ole10Native streams, the OLE1 "Package" object Office uses to
// embed any file) are unwrapped into a child of their own with
// `embedded_file` (and `malformed` when the package's size field lies).
// PowerPoint 97-2003 keeps its VBA project and embedded OLE objects as
// (usually zlib-compressed) storages inside the "PowerPoint Document"
// stream (ExOleObjStg records, MS-PPT 2.10.34): each becomes an "ole2"
// child, so the VBA extractor finds the macros there. ZIP packages inside a
// stream (the theme Office 2007+ writes into Workbook, 1Table and
// PowerPoint Document) become children of their own; the stream stays a
// binary record stream. Damage found on the way (broken chains,
// truncation, loops) becomes one `malformed` finding.
// Input trusted: none. The reader bounds every chain; reads here are capped
// by max_object_size and the engine's byte budget.
#include <zlib.h>

#include <algorithm>

#include <string>

#include "engine/context.h"
#include "engine/module.h"
#include "common/bytes.h"
#include "common/text.h"
#include "formats/xls/biff.h"
#include "engine/typing.h"
#include "formats/ole2/reader.h"
#include "formats/rtf/objects.h"
#include "formats/zip/directory.h"

namespace emogate {

namespace {

// PowerPoint writes a theme package per master; more than this many ZIPs
// in one stream are left in the stream's bytes.
constexpr int kMaxStreamPackages = 16;

class Ole2Extractor : public Extractor {
 public:
  std::string_view name() const override { return "ole2"; }
  std::vector<std::string> types() const override { return {"ole2"}; }

  void extract(const Object& obj, ScanContext& ctx) const override {
    const ole2::Ole2File file = ole2::Ole2File::open(obj.bytes());
    std::vector<std::string> problems = file.problems();
    if (!file.ok()) {
      std::string d = "not a readable compound file";
      if (!problems.empty()) d += ": " + problems.front();
      ctx.add_finding(FindingType::malformed, obj, d);
      return;
    }
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
        // A stop by a limit is already reported by the engine.
        if (!problem.empty() && !w.stopped() && problems.size() < 40) problems.push_back(e.path + ": " + problem);
        ctx.commit(std::move(w));
        continue;
      }
      std::string bytes = file.read_stream(e, cap, &problem);
      if (!problem.empty() && problems.size() < 40) problems.push_back(e.path + ": " + problem);
      // A ZIP inside a document stream (Office 2007+ keeps its theme
      // package in Workbook, 1Table and PowerPoint Document) is part of the
      // document, not an archive behind a stub: the stream is typed as the
      // binary record stream it is, and the package is scanned on its own.
      const std::string sig = signature_type(bytes);
      if ((sig == "zip" || sig == "ooxml") && !bytes.starts_with("PK")) {
        spec.type = "binary";
        embedded_packages(obj, e, bytes, ctx);
      }
      if (e.name == "\x01Ole10Native") unwrap_package(obj, e, bytes, ctx);
      if (e.path == "PowerPoint Document") ppt_storages(obj, bytes, ctx, problems);
      ctx.add_child(obj, std::move(spec), Blob::from_string(std::move(bytes)));
    }
    if (!problems.empty()) {
      std::string d = "OLE2 v" + std::to_string(file.major_version()) + ": ";
      for (std::size_t i = 0; i < problems.size(); ++i) d += (i ? "; " : "") + problems[i];
      ctx.add_finding(FindingType::malformed, obj, d);
    }
  }

 private:
  // Top-level records: 8-byte header (version/instance, type, length).
  void ppt_storages(const Object& obj, std::string_view s, ScanContext& ctx,
                    std::vector<std::string>& problems) const {
    int n = 0;
    for (std::size_t pos = 0; pos + 8 <= s.size() && !ctx.expired();) {
      const unsigned ver_inst = le16(s, pos);
      const unsigned type = le16(s, pos + 2);
      const std::uint32_t len = le32(s, pos + 4);
      if (len > s.size() - pos - 8) break;
      const std::string_view body = s.substr(pos + 8, len);
      pos += 8 + static_cast<std::size_t>(len);
      if (type != 0x1011 || !ctx.can_add_child(obj)) continue;
      ChildSpec spec;
      spec.name = "PowerPoint Document/ExOleObjStg" + std::to_string(++n);
      spec.provenance = "storage embedded in the PowerPoint Document stream";
      if ((ver_inst >> 4) != 1) {  // instance 0: stored uncompressed
        ctx.add_child(obj, spec, body);
        continue;
      }
      if (body.size() < 4) continue;
      spec.compressed_size = body.size();
      if (!inflate_into(obj, body.substr(4), le32(body, 0), spec, ctx) && problems.size() < 40)
        problems.push_back(spec.name + ": zlib data damaged");
    }
  }

  // Inflates through a ChildWriter so the engine's size and ratio limits
  // apply while inflating. False when the zlib data is damaged.
  bool inflate_into(const Object& obj, std::string_view in, std::uint64_t expected, ChildSpec spec,
                    ScanContext& ctx) const {
    z_stream z{};
    if (inflateInit(&z) != Z_OK) return false;
    ChildWriter w = ctx.begin_child(obj, std::move(spec));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 0x7FFFFFFF));
    char buf[64 * 1024];
    int rc = Z_OK;
    while (rc == Z_OK && !w.stopped()) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_NO_FLUSH);
      const std::size_t got = sizeof buf - z.avail_out;
      if (got && !w.write(buf, got)) break;
      if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
    }
    inflateEnd(&z);
    ctx.commit(std::move(w));
    // Some writers end the zlib stream without its trailer; all the
    // announced bytes arriving is good enough.
    return rc == Z_STREAM_END || rc == Z_OK || z.total_out >= expected;
  }

  // The ZIP packages inside a document stream, each a child named after the
  // stream. BIFF splits a THEME record's package over ContinueFrt12 records,
  // so a workbook's theme is reassembled first; elsewhere each package is
  // found from its end record backwards (PowerPoint keeps one per master).
  // A package that cannot be cut out cleanly stays inside the stream's
  // bytes, which YARA still sees.
  void embedded_packages(const Object& obj, const ole2::Entry& e, std::string_view stream,
                         ScanContext& ctx) const {
    auto add = [&](std::string name, std::string_view zip, std::string how) {
      if (!ctx.can_add_child(obj)) return;
      ChildSpec spec;
      spec.name = e.path + "/" + name;
      spec.provenance = "ZIP package embedded in the " + e.path + " stream" + how;
      ctx.add_child(obj, std::move(spec), zip);
    };
    const std::string lower = ascii_lower(e.path);
    if (lower == "workbook" || lower == "book") {
      const std::string theme = xlm::theme_package(stream);
      if (!theme.empty()) {
        add("theme.zip", theme, " (THEME record)");
        return;
      }
    }
    std::string_view rest = stream;
    for (int n = 1; n <= kMaxStreamPackages && !rest.empty(); ++n) {
      const zip::Directory dir = zip::read_directory(rest, ctx.limits().max_objects);
      if (!dir.found || !dir.problems.empty() || dir.prefix >= rest.size()) return;
      const std::string_view zip = rest.substr(dir.prefix, rest.size() - dir.prefix - dir.trailing);
      if (!zip.starts_with("PK\x03\x04")) return;
      add("package" + std::to_string(n) + ".zip", zip, "");
      rest = rest.substr(0, dir.prefix);
    }
  }

  // \x01Ole10Native: a 4-byte total size (not trusted), then the OLE1
  // Package (rtf_objects.h, shared with RTF objects). A data size larger
  // than the stream is reported; what the stream holds is still unwrapped.
  void unwrap_package(const Object& obj, const ole2::Entry& e, std::string_view stream,
                      ScanContext& ctx) const {
    if (stream.size() < 4) return;
    const rtf::Package p = rtf::parse_package(stream.substr(4));
    if (!p.ok) return;
    const std::string source = p.source_path.empty() ? p.temp_path : p.source_path;
    std::string name = base_name(source.empty() ? p.label : source);
    ctx.add_finding(FindingType::embedded_file, obj,
                    "OLE Package object " + e.path + " embeds '" + name + "' (" +
                        std::to_string(p.data.size()) + " bytes, source path '" + source + "')");
    if (p.truncated)
      ctx.add_finding(FindingType::malformed, obj,
                      "OLE Package object " + e.path + " declares " + std::to_string(p.declared_size) +
                          " bytes of data but holds " + std::to_string(p.data.size()));
    if (!ctx.can_add_child(obj)) return;
    ChildSpec spec;
    spec.name = name.empty() ? "package.bin" : name;
    spec.provenance = "OLE Package payload of " + e.path;
    spec.declared_size = p.declared_size;
    ctx.add_child(obj, spec, p.data);
  }
};

}  // namespace

std::unique_ptr<Extractor> make_ole2_extractor() { return std::make_unique<Ole2Extractor>(); }

}  // namespace emogate
