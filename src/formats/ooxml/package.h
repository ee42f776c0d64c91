// OOXML packages (ECMA-376 Part 2, Open Packaging Conventions) read with
// libzip: part names, bounded reads of single parts, the relationship
// parts, and Excel 4.0 macro sheets (XML and .xlsb binary) with their
// visibility, auto-open names and formulas, and VBA projects declared in
// [Content_Types].xml. Pure functions over the package bytes; the caller
// (modules/ooxml.cpp) turns what they return into findings.
// Trusted input: none. Every read is capped per part, all reads together
// draw on one budget per package, the entry list is capped, and `expired`
// is asked between parts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/xls/biff.h"

typedef struct zip zip_t;

namespace emogate::ooxml {

// From [limits] (ooxml_*); see config/emogate.toml.
struct PackageLimits {
  std::uint64_t read_budget = 256ull << 20;  // bytes read from all parts together
  std::uint64_t max_part = 64ull << 20;      // one part (sheet, workbook, strings)
  std::uint64_t max_xml_part = 4ull << 20;   // one .rels or [Content_Types].xml
  std::uint64_t max_entries = 20000;         // part names listed
};

class Package {
 public:
  Package(std::string_view bytes, const PackageLimits& limits);
  ~Package();
  Package(const Package&) = delete;
  Package& operator=(const Package&) = delete;

  bool ok() const { return z_ != nullptr; }
  const PackageLimits& limits() const { return limits_; }
  const std::vector<std::string>& names() const { return names_; }

  // At most `cap` bytes of a part (names compare case-insensitively, as OPC
  // part names do). Empty optional when absent or unreadable (encrypted).
  // Every read also draws on the read budget for the whole package, so that
  // thousands of small compressed parts cannot each inflate to the cap.
  std::optional<std::string> read(std::string_view name, std::uint64_t cap) const;
  bool exhausted() const { return budget_ == 0; }

 private:
  zip_t* z_ = nullptr;
  PackageLimits limits_;
  mutable std::uint64_t budget_;
  std::vector<std::string> names_;
};

struct Rel {
  std::string id, type, target;  // type: last segment of the Type URI
  bool external = false;
};

// The package's relationships. `by_source` is keyed by the lower-case name
// of the part a .rels file describes ("" for the package itself), internal
// targets resolved to part names; `external` lists every external target in
// package order with the .rels part naming it.
struct Relationships {
  std::map<std::string, std::vector<Rel>> by_source;
  std::vector<std::pair<std::string, Rel>> external;
};
Relationships read_relationships(const Package& pkg, std::uint64_t cap, const std::function<bool()>& expired);

// Relationship types whose external target Office fetches when the document
// opens (templates, OLE links, frames, sub-documents; a linked picture only
// when it is a file:/UNC one, which leaks the user's NTLM credentials).
bool fetches_on_open(std::string_view type, std::string_view target);

// The workbook's Excel 4.0 macro sheets (listed or only present in the
// package), auto-open names and defined names. Parts are read up to `cap`.
xlm::XlmSummary macro_sheets(const Package& pkg, const Relationships& rels, std::uint64_t cap,
                             const std::function<bool()>& expired);

// VBA projects [Content_Types].xml declares whose part is missing or not an
// OLE2 file: (part name, whether the part exists). Stops when the read
// budget is spent (then "missing" cannot be told from "not read").
std::vector<std::pair<std::string, bool>> misdeclared_vba(const Package& pkg);

}  // namespace emogate::ooxml
