// Runs the BIFF walker on a workbook stream (or the SYLK reader on a .slk
// text file) and reports: `xlm_macro` for
// macro sheets (via xlm_report), `encrypted_document` for FILEPASS (and, when
// Excel's default password opened it, a clean, informational one and the
// decrypted stream as a child so YARA sees the plaintext), `malformed` for
// broken record structure.
// Trusted input: none.
#include "common/text.h"
#include "engine/xlm_findings.h"
#include "engine/context.h"
#include "engine/module.h"

namespace emogate {

namespace {

class XlmDetector : public Module {
 public:
  Phase phase() const override { return Phase::inspect; }
  std::string_view name() const override { return "xlm_biff"; }
  std::vector<std::string> types() const override { return {tag::any}; }
  // The Workbook (BIFF8) or Book (BIFF5) stream child of an OLE2 object,
  // or a SYLK text file.
  bool accepts(const Object& obj) const override {
    if (!obj.derived && xlm::is_sylk(obj.bytes())) return true;
    if (!obj.parent || obj.parent->type != tag::ole2) return false;
    std::string n = ascii_lower(obj.name);
    return n == "workbook" || n == "book";
  }
  void run(const Object& obj, ScanContext& ctx) const override;
};

void XlmDetector::run(const Object& obj, ScanContext& ctx) const {
  if (xlm::is_sylk(obj.bytes())) {
    xlm::report(ctx, obj, obj, xlm::parse_sylk(obj.bytes()));
    return;
  }
  auto res = xlm::analyse_workbook(obj.bytes(), {}, [&ctx] { return ctx.expired(); });
  if (res.biff == 0) return;  // not BIFF: nothing to say about it here
  const Object& book = *obj.parent;
  if (res.encryption != xlm::Encryption::none) {
    std::string detail = "Excel workbook encrypted (FILEPASS, " +
                         std::string(xlm::encryption_name(res.encryption)) + ")";
    detail += res.decrypted ? "; opened with Excel's built-in default password, content analysed"
                            : "; password unknown, content not analysed";
    // Opened with the default password: informational, what is inside decides.
    ctx.add_finding(FindingType::encrypted_document, book, detail,
                    res.decrypted ? std::optional<Verdict>(Verdict::clean) : std::nullopt);
    if (res.decrypted && ctx.can_add_child(obj)) {
      ChildSpec spec;
      spec.name = "decrypted";
      // A BIFF record stream (its theme ZIP is not an archive). XXX the theme
      // package is not cut out of it as the OLE2 extractor does for plain
      // workbooks; YARA still sees the bytes.
      spec.type = tag::binary;
      spec.from_encrypted = true;
      spec.provenance = "Workbook stream decrypted with Excel's default password";
      ctx.add_child(obj, std::move(spec), std::string_view(res.decrypted_stream));
    }
  }
  if (res.stopped)
    ctx.limit_hit(obj, ctx.expired() ? "scan_timeout_ms" : "biff_records",
                  "BIFF record walk stopped early");
  if (!res.problems.empty()) {
    std::string detail = "BIFF: " + res.problems.front();
    if (res.problems.size() > 1)
      detail += " (+" + std::to_string(res.problems.size() - 1) + " more)";
    ctx.add_finding(FindingType::malformed, obj, detail);
  }
  xlm::report(ctx, book, obj, res.xlm);
}

}  // namespace

std::unique_ptr<Module> make_xlm_module() { return std::make_unique<XlmDetector>(); }

}  // namespace emogate
