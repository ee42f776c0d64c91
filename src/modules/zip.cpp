// ZIP extractor (types "zip" and "ooxml"). Our own central-directory reader
// (formats/zip/directory.h) checks the structure first: overlapping entries (zip
// bombs), truncated directories, data after the end record, hostile names.
// libzip then streams each member into a child, so the engine's size, ratio
// and time limits apply while inflating. A plain member whose declared size
// is within the memory and ratio limits is inflated whole by libdeflate
// instead (faster than zlib, with a hardware CRC; see the README); anything
// that disagrees with its declaration goes back to libzip's stream, which
// enforces every limit as it goes. Encrypted members (ZipCrypto,
// WinZip AES) are opened with passwords mined from the message text, each
// candidate screened by the fast checks in formats/zip/password.h (the
// search itself: formats/zip/password_search.h) before libzip
// decrypts for real. Opened members give archive_decrypted (which password,
// from where); members no candidate opens give encrypted_archive.
// Trusted input: none.
#include <zip.h>

#include <algorithm>
#include <memory>
#include <string>

#include "engine/context.h"
#include "engine/module.h"
#include "engine/child_stream.h"
#include "formats/archive/member_name.h"
#include "engine/passwords.h"
#include "common/text.h"
#include "formats/zip/check_data.h"
#include "formats/zip/directory.h"
#include "formats/zip/members.h"
#include "formats/zip/password_search.h"
#include "formats/passwords/ppap_blob.h"

namespace emogate {

namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipFile = std::unique_ptr<zip_file_t, ZipFileCloser>;

// The structure problems our directory reader saw, as findings.
bool report_structure(const Object& obj, ScanContext& ctx, const zip::Directory& dir) {
  if (!dir.found) {
    ctx.add_finding(FindingType::malformed, obj, "ZIP without an end of central directory record");
    return false;
  }
  const std::string problems = zip::structure_problems(dir);
  if (!problems.empty()) ctx.add_finding(FindingType::malformed, obj, "ZIP structure: " + problems);
  if (dir.overlapping > 0)
    ctx.limit_hit(obj, "overlapping_entries",
                  std::to_string(dir.overlapping) + " entries reuse another entry's data (zip bomb layout), " +
                      dir.overlap_example + "; those entries are not extracted");
  if (dir.capped)
    ctx.limit_hit(obj, "max_objects",
                  "archive declares " + std::to_string(dir.declared_entries) + " entries; only the first " +
                      std::to_string(dir.entries.size()) + " are read");
  return true;
}

// An archive whose bytes equal an ancestor's contains itself (a quine).
bool is_quine(const Object& obj) {
  for (const Object* p = obj.parent; p; p = p->parent)
    if (!p->sha256.empty() && p->sha256 == obj.sha256) return true;
  return false;
}

class ZipExtractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "zip"; }
  std::vector<std::string> types() const override { return {tag::zip, tag::ooxml}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    if (is_quine(obj)) {
      ctx.limit_hit(obj, "max_depth", "archive contains itself (recursive quine); not extracted again");
      return;
    }
    std::string_view bytes = obj.bytes();
    zip::Directory dir = zip::read_directory(bytes, ctx.limits().max_objects);
    if (!report_structure(obj, ctx, dir)) return;

    zip_error_t err;
    zip_error_init(&err);
    // A ZIP with bytes in front of it (junk, a script) opens in every unzip
    // tool; libzip wants the archive to start at offset 0, so it gets the
    // bytes from where the archive begins. Our directory's offsets stay
    // absolute in `bytes`.
    const std::uint64_t start = std::min<std::uint64_t>(dir.prefix, bytes.size());
    zip_source_t* src = zip_source_buffer_create(bytes.data() + start, bytes.size() - start, 0, &err);
    if (!src) {
      ctx.scan_incomplete(obj.path, "memory", std::string("ZIP not opened: ") + zip_error_strerror(&err));
      zip_error_fini(&err);
      return;
    }
    std::unique_ptr<zip_t, ZipCloser> za(zip_open_from_source(src, ZIP_RDONLY, &err));
    if (!za) {
      ctx.add_finding(FindingType::malformed, obj, std::string("ZIP cannot be opened: ") + zip_error_strerror(&err));
      zip_source_free(src);
      zip_error_fini(&err);
      return;
    }
    zip_error_fini(&err);
    Walk walk{obj, ctx, za.get(), bytes, dir, {}, {}, 0, 0};
    walk.run();
  }

 private:
  struct Walk {
    const Object& obj;
    ScanContext& ctx;
    zip_t* za;
    std::string_view bytes;
    const zip::Directory& dir;
    std::vector<std::string> locked;  // "name (size bytes, cipher)"
    zip::PasswordSearch passwords;
    std::size_t checkable_recorded = 0, uncheckable_recorded = 0;

    void run() {
      std::uint64_t n = std::min<std::uint64_t>(static_cast<std::uint64_t>(std::max<zip_int64_t>(
                                                    zip_get_num_entries(za, 0), 0)),
                                                dir.entries.size());
      for (std::uint64_t i = 0; i < n && !ctx.expired(); ++i)
        if (!member(i)) break;
      report_locks();
    }

    std::string member_name(std::uint64_t i, const zip::Entry& e) {
      std::string utf8 = e.utf8_name() ? e.name : legacy_name_to_utf8(e.name);
      if (utf8.empty()) {
        const char* guess = zip_get_name(za, i, 0);  // libzip's CP437 reading
        utf8 = guess ? guess : "";
      }
      MemberName m = sanitize_member_name(utf8, "member-" + std::to_string(i + 1));
      if (!m.problem.empty())
        ctx.add_finding(FindingType::malformed, obj, "member name \"" + m.name + "\": " + m.problem);
      return m.name;
    }

    // Returns false when no further member can be added.
    bool member(std::uint64_t i) {
      const zip::Entry& e = dir.entries[i];
      // Our reader and libzip must agree on which entry is which, or the
      // offsets used for the password checks would belong to another member.
      const char* libzip_name = zip_get_name(za, i, ZIP_FL_ENC_RAW);
      if (!libzip_name || zip::libzip_raw_name(e) != libzip_name) {
        ctx.add_finding(FindingType::malformed, obj,
                        "central directory entry " + std::to_string(i + 1) + " reads differently in libzip");
        return false;
      }
      if (zip::is_folder_entry(e)) {
        if (e.compressed_size == 0 && e.uncompressed_size == 0) return true;
        // Unzip tools create a folder and drop the data; the data is still
        // scanned, under the name without its slash.
        ctx.add_finding(FindingType::malformed, obj,
                        "directory entry \"" + e.name + "\" carries " + std::to_string(e.uncompressed_size) + " bytes");
      }
      if (e.overlaps) return true;  // reported once as overlapping_entries
      std::string name = member_name(i, e);
      if (!ctx.can_add_child(obj)) return false;
      ChildSpec spec;
      spec.name = name;
      spec.compressed_size = e.real_method() == 0 ? 0 : e.compressed_size;
      spec.declared_size = e.uncompressed_size;
      // Ask libzip first: opening a member whose method it cannot handle
      // fails (and, in libzip 1.7, leaks), so such members are only listed.
      zip_stat_t st;
      zip_stat_init(&st);
      if (zip_stat_index(za, i, 0, &st) != 0 ||
          !zip_compression_method_supported(static_cast<zip_int32_t>(st.comp_method), 0)) {
        // Encrypted with a method we cannot decompress (WinZip AES over
        // LZMA, PPMd, XZ, Zstandard): its content stays locked to us, which
        // is what encrypted_archive says.
        if (e.encrypted()) {
          locked.push_back(name + " (" + std::to_string(e.uncompressed_size) + " bytes, " + zip::cipher_name(e) +
                           ", compression method " + std::to_string(e.real_method()) + " not supported)");
          record_locked(name, nullptr);
        }
        else
          ctx.add_finding(FindingType::malformed, obj,
                          "member \"" + name + "\": unsupported compression method " + std::to_string(e.real_method()));
        return true;
      }
      if (!e.encrypted() && inflate_whole(e, name, spec)) return true;
      ZipFile f;
      if (e.encrypted() && !zip::libzip_can_decrypt(e, st)) {
        locked.push_back(name + " (" + std::to_string(e.uncompressed_size) + " bytes, unsupported encryption)");
        record_locked(name, nullptr);
        return true;
      }
      if (e.encrypted()) {
        zip::Unlock u = find_password(e);
        if (!u.candidate) {
          locked.push_back(name + " (" + std::to_string(e.uncompressed_size) + " bytes, " + zip::cipher_name(e) + ")");
          record_locked(name, &e);
          return true;
        }
        f.reset(zip_fopen_index_encrypted(za, i, 0, u.bytes.c_str()));
        if (f) {
          spec.from_encrypted = true;
          spec.provenance = "decrypted (" + zip::cipher_name(e) + ") with password from " + u.candidate->source;
          passwords.record_open(u, name);
        }
      } else {
        f.reset(zip_fopen_index(za, i, 0));
      }
      if (!f) {
        ctx.add_finding(FindingType::malformed, obj, "member \"" + name + "\" cannot be read: " + zip_strerror(za));
        return true;
      }
      StreamResult r = stream_child(ctx, obj, std::move(spec), [&](char* buf, std::size_t cap) -> long long {
        return zip_fread(f.get(), buf, cap);
      });
      // WinZip AE-2 entries store no CRC (the HMAC authenticates them), but
      // libzip 1.7 still compares against the zero field at the end; every
      // byte has been delivered by then.
      bool ae2_crc = e.aes_strength && e.aes_version == 2 && e.crc == 0 &&
                     zip_error_code_zip(zip_file_get_error(f.get())) == ZIP_ER_CRC;
      if (r == StreamResult::read_error && !ae2_crc)
        ctx.add_finding(FindingType::malformed, obj, "member \"" + name + "\": " + zip_file_strerror(f.get()));
      return true;
    }

    // The fast path for a plain (stored or deflated) member: returns false,
    // leaving `spec` untouched, whenever libzip's stream should decide.
    bool inflate_whole(const zip::Entry& e, const std::string& name, ChildSpec& spec) {
      const Limits& lim = ctx.limits();
      if (e.real_method() == 8 && exceeds_compression_ratio(lim, e.uncompressed_size, e.compressed_size)) return false;
      zip::Inflated in = zip::inflate_whole(e, bytes, std::min(lim.max_object_memory, lim.max_object_size));
      if (!in.ok) return false;
      std::size_t pos = 0;
      StreamResult r = stream_child(ctx, obj, std::move(spec), [&](char* buf, std::size_t cap) -> long long {
        const std::size_t n = std::min(cap, in.plain.size() - pos);
        std::memcpy(buf, in.plain.data() + pos, n);
        pos += n;
        return static_cast<long long>(n);
      });
      // As libzip does: every byte is analysed, and the mismatch is reported.
      if (!in.crc_ok && r == StreamResult::complete)
        ctx.add_finding(FindingType::malformed, obj, "member \"" + name + "\": CRC error");
      return true;
    }

    // A member that stays locked, for a password that may come later (PPAP,
    // Report::ppap.locked): its check data while the archive has fewer than
    // the blob keeps, and one entry without check data for the first member
    // no password could open here (`e` null, or no check data).
    void record_locked(const std::string& name, const zip::Entry* e) {
      std::optional<zip::MemberCheck> check = e ? zip::member_check(*e, bytes) : std::nullopt;
      if (check ? checkable_recorded >= ppap::PpapBlobBounds::max_members : uncheckable_recorded) return;
      ++(check ? checkable_recorded : uncheckable_recorded);
      ctx.report().ppap.locked.push_back(
          {obj.path.empty() ? "(message)" : obj.path, name, check ? ppap::encode_lock(ppap::zip_lock(*check)) : std::string()});
    }

    zip::Unlock find_password(const zip::Entry& e) {
      KdfBudget& budget = ctx.kdf_budget();
      bool in_vain = false;
      zip::Unlock u = passwords.find(
          e, bytes, [&]() -> const auto& { return message_passwords(ctx); }, budget, [&] { return ctx.expired(); },
          in_vain);
      if (in_vain && budget.exhausted())
        ctx.limit_hit(obj, "max_kdf_rounds", "WinZip AES password tries stopped: " + std::to_string(budget.used()) +
                                                 " of " + std::to_string(budget.max()) + " key-derivation rounds spent");
      return u;
    }

    // archive_decrypted for what opened (verdict: the stronger of [passwords]
    // opened_archive_verdict and [verdicts] archive_decrypted, both clean by
    // default), encrypted_archive only for what stayed locked.
    void report_locks() {
      for (const std::string& detail : passwords.opened_details(ctx.config().passwords.show_in_reports))
        ctx.add_finding(FindingType::archive_decrypted, obj, detail,
                        std::max(ctx.config().passwords.opened_archive_verdict,
                                 ctx.config().baseline(FindingType::archive_decrypted)));
      if (locked.empty()) return;
      ctx.add_finding(FindingType::encrypted_archive, obj,
                      std::to_string(locked.size()) + " of " + std::to_string(passwords.opened_count() + locked.size()) +
                          " encrypted member(s) not opened with " + std::to_string(message_passwords(ctx).size()) +
                          " candidate password(s): " + join_capped(locked, 20));
    }
  };
};

}  // namespace

std::unique_ptr<Module> make_zip_module() { return std::make_unique<ZipExtractor>(); }

}  // namespace emogate
