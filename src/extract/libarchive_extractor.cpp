// libarchive walker: gzip, bzip2, xz, tar, 7z, RAR 4/5, CAB, LZH/LHA,
// ISO 9660 (and UDF images that carry an ISO 9660 bridge). Each regular
// entry is streamed into a child; the engine's limits stop bombs while they
// inflate. Trusted input: none. libarchive parses; we never trust a size it
// reports and never allocate from one.
#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "engine/context.h"
#include "engine/module.h"
#include "engine/text_util.h"
#include "extract/child_stream.h"
#include "extract/member_name.h"

namespace emogate {
namespace {

bool single_stream(const Object& obj) {
  return obj.type == "gzip" || obj.type == "bzip2" || obj.type == "xz";
}

// "report.doc.gz" -> "report.doc": the name a decompressor would give.
std::string stream_name(const Object& obj) {
  std::string n = obj.name;
  if (auto slash = n.find_last_of('/'); slash != std::string::npos) n = n.substr(slash + 1);
  auto dot = n.find_last_of('.');
  if (dot == std::string::npos || dot == 0) return "data";
  std::string ext = ascii_lower(n.substr(dot + 1));
  if (ext == "tgz" || ext == "tbz" || ext == "txz") return n.substr(0, dot) + ".tar";
  return n.substr(0, dot);
}

std::string error_text(archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown libarchive error";
}

bool mentions_encryption(archive* a) {
  return archive_read_has_encrypted_entries(a) > 0 || error_text(a).find("ncrypt") != std::string::npos;
}

class LibarchiveExtractor : public Extractor {
 public:
  std::string_view name() const override { return "libarchive"; }
  std::vector<std::string> types() const override {
    return {"gzip", "bzip2", "xz", "tar", "7z", "rar", "cab", "lzh", "iso", "udf"};
  }
  void extract(const Object& obj, ScanContext& ctx) const override;
};

}  // namespace

void LibarchiveExtractor::extract(const Object& obj, ScanContext& ctx) const {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  // A bare compressed stream is one file; the raw format reads it when the
  // decompressed bytes are not themselves a tar or other archive.
  if (single_stream(obj)) archive_read_support_format_raw(a.get());
  std::string_view bytes = obj.bytes();
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    ctx.add_finding(FindingType::malformed, obj, "unreadable " + obj.type + ": " + error_text(a.get()));
    return;
  }
  std::vector<std::string> locked;  // encrypted entries: "name (N bytes)"
  std::uint64_t index = 0;
  for (;;) {
    if (ctx.expired()) break;
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      if (mentions_encryption(a.get()))
        locked.push_back("(encrypted directory: names hidden)");
      else
        ctx.add_finding(FindingType::malformed, obj,
                        obj.type + " entry " + std::to_string(index + 1) + ": " + error_text(a.get()));
      if (rc == ARCHIVE_FATAL || !entry) break;
      continue;
    }
    ++index;
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    const char* raw = archive_entry_pathname_utf8(entry);
    if (!raw) raw = archive_entry_pathname(entry);
    std::string fallback = "entry-" + std::to_string(index);
    MemberName name = sanitize_member_name(raw ? raw : "", fallback);
    if (!name.problem.empty())
      ctx.add_finding(FindingType::malformed, obj, "member name \"" + name.name + "\": " + name.problem);
    if (archive_entry_is_encrypted(entry)) {
      std::string size = archive_entry_size_is_set(entry) ? std::to_string(archive_entry_size(entry)) : "?";
      locked.push_back(name.name + " (" + size + " bytes)");
      continue;
    }
    if (!ctx.can_add_child(obj)) break;
    ChildSpec spec;
    spec.name = archive_format(a.get()) == ARCHIVE_FORMAT_RAW ? stream_name(obj) : name.name;
    // Solid and stream formats have no per-entry compressed size: the whole
    // container is the most input any entry can have come from.
    spec.compressed_size = bytes.size();
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0)
      spec.declared_size = static_cast<std::uint64_t>(archive_entry_size(entry));
    StreamResult r = stream_child(ctx, obj, std::move(spec), [&](char* buf, std::size_t cap) -> long long {
      return archive_read_data(a.get(), buf, cap);
    });
    if (r == StreamResult::read_error) {
      if (mentions_encryption(a.get())) {
        locked.push_back(name.name + " (unreadable: " + error_text(a.get()) + ")");
      } else {
        ctx.add_finding(FindingType::malformed, obj, "entry \"" + name.name + "\": " + error_text(a.get()));
      }
      if (archive_errno(a.get()) != 0 && archive_read_data_skip(a.get()) == ARCHIVE_FATAL) break;
    }
  }
  if (!locked.empty()) {
    std::string detail = std::to_string(locked.size()) + " encrypted " + obj.type + " entr" +
                         (locked.size() == 1 ? "y" : "ies") + ": ";
    for (std::size_t i = 0; i < locked.size() && i < 20; ++i) detail += (i ? ", " : "") + locked[i];
    if (locked.size() > 20) detail += ", ...";
    ctx.add_finding(FindingType::encrypted_archive, obj, detail);
  }
}

std::unique_ptr<Extractor> make_libarchive_extractor() { return std::make_unique<LibarchiveExtractor>(); }

}  // namespace emogate
