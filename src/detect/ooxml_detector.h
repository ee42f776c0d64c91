// OOXML package detector (make_ooxml_detector) (ECMA-376 Open Packaging Conventions). Reads the
// package itself (libzip over the object's bytes) for what single parts
// cannot show: Excel 4.0 macro sheets with their workbook visibility and
// auto-open names (.xlsm/.xltm XML and .xlsb binary), remote templates and
// other external relationships. The parts themselves are children from the
// ZIP extractor, so VBA projects and embedded OLE objects (oleObject*.bin,
// activeX*.bin: OLE2 by signature) are analysed by the OLE2 modules, which
// report OLE Package contents as `embedded_file`. Input trusted: none.
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
