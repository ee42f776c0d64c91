// libarchive walker: single-stream compressors (gzip, bzip2, xz, zstd, lz4,
// lzip, compress), tar, 7z, RAR 4/5, CAB, LZH/LHA, ISO 9660 (and UDF images
// that carry an ISO 9660 bridge). Every entry that carries data becomes a
// child, whatever its type (FIFO, device, socket, unknown: Windows
// extractors write them as plain files), and an odd type is reported as
// malformed; links are reported with their target and not followed.
// Trusted input: none. libarchive parses; we never trust a size it
// reports and never allocate from one.
//
// Names. The walk runs under a thread-local C.UTF-8 LC_CTYPE
// (formats/archive/utf8_ctype.h), which makes libarchive's Unicode names
// UTF-8 and leaves the byte names raw; decode_member_name then keeps valid
// UTF-8 and reads the rest as CP932. The "hdrcharset" option is used for LZH only:
// libarchive's LHa reader converts every name to a wide string, so raw CP932
// bytes cannot pass through under a UTF-8 locale; LZH is a DOS/Windows
// format whose byte names are CP932 in practice (its Unicode names, in the
// UTF-16 extension, are converted regardless). Elsewhere the option would
// force one charset on every archive of the format (a UTF-8 tar read as
// CP932) and does nothing for formats that store Unicode.
// XXX an LZH level 0/1 name written as UTF-8 (LHa for UNIX in a UTF-8
// locale) comes out as CP932 mojibake; its ASCII, and so its extension, is
// kept.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>

#include "engine/context.h"
#include "engine/module.h"
#include "engine/child_stream.h"
#include "formats/archive/entries.h"
#include "formats/archive/member_name.h"
#include "formats/archive/rar5_headers.h"
#include "formats/archive/utf8_ctype.h"

namespace emogate {
namespace {

// The filter each single-stream type is decompressed with. Only that one
// filter is enabled, so the content is not re-read as some other encoding
// (uuencode, RPM) on the way.
int (*stream_filter(std::string_view type))(archive*) {
  if (type == tag::gzip) return archive_read_support_filter_gzip;
  if (type == tag::bzip2) return archive_read_support_filter_bzip2;
  if (type == tag::xz) return archive_read_support_filter_xz;
  if (type == tag::zstd) return archive_read_support_filter_zstd;
  if (type == tag::lz4) return archive_read_support_filter_lz4;
  if (type == tag::lzip) return archive_read_support_filter_lzip;
  if (type == tag::compress) return archive_read_support_filter_compress;
  return nullptr;
}

std::string error_text(archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown libarchive error";
}

bool mentions_encryption(archive* a) {
  return archive_read_has_encrypted_entries(a) > 0 || error_text(a).find("ncrypt") != std::string::npos;
}

class LibarchiveExtractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "libarchive"; }
  std::vector<std::string> types() const override {
    return types_opened_by(name());
  }
  void run(const Object& obj, ScanContext& ctx) const override;
};

struct Walk {
  const Object& obj;
  ScanContext& ctx;
  archive* a;
  std::string_view bytes;
  std::vector<std::string> locked;  // encrypted entries: "name (N bytes)"
  std::set<std::string> rar5_locked;  // raw names the RAR 5 headers mark encrypted
  std::uint64_t index = 0;

  void entry_error(const std::string& what) {
    ctx.add_finding(FindingType::malformed, obj, obj.type + " entry " + std::to_string(index) + ": " + what);
  }

  // One entry; returns false when the walk must stop.
  bool entry(archive_entry* e) {
    const bool raw_format = archive_format(a) == ARCHIVE_FORMAT_RAW;
    const char* raw = archive_entry_pathname(e);  // UTF-8 from Unicode fields, else the stored bytes
    if (!raw) raw = archive_entry_pathname_utf8(e);
    std::string raw_name = raw ? raw : "";
    MemberName name = decode_member_name(raw_name, "entry-" + std::to_string(index));
    if (raw_format) name = MemberName{stream_name(obj.name), {}, false};
    else if (raw_name.empty()) name.problem = "no readable name (" + error_text(a) + ")";
    if (!name.problem.empty())
      ctx.add_finding(FindingType::malformed, obj, "member name \"" + name.name + "\": " + name.problem);

    const unsigned type = archive_entry_filetype(e);
    const bool has_size = archive_entry_size_is_set(e) && archive_entry_size(e) > 0;
    const char* hardlink = archive_entry_hardlink(e);
    if (type == AE_IFLNK || hardlink) {
      const char* t = type == AE_IFLNK ? archive_entry_symlink(e) : hardlink;
      const std::string target = link_target_text(t ? t : "");
      std::string kind = type == AE_IFLNK ? "symbolic link" : "hard link";
      // Not followed. A link that stays inside the archive is reported for
      // the record; one that leaves it is how extraction escapes a folder.
      const bool out = link_escapes(t ? t : "");
      ctx.add_finding(FindingType::malformed, obj,
                      "entry \"" + name.name + "\" is a " + kind + " to \"" + target + "\"" +
                          (out ? " outside the archive; not followed" : "; not followed"),
                      out ? std::nullopt : std::optional<Verdict>(Verdict::clean));
      if (type == AE_IFLNK || !has_size) return true;
    }
    // Directories: ISO 9660 gives them a size (their extent) but no data; one
    // whose read returns bytes carries data after all.
    std::string first;
    if (type == AE_IFDIR) {
      if (!has_size) return true;
      first.resize(64 * 1024);
      la_ssize_t got = archive_read_data(a, first.data(), first.size());
      if (got <= 0) return true;
      first.resize(static_cast<std::size_t>(got));
    }
    const bool odd_type = type != AE_IFREG && type != AE_IFDIR && !raw_format;
    if (odd_type) {
      ctx.add_finding(FindingType::malformed, obj,
                      "entry \"" + name.name + "\" is " + odd_type_text(type, archive_entry_mode(e)) +
                          ", not a regular file; Windows extractors write it as a file, so its data is analysed");
    } else if (type == AE_IFDIR) {
      ctx.add_finding(FindingType::malformed, obj,
                      "entry \"" + name.name + "\" is a directory that carries data; its data is analysed");
    }
    // A device or FIFO that declares no data (tar stores none) is reported
    // above and has nothing to scan; one of unknown size is read.
    if (odd_type && archive_entry_size_is_set(e) && archive_entry_size(e) == 0) return true;
    if (archive_entry_is_encrypted(e) || rar5_locked.count(raw_name)) {
      rar5_locked.erase(raw_name);
      std::string size = archive_entry_size_is_set(e) ? std::to_string(archive_entry_size(e)) : "?";
      locked.push_back(name.name + " (" + size + " bytes)");
      return true;
    }
    if (!ctx.can_add_child(obj)) return false;
    ChildSpec spec;
    spec.name = name.name;
    // Solid and stream formats have no per-entry compressed size: the whole
    // container is the most input any entry can have come from.
    spec.compressed_size = bytes.size();
    if (has_size) spec.declared_size = static_cast<std::uint64_t>(archive_entry_size(e));
    StreamResult r = stream_child(ctx, obj, std::move(spec), [&](char* buf, std::size_t cap) -> long long {
      if (!first.empty()) {  // a directory's bytes read above
        std::size_t n = std::min(cap, first.size());
        std::memcpy(buf, first.data(), n);
        first.erase(0, n);
        return static_cast<long long>(n);
      }
      return archive_read_data(a, buf, cap);
    });
    if (r == StreamResult::read_error) {
      // After a data error libarchive's reader state is not to be trusted:
      // skipping to the next entry crashed inside libarchive's CAB reader
      // under fuzzing. The walk stops here, and the finding says so.
      if (mentions_encryption(a)) locked.push_back(name.name + " (unreadable: " + error_text(a) + ")");
      ctx.add_finding(FindingType::malformed, obj,
                      "entry \"" + name.name + "\": " + error_text(a) + "; the entries after it are not read");
      return false;
    }
    return true;
  }

  void run() {
    for (;;) {
      if (ctx.expired()) break;
      archive_entry* e = nullptr;
      int rc = archive_read_next_header(a, &e);
      if (rc == ARCHIVE_EOF) break;
      ++index;
      if (rc < ARCHIVE_WARN) {
        if (mentions_encryption(a)) locked.push_back("(encrypted directory: names hidden)");
        else entry_error(error_text(a));
        if (rc == ARCHIVE_FATAL || !e) break;
        continue;
      }
      // A warning that is not about a name (names are decoded and judged
      // below) says libarchive read the entry differently from its header.
      if (rc == ARCHIVE_WARN && error_text(a).find("cannot be converted") == std::string::npos)
        entry_error("warning: " + error_text(a));
      if (!entry(e)) break;
    }
  }

  void report_locks() {
    // Encrypted members libarchive stopped before reaching.
    for (const std::string& raw : rar5_locked)
      locked.push_back(decode_member_name(raw, "entry").name + " (encrypted, per the RAR 5 file header)");
    if (locked.empty()) return;
    ctx.add_finding(FindingType::encrypted_archive, obj, locked_summary(obj.type, locked));
  }
};

}  // namespace

void LibarchiveExtractor::run(const Object& obj, ScanContext& ctx) const {
  Utf8Ctype utf8_names;
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  std::string_view bytes = obj.bytes();
  Walk walk{obj, ctx, a.get(), bytes, {}, {}, 0};
  if (auto filter = stream_filter(obj.type)) {
    // A bare compressed stream is one object: its content becomes one child,
    // typed like any other (a tar inside is then walked as a tar). Letting
    // libarchive guess the format of the content instead lost content
    // starting with a 512-byte zero block, which the tar reader takes for
    // an empty archive.
    filter(a.get());
    archive_read_support_format_raw(a.get());
  } else if (obj.type == tag::iso || obj.type == tag::udf) {
    // Disk images: the ISO 9660 reader alone. It reads the ISO side of a UDF
    // bridge image; libarchive has no UDF reader, so a pure UDF image is
    // unreadable here, not (as the tar reader took its zero first sector)
    // an empty archive.
    archive_read_support_format_iso9660(a.get());
  } else {
    archive_read_support_filter_all(a.get());
    archive_read_support_format_all(a.get());
    if (obj.type == tag::lzh) archive_read_set_format_option(a.get(), "lha", "hdrcharset", "CP932");
  }
  if (obj.type == tag::rar) {
    rar5::EncryptionInfo info = rar5::read_encryption(bytes, ctx.limits().max_objects);
    if (info.headers_encrypted) walk.locked.push_back("(encrypted headers: names hidden)");
    for (auto& m : info.members) walk.rar5_locked.insert(std::move(m.raw_name));
    if (info.headers_encrypted) {
      walk.report_locks();
      return;
    }
  }
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    ctx.add_finding(FindingType::malformed, obj, "unreadable " + obj.type + ": " + error_text(a.get()));
    walk.report_locks();
    return;
  }
  walk.run();
  walk.report_locks();
}

std::unique_ptr<Module> make_libarchive_module() { return std::make_unique<LibarchiveExtractor>(); }

}  // namespace emogate
