// OOXML package reading; see package.h.
// Trusted input: none.
#include "formats/ooxml/package.h"

#include <zip.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "common/bytes.h"
#include "common/text.h"
#include "formats/ooxml/relationships.h"
#include "formats/ooxml/xml_scan.h"

namespace emogate::ooxml {

Package::Package(std::string_view bytes, const PackageLimits& limits) : limits_(limits), budget_(limits.read_budget) {
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
  for (zip_int64_t i = 0; i < n && names_.size() < limits_.max_entries; ++i) {
    const char* name = zip_get_name(z_, zip_uint64_t(i), 0);
    if (name) names_.emplace_back(name);
  }
}

Package::~Package() {
  if (z_) zip_discard(z_);
}

std::optional<std::string> Package::read(std::string_view name, std::uint64_t cap) const {
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

namespace {

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

bool macro_part(const Rel& r) {
  return r.type == "xlMacrosheet" || r.type == "xlIntlMacrosheet" ||
         ascii_lower(r.target).find("macrosheets/") != std::string::npos;
}

// Decoded sheet text is capped like a BIFF sheet's.
const std::size_t kMaxSheetText = xlm::BiffLimits{}.max_text;

class MacroScan {
 public:
  MacroScan(const Package& pkg, const Relationships& rels, std::uint64_t cap, const std::function<bool()>& expired)
      : pkg_(pkg), rels_(rels.by_source), cap_(cap), expired_(expired) {}

  xlm::XlmSummary run();

 private:
  std::string find_workbook() const;
  std::string xml_sheet_text(std::string_view xml);
  const std::vector<std::string>& shared_strings();

  const Package& pkg_;
  const std::map<std::string, std::vector<Rel>>& rels_;
  std::uint64_t cap_;
  const std::function<bool()>& expired_;
  std::string wb_path_;              // xl/workbook.xml or .bin
  std::map<std::string, Rel> wb_rels_;  // by id, targets resolved
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
  std::string path = ends_with_ci(wb_path_, ".bin") ? "xl/sharedStrings.bin" : "xl/sharedStrings.xml";
  for (auto& [id, r] : wb_rels_)
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
  while (sc.next(t) && out.size() < kMaxSheetText) {
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

xlm::XlmSummary MacroScan::run() {
  wb_path_ = find_workbook();
  if (wb_path_.empty()) return {};
  auto rit = rels_.find(ascii_lower(wb_path_));
  if (rit != rels_.end())
    for (auto& r : rit->second) wb_rels_[r.id] = r;
  std::set<std::string> seen;  // lower-case part names already analysed
  auto add_sheet = [&](std::string name, int state, const std::string& part) {
    if (expired_ && expired_()) return;
    xlm::MacroSheet ms;
    ms.name = std::move(name);
    ms.state = state;
    seen.insert(ascii_lower(part));
    if (auto data = pkg_.read(part, cap_)) {
      if (ends_with_ci(part, ".bin"))
        ms.text = xlm::xlsb_sheet_text(*data, names_, shared_strings(), &sum_.functions, kMaxSheetText);
      else
        ms.text = xml_sheet_text(*data);
    }
    xlm::scan_keywords(ms.text, sum_.keywords);
    sum_.sheets.push_back(std::move(ms));
  };
  auto wb_data = pkg_.read(wb_path_, cap_);
  if (wb_data && ends_with_ci(wb_path_, ".bin")) {
    auto bin = xlm::parse_xlsb_workbook(*wb_data);
    sum_.auto_names = bin.auto_names;
    names_ = bin.names;
    for (auto& s : bin.sheets) {
      auto it = wb_rels_.find(s.rel_id);
      if (it != wb_rels_.end() && macro_part(it->second)) add_sheet(s.name, s.state, it->second.target);
    }
  } else if (wb_data) {
    xml::Scanner sc(*wb_data);
    xml::Tag t;
    std::string defined;
    while (sc.next(t)) {
      if (t.name == "sheet" && !t.closing) {
        std::string state = ascii_lower(t.attr("state"));
        int st = state == "veryhidden" ? xlm::kVeryHidden : state == "hidden" ? xlm::kHidden : xlm::kVisible;
        auto it = wb_rels_.find(xml::unescape(t.attr("id")));
        if (it != wb_rels_.end() && macro_part(it->second))
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

}  // namespace

Relationships read_relationships(const Package& pkg, std::uint64_t cap, const std::function<bool()>& expired) {
  Relationships out;
  for (auto& n : pkg.names()) {
    if (!ends_with_ci(n, ".rels") || (expired && expired())) continue;
    auto xml = pkg.read(n, std::min(cap, pkg.limits().max_xml_part));
    if (!xml) continue;
    auto list = parse_rels(*xml);
    for (auto& r : list) {
      if (!r.external) r.target = resolve_target(n, r.target);
      else out.external.emplace_back(n, r);
    }
    out.by_source[ascii_lower(rels_source(n))] = std::move(list);
  }
  return out;
}

bool fetches_on_open(std::string_view type, std::string_view target) {
  // Workbook links (externalLinkPath) are left out: Excel asks before
  // updating them and they point at SharePoint every day.
  for (std::string_view t : {"attachedTemplate", "oleObject", "frame", "subDocument", "aFChunk",
                             "package", "control"})
    if (type == t) return remote_target(target);
  if (type != "image") return false;
  std::string low = ascii_lower(target);
  return low.starts_with("file:") || low.starts_with("\\\\") || low.starts_with("//");
}

xlm::XlmSummary macro_sheets(const Package& pkg, const Relationships& rels, std::uint64_t cap,
                             const std::function<bool()>& expired) {
  return MacroScan(pkg, rels, cap, expired).run();
}

std::vector<std::pair<std::string, bool>> misdeclared_vba(const Package& pkg) {
  std::vector<std::pair<std::string, bool>> out;
  auto types = pkg.read("[Content_Types].xml", pkg.limits().max_xml_part);
  if (!types) return out;
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
    if (pkg.exhausted()) return out;  // cannot tell "missing" from "not read"
    if (!head || !head->starts_with("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) out.emplace_back(part, head.has_value());
  }
  return out;
}

}  // namespace emogate::ooxml
