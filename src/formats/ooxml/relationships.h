// OOXML package relationships (ECMA-376 Part 2, Open Packaging Conventions):
// resolving a target against the part that owns the .rels file, and telling
// targets that fetch something when the document opens.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace emogate {

namespace ooxml {

// Resolves a relationship target against the part that owns the .rels file
// ("xl/_rels/workbook.xml.rels" + "macrosheets/sheet1.xml" ->
// "xl/macrosheets/sheet1.xml"). Absolute targets lose their leading '/'.
std::string resolve_target(std::string_view rels_path, std::string_view target);

// True for external targets that fetch something on open: http(s), ftp,
// file: and UNC paths (also behind "mhtml:" and similar wrappers).
bool remote_target(std::string_view target);

}  // namespace ooxml
}  // namespace emogate
