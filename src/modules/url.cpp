// Extracts URLs and IPv4 addresses from text-like objects (message text,
// HTML, RTF fields, OOXML relationship XML, VBA source, XLM formulas and
// every other derived text) and from binary formats that keep URLs in the
// clear (PDF, LNK, OneNote, OLE2), lists each URL in the report, and flags those
// on the local URLhaus / Feodo Tracker lists as url_blocklisted.
// Trusted input: none in the object; reads at most kMaxTextBytes of it.
#include <string>

#include "formats/url/extract.h"
#include "services/url_intel.h"
#include "engine/context.h"
#include "engine/module.h"

namespace emogate {

namespace {

// URLs sit in the first MBs of any text a person or a macro reads; a bigger
// object is either not text or padding, and scanning it all costs the queue.
constexpr std::size_t kMaxTextBytes = 16u << 20;
constexpr std::size_t kMaxUrlsPerObject = 1000;

std::string describe(const IntelEntry& e) {
  std::string d = e.list;
  std::string extra = e.tag;
  if (!e.date.empty()) extra += (extra.empty() ? "" : ", ") + std::string("listed ") + e.date;
  if (!extra.empty()) d += " (" + extra + ")";
  return d;
}

class UrlDetector final : public Module {
 public:
  Phase phase() const override { return Phase::inspect; }
  std::string_view name() const override { return "urls"; }
  std::vector<std::string> types() const override {
    // Binary formats whose URLs sit in the clear: RTF fields, PDF URI
    // actions, shortcut arguments, OneNote text, OLE2 formula strings.
    return {tag::text,    tag::html, tag::rtf,        tag::pdf,         tag::lnk,
            tag::onenote, tag::ole2, tag::vba_source, tag::xlm_formulas};
  }
  bool accepts(const Object& obj) const override {
    return obj.derived || Module::accepts(obj);
  }

  void run(const Object& obj, ScanContext& ctx) const override {
    std::string_view bytes = obj.bytes().substr(0, kMaxTextBytes);
    // Large binary containers (PDF, whole OLE2 files, OneNote) only carry
    // URLs in the clear; without "://" in either encoding there is nothing
    // to de-obfuscate, and the copy that de-obfuscation makes is skipped.
    // Their text (VBA, XLM, streams) is analysed as derived objects anyway.
    if ((obj.type == tag::pdf || obj.type == tag::ole2 || obj.type == tag::onenote) &&
        bytes.find("://") == std::string_view::npos &&
        bytes.find(std::string_view(":\0/\0/", 5)) == std::string_view::npos)
      return;
    auto found = extract_urls(bytes, kMaxUrlsPerObject);
    for (const auto& u : found.urls) ctx.add_url(u);
    const auto* intel = ctx.service<UrlIntel>();
    if (!intel || intel->empty()) return;
    for (const auto& u : found.urls) {
      if (const auto* e = intel->find_url(u)) {
        ctx.add_finding(FindingType::url_blocklisted, obj, u + " listed by " + describe(*e));
      } else if (const auto* h = intel->find_host(url_host(u))) {
        // Same host as a listed URL: often the same compromised site, but
        // shared hosting gets listed too, so this alone is only suspicious.
        ctx.add_finding(FindingType::url_blocklisted, obj,
                        u + ": host listed by " + describe(*h) + " for " + h->key,
                        Verdict::suspicious);
      }
    }
    for (const auto& ip : found.ips)
      if (const auto* e = intel->find_ip(ip))
        ctx.add_finding(FindingType::url_blocklisted, obj, ip + " listed by " + describe(*e));
  }
};

}  // namespace

std::unique_ptr<Module> make_url_module() { return std::make_unique<UrlDetector>(); }

}  // namespace emogate
