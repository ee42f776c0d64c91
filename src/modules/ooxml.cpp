// OOXML package analysis: Excel 4.0 macro sheets (XML and .xlsb binary) with
// their visibility and auto-open names, external relationships (remote
// templates, OLE links, frames). Every part read is
// capped in size, the entry list is capped, and the deadline is checked
// between parts. Input trusted: none.
#include <zip.h>

#include <map>
#include <optional>
#include <set>

#include "common/text.h"
#include "formats/xls/biff.h"
#include "engine/xlm_findings.h"
#include "formats/ooxml/relationships.h"
#include "formats/ooxml/xml_scan.h"
#include "engine/context.h"
#include "engine/module.h"

namespace emogate {
namespace {

constexpr std::size_t kMaxEntries = 20000;
constexpr std::uint64_t kMaxPart = 64ull << 20;
constexpr std::uint64_t kMaxRels = 4ull << 20;   // relationship parts are small
constexpr std::uint64_t kBudget = 256ull << 20;  // all parts read, per package

class Package {
 public:
  explicit Package(std::string_view bytes) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    if (src) {
      z_ = zip_open_from_source(src, ZIP_RDONLY, &err);
      if (!z_) zip_source_free(src);
    }
    zip_error_fini(&err);
    if (!z_) return;
    zip_int64_t n = zip_get_num_entries(z_, 0);
    for (zip_int64_t i = 0; i < n && names_.size() < kMaxEntries; ++i) {
      const char* name = zip_get_name(z_, zip_uint64_t(i), 0);
      if (name) names_.emplace_back(name);
    }
  }
  ~Package() {
    if (z_) zip_discard(z_);
  }
  Package(const Package&) = delete;
  Package& operator=(const Package&) = delete;

  bool ok() const { return z_ != nullptr; }
  const std::vector<std::string>& names() const { return names_; }

  // At most `cap` bytes of a part (names compare case-insensitively, as OPC
  // part names do). Empty optional when absent or unreadable (encrypted).
  // Every read also draws on one budget for the whole package, so that
  // thousands of small compressed parts cannot each inflate to the cap.
  std::optional<std::string> read(std::string_view name, std::uint64_t cap) const {
    cap = std::min(cap, budget_);
    zip_int64_t idx = zip_name_locate(z_, std::string(name).c_str(), ZIP_FL_NOCASE);
    if (idx < 0 || cap == 0) return std::nullopt;
    zip_file_t* f = zip_fopen_index(z_, zip_uint64_t(idx), 0);
    if (!f) return std::nullopt;
    std::string out;
    char buf[16384];
    while (out.size() < cap) {
      zip_int64_t got = zip_fread(f, buf, std::min<std::uint64_t>(sizeof buf, cap - out.size()));
      if (got <= 0) break;
      out.append(buf, std::size_t(got));
    }
    zip_fclose(f);
    budget_ -= out.size();
    return out;
  }
  bool exhausted() const { return budget_ == 0; }

 private:
  zip_t* z_ = nullptr;
  mutable std::uint64_t budget_ = kBudget;
  std::vector<std::string> names_;
};

struct Rel {
  std::string id, type, target;  // type: last segment of the Type URI
  bool external = false;
};

std::string type_suffix(std::string_view type) {
  auto slash = type.rfind('/');
  return std::string(slash == std::string_view::npos ? type : type.substr(slash + 1));
}

std::vector<Rel> parse_rels(std::string_view xml) {
  std::vector<Rel> out;
  xml::Scanner sc(xml);
  xml::Tag t;
  while (sc.next(t)) {
    if (t.closing || t.name != "Relationship") continue;
    Rel r;
    r.id = xml::unescape(t.attr("Id"));
    r.type = type_suffix(xml::unescape(t.attr("Type")));
    r.target = xml::unescape(t.attr("Target"));
    r.external = ascii_lower(t.attr("TargetMode")) == "external";
    out.push_back(std::move(r));
  }
  return out;
}

// The part a .rels file describes: "xl/_rels/workbook.xml.rels" -> "xl/workbook.xml".
std::string rels_source(std::string_view rels_path) {
  auto at = rels_path.rfind("_rels/");
  if (at == std::string_view::npos) return {};
  std::string src = std::string(rels_path.substr(0, at)) + std::string(rels_path.substr(at + 6));
  if (src.size() >= 5 && ascii_lower(src.substr(src.size() - 5)) == ".rels")
    src.resize(src.size() - 5);
  return src;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && ascii_lower(s.substr(s.size() - suffix.size())) == suffix;
}

// Relationship types whose external target Office fetches when the document
// opens (templates, OLE links, frames, sub-documents). Workbook links
// (externalLinkPath) are left out: Excel asks before updating them and they
// point at SharePoint every day. A linked picture is fetched too, but only
// a file:/UNC one is an attack (it leaks the user's NTLM credentials).
bool fetching(std::string_view type, std::string_view target) {
  for (std::string_view t : {"attachedTemplate", "oleObject", "frame", "subDocument", "aFChunk",
                             "package", "control"})
    if (type == t) return ooxml::remote_target(target);
  if (type != "image") return false;
  std::string low = ascii_lower(target);
  return low.starts_with("file:") || low.starts_with("\\\\") || low.starts_with("//");
}

struct Workbook {
  std::string path;  // xl/workbook.xml or .bin
  std::map<std::string, Rel> rels;  // by id, targets resolved
};

class MacroScan {
 public:
  MacroScan(const Package& pkg, ScanContext& ctx, const std::map<std::string, std::vector<Rel>>& rels)
      : pkg_(pkg), ctx_(ctx), rels_(rels),
        cap_(std::min<std::uint64_t>(ctx.limits().max_object_memory, kMaxPart)) {}

  xlm::XlmSummary run();

 private:
  std::string find_workbook() const;
  std::string xml_sheet_text(std::string_view xml);
  const std::vector<std::string>& shared_strings();

  const Package& pkg_;
  ScanContext& ctx_;
  const std::map<std::string, std::vector<Rel>>& rels_;
  std::uint64_t cap_;
  Workbook wb_;
  xlm::XlmSummary sum_;
  std::optional<std::vector<std::string>> sst_;
  std::vector<std::string> names_;  // .xlsb defined names, for PtgName
};

std::string MacroScan::find_workbook() const {
  auto it = rels_.find("");
  if (it != rels_.end())
    for (auto& r : it->second)
      if (r.type == "officeDocument" && !r.external) return r.target;
  for (std::string_view p : {"xl/workbook.xml", "xl/workbook.bin"})
    for (auto& n : pkg_.names())
      if (ascii_lower(n) == p) return n;
  return {};
}

const std::vector<std::string>& MacroScan::shared_strings() {
  if (sst_) return *sst_;
  sst_.emplace();
  std::string path = ends_with_ci(wb_.path, ".bin") ? "xl/sharedStrings.bin" : "xl/sharedStrings.xml";
  for (auto& [id, r] : wb_.rels)
    if (r.type == "sharedStrings") path = r.target;
  auto xml = pkg_.read(path, cap_);
  if (!xml) return *sst_;
  if (ends_with_ci(path, ".bin")) {
    *sst_ = xlm::parse_xlsb_sst(*xml, cap_);
    return *sst_;
  }
  xml::Scanner sc(*xml);
  xml::Tag t;
  std::string cur;
  while (sc.next(t)) {
    if (t.name == "t" && t.closing) cur += xml::unescape(t.text_before);
    else if (t.name == "si" && t.closing) sst_->push_back(std::exchange(cur, {}));
  }
  return *sst_;
}

std::string MacroScan::xml_sheet_text(std::string_view xml) {
  std::string out, ref, type;
  xml::Scanner sc(xml);
  xml::Tag t;
  const std::size_t max_text = 4u << 20;
  while (sc.next(t) && out.size() < max_text) {
    if (t.name == "c" && !t.closing) {
      ref = std::string(t.attr("r"));
      type = std::string(t.attr("t"));
    } else if (t.closing && t.name == "f") {
      std::string f = xml::unescape(t.text_before);
      xlm::note_functions(f, sum_.functions);
      out += ref + ": =" + f + "\n";
    } else if (t.closing && t.name == "v" && (type == "s" || type == "str")) {
      std::string v = xml::unescape(t.text_before);
      if (type == "s") {
        const auto& sst = shared_strings();
        std::size_t i = std::strtoul(v.c_str(), nullptr, 10);
        v = i < sst.size() ? sst[i] : "<sst " + v + ">";
      }
      out += ref + ": \"" + v + "\"\n";
    } else if (t.closing && t.name == "t" && type == "inlineStr") {
      out += ref + ": \"" + xml::unescape(t.text_before) + "\"\n";
    }
  }
  return out;
}

bool macro_part(const Rel& r) {
  return r.type == "xlMacrosheet" || r.type == "xlIntlMacrosheet" ||
         ascii_lower(r.target).find("macrosheets/") != std::string::npos;
}

xlm::XlmSummary MacroScan::run() {
  wb_.path = find_workbook();
  if (wb_.path.empty()) return {};
  auto rit = rels_.find(ascii_lower(wb_.path));
  if (rit != rels_.end())
    for (auto& r : rit->second) wb_.rels[r.id] = r;
  std::set<std::string> seen;  // lower-case part names already analysed
  auto add_sheet = [&](std::string name, int state, const std::string& part) {
    if (ctx_.expired()) return;
    xlm::MacroSheet ms;
    ms.name = std::move(name);
    ms.state = state;
    seen.insert(ascii_lower(part));
    if (auto data = pkg_.read(part, cap_)) {
      if (ends_with_ci(part, ".bin"))
        ms.text = xlm::xlsb_sheet_text(*data, names_, shared_strings(), &sum_.functions, 4u << 20);
      else
        ms.text = xml_sheet_text(*data);
    }
    xlm::scan_keywords(ms.text, sum_.keywords);
    sum_.sheets.push_back(std::move(ms));
  };
  auto wb_data = pkg_.read(wb_.path, cap_);
  if (wb_data && ends_with_ci(wb_.path, ".bin")) {
    auto bin = xlm::parse_xlsb_workbook(*wb_data);
    sum_.auto_names = bin.auto_names;
    names_ = bin.names;
    for (auto& s : bin.sheets) {
      auto it = wb_.rels.find(s.rel_id);
      if (it != wb_.rels.end() && macro_part(it->second)) add_sheet(s.name, s.state, it->second.target);
    }
  } else if (wb_data) {
    xml::Scanner sc(*wb_data);
    xml::Tag t;
    std::string defined;
    while (sc.next(t)) {
      if (t.name == "sheet" && !t.closing) {
        std::string state = ascii_lower(t.attr("state"));
        int st = state == "veryhidden" ? xlm::kVeryHidden : state == "hidden" ? xlm::kHidden : xlm::kVisible;
        auto it = wb_.rels.find(xml::unescape(t.attr("id")));
        if (it != wb_.rels.end() && macro_part(it->second))
          add_sheet(xml::unescape(t.attr("name")), st, it->second.target);
      } else if (t.name == "definedName" && !t.closing) {
        defined = xml::unescape(t.attr("name"));
        if (xlm::auto_exec_name(defined)) sum_.auto_names.push_back(defined);
      } else if (t.name == "definedName" && t.closing) {
        std::string value = xml::unescape(t.text_before);
        sum_.names_text += "Name " + defined + ": =" + value + "\n";
      }
    }
  }
  // Macro sheets present in the package but not listed in the workbook still
  // carry formulas an attacker can reach (and show the file is crafted).
  for (auto& n : pkg_.names()) {
    std::string low = ascii_lower(n);
    // (binaryIndex parts are .xlsb cell indexes, not sheets)
    if (low.find("macrosheets/") == std::string::npos || seen.count(low) ||
        !(low.ends_with(".xml") || low.ends_with(".bin")) ||
        low.find("binaryindex") != std::string::npos)
      continue;
    add_sheet(n + " (not listed in the workbook)", xlm::kVisible, n);
  }
  xlm::scan_keywords(sum_.names_text, sum_.keywords);
  return std::move(sum_);
}

// A VBA project declared in [Content_Types].xml is analysed by the OLE2 and
// VBA modules when its part is an OLE2 file; a declared project whose part is
// missing or is something else would otherwise pass unnoticed.
void check_declared_vba(const Package& pkg, const Object& obj, ScanContext& ctx) {
  auto types = pkg.read("[Content_Types].xml", 4u << 20);
  if (!types) return;
  xml::Scanner sc(*types);
  xml::Tag t;
  while (sc.next(t)) {
    if (t.closing || t.name != "Override") continue;
    // vbaProjectSignature, ...SignatureAgile, ...SignatureV3: a PKCS#7
    // signature over the project, not a project.
    const std::string type = ascii_lower(t.attr("ContentType"));
    if (type.find("vbaproject") == std::string::npos || type.find("vbaprojectsignature") != std::string::npos)
      continue;
    std::string part = xml::unescape(t.attr("PartName"));
    if (!part.empty() && part[0] == '/') part.erase(0, 1);
    auto head = pkg.read(part, 8);
    if (pkg.exhausted()) return;  // cannot tell "missing" from "not read"
    if (!head || !head->starts_with("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"))
      ctx.add_finding(FindingType::vba_macro, obj,
                      "content types declare a VBA project at " + part +
                          (head ? " but the part is not an OLE2 file" : " but the part is missing"));
  }
}

class OoxmlDetector : public Detector {
 public:
  std::string_view name() const override { return "ooxml"; }
  std::vector<std::string> types() const override { return {"ooxml"}; }
  void detect(const Object& obj, ScanContext& ctx) const override;
};

void OoxmlDetector::detect(const Object& obj, ScanContext& ctx) const {
  Package pkg(obj.bytes());
  if (!pkg.ok()) return;  // the ZIP extractor reports broken archives
  const std::uint64_t cap = std::min<std::uint64_t>(ctx.limits().max_object_memory, kMaxPart);

  // Relationships (internal targets resolved to part names), keyed by the
  // lower-case name of the part they describe ("" for the package).
  std::map<std::string, std::vector<Rel>> rels;
  std::set<std::string> reported;
  for (auto& n : pkg.names()) {
    if (!ends_with_ci(n, ".rels") || ctx.expired()) continue;
    auto xml = pkg.read(n, std::min(cap, kMaxRels));
    if (!xml) continue;
    auto list = parse_rels(*xml);
    for (auto& r : list) {
      if (!r.external) {
        r.target = ooxml::resolve_target(n, r.target);
        continue;
      }
      std::string low = ascii_lower(r.target);
      if (low.starts_with("http://") || low.starts_with("https://") || low.starts_with("ftp://"))
        ctx.add_url(r.target);
      if (fetching(r.type, r.target) &&
          reported.insert(r.type + "\n" + r.target).second)
        ctx.add_finding(FindingType::remote_template, obj,
                        r.type + " relationship (" + n + ") loads external " + r.target);
    }
    rels[ascii_lower(rels_source(n))] = std::move(list);
  }

  xlm::report(ctx, obj, obj, MacroScan(pkg, ctx, rels).run());
  check_declared_vba(pkg, obj, ctx);
  if (pkg.exhausted())
    ctx.limit_hit(obj, "ooxml_read_budget",
                  "OOXML analysis read " + std::to_string(kBudget >> 20) + " MB of parts and stopped");
}

}  // namespace

std::unique_ptr<Detector> make_ooxml_detector() { return std::make_unique<OoxmlDetector>(); }

}  // namespace emogate
