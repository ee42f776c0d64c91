// ZIP extractor (types "zip" and "ooxml"): streams each member through
// libzip into a child object, so the engine's size, ratio and time limits
// apply while inflating, never after. Encrypted members are reported; they
// are not opened here. Input is hostile: libzip validates the central
// directory, and every read is bounded by the ChildWriter.
#include <zip.h>

#include <memory>
#include <string>

#include "engine/context.h"
#include "engine/module.h"

namespace emogate {

namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

class ZipExtractor : public Extractor {
 public:
  std::string_view name() const override { return "zip"; }
  std::vector<std::string> types() const override { return {"zip", "ooxml"}; }

  void extract(const Object& obj, ScanContext& ctx) const override {
    std::string_view bytes = obj.bytes();
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    if (!src) {
      ctx.add_error(obj.path + ": " + zip_error_strerror(&err));
      zip_error_fini(&err);
      return;
    }
    std::unique_ptr<zip_t, ZipCloser> zip(zip_open_from_source(src, ZIP_RDONLY, &err));
    if (!zip) {
      ctx.add_finding(FindingType::malformed, obj, std::string("ZIP cannot be opened: ") + zip_error_strerror(&err));
      zip_source_free(src);
      zip_error_fini(&err);
      return;
    }
    zip_error_fini(&err);

    zip_int64_t n = zip_get_num_entries(zip.get(), 0);
    std::string encrypted;
    int encrypted_count = 0;
    for (zip_int64_t i = 0; i < n; ++i) {
      if (ctx.expired()) return;
      zip_stat_t st;
      if (zip_stat_index(zip.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0) continue;
      std::string name = (st.valid & ZIP_STAT_NAME) && st.name ? st.name : "";
      if (!name.empty() && name.back() == '/') continue;  // directory
      if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
        if (++encrypted_count <= 20)
          encrypted += (encrypted.empty() ? "" : ", ") + name + " (" + std::to_string(st.size) + " bytes)";
        continue;
      }
      if (!ctx.can_add_child(obj)) return;
      ChildSpec spec;
      spec.name = name;
      spec.compressed_size = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
      if (st.valid & ZIP_STAT_COMP_METHOD && st.comp_method == ZIP_CM_STORE) spec.compressed_size = 0;
      std::unique_ptr<zip_file_t, ZipFileCloser> f(zip_fopen_index(zip.get(), static_cast<zip_uint64_t>(i), 0));
      if (!f) {
        ctx.add_finding(FindingType::malformed, obj,
                        "member '" + name + "' cannot be read: " + zip_strerror(zip.get()));
        continue;
      }
      ChildWriter child = ctx.begin_child(obj, std::move(spec));
      char buf[64 * 1024];
      while (true) {
        zip_int64_t r = zip_fread(f.get(), buf, sizeof(buf));
        if (r < 0) {
          ctx.add_finding(FindingType::malformed, obj,
                          "member '" + name + "': " + zip_file_strerror(f.get()));
          break;
        }
        if (r == 0 || !child.write(buf, static_cast<std::size_t>(r))) break;
      }
      ctx.commit(std::move(child));
    }
    if (encrypted_count > 0)
      ctx.add_finding(FindingType::encrypted_archive, obj,
                      std::to_string(encrypted_count) + " encrypted member(s): " + encrypted);
  }
};

}  // namespace

std::unique_ptr<Extractor> make_zip_extractor() { return std::make_unique<ZipExtractor>(); }

}  // namespace emogate
