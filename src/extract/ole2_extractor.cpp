// OLE2 extractor (type "ole2"): every stream of a compound file becomes a
// child object named by its path inside the file ("Workbook",
// "Macros/VBA/Module1"), so YARA and the other modules see it. Packaged
// files (\x01Ole10Native streams, the OLE1 "Package" object Office uses to
// embed any file) are unwrapped into a child of their own with
// `embedded_file`. PowerPoint 97-2003 keeps its VBA project and embedded
// OLE objects as (usually zlib-compressed) storages inside the "PowerPoint
// Document" stream (ExOleObjStg records, MS-PPT 2.10.34): each becomes an
// "ole2" child, so the VBA extractor finds the macros there. Damage found on the way (broken chains, truncation,
// loops) becomes one `malformed` finding.
// Input trusted: none. The reader bounds every chain; reads here are capped
// by max_object_size and the engine's byte budget.
#include <zlib.h>

#include <algorithm>

#include <string>

#include "engine/context.h"
#include "engine/module.h"
#include "extract/ole2_reader.h"

namespace emogate {

namespace {

std::uint32_t le32(std::string_view b, std::size_t off) {
  return static_cast<std::uint8_t>(b[off]) | static_cast<std::uint8_t>(b[off + 1]) << 8 |
         static_cast<std::uint8_t>(b[off + 2]) << 16 | static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[off + 3])) << 24;
}

// Reads a NUL-terminated ANSI string at pos (bounded); false when absent.
bool cstring(std::string_view b, std::size_t& pos, std::string& out) {
  std::size_t end = b.find('\0', pos);
  if (end == std::string_view::npos || end - pos > 1024) return false;
  out.assign(b.substr(pos, end - pos));
  pos = end + 1;
  return true;
}

struct Packaged {
  std::string label, source_path;
  std::string_view data;
};

// OLE1 Package in \x01Ole10Native: size, type 2, label, source path,
// two reserved words, temp path, data size, data.
bool parse_ole10native(std::string_view s, Packaged& out) {
  std::size_t pos = 4 + 2;
  if (s.size() < pos) return false;
  std::string temp;
  if (!cstring(s, pos, out.label) || !cstring(s, pos, out.source_path)) return false;
  pos += 4;  // reserved words
  if (pos + 4 > s.size()) return false;
  pos += 4;  // length of the temp path (which follows, NUL-terminated)
  if (!cstring(s, pos, temp) || pos + 4 > s.size()) return false;
  std::uint32_t n = le32(s, pos);
  pos += 4;
  if (n > s.size() - pos) return false;
  out.data = s.substr(pos, n);
  if (out.source_path.empty()) out.source_path = temp;
  return true;
}

std::string base_name(const std::string& path) {
  std::size_t slash = path.find_last_of("\\/");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

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
      // Streams we parse further are read whole; the rest go straight into
      // the child's writer, a run of sectors at a time.
      const bool parse = e.name == "\x01Ole10Native" || e.path == "PowerPoint Document";
      std::string problem, bytes;
      ChildSpec spec;
      spec.name = e.path;
      spec.provenance = "OLE2 stream";
      ChildWriter w = ctx.begin_child(obj, std::move(spec));
      file.read_stream(e, ctx.limits().max_object_size,
                       [&](std::string_view piece) {
                         if (parse) bytes.append(piece);
                         return w.write(piece) || parse;
                       },
                       &problem);
      // A stop by a limit is already reported by the engine.
      if (!problem.empty() && !w.stopped() && problems.size() < 40) problems.push_back(e.path + ": " + problem);
      ctx.commit(std::move(w));
      if (e.name == "\x01Ole10Native") unwrap_package(obj, e, bytes, ctx);
      if (e.path == "PowerPoint Document") ppt_storages(obj, bytes, ctx, problems);
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
      const unsigned ver_inst = static_cast<std::uint8_t>(s[pos]) | static_cast<std::uint8_t>(s[pos + 1]) << 8;
      const unsigned type = static_cast<std::uint8_t>(s[pos + 2]) | static_cast<std::uint8_t>(s[pos + 3]) << 8;
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

  void unwrap_package(const Object& obj, const ole2::Entry& e, std::string_view stream,
                      ScanContext& ctx) const {
    Packaged p;
    if (!parse_ole10native(stream, p)) return;
    std::string name = base_name(p.source_path.empty() ? p.label : p.source_path);
    ctx.add_finding(FindingType::embedded_file, obj,
                    "OLE Package object " + e.path + " embeds '" + name + "' (" +
                        std::to_string(p.data.size()) + " bytes, source path '" + p.source_path + "')");
    if (!ctx.can_add_child(obj)) return;
    ChildSpec spec;
    spec.name = name.empty() ? "package.bin" : name;
    spec.provenance = "OLE Package payload of " + e.path;
    ctx.add_child(obj, spec, p.data);
  }
};

}  // namespace

std::unique_ptr<Extractor> make_ole2_extractor() { return std::make_unique<Ole2Extractor>(); }

}  // namespace emogate
