// Turns an XlmSummary (from a BIFF8 stream, OOXML macro sheets or .xlsb)
// into the `xlm_macro` finding and the derived "xlm_formulas" text children
// that YARA and URL extraction read. Shared so every container reports Excel
// 4.0 macros the same way.
// Trusted input: none (the summary holds attacker
// text; it is only copied, never interpreted).
#pragma once

#include <string>

#include "formats/xls/biff.h"
#include "engine/context.h"
#include "engine/object.h"

namespace emogate::xlm {

// "sheet 'Macro1' very hidden; auto-open names: Auto_Open; functions: EXEC".
std::string describe(const XlmSummary& s);

// Very hidden macro sheets and auto-open names make the macro malicious.
bool is_malicious(const XlmSummary& s);

// Reports nothing when `s` has no macro sheet. The finding names `where`
// (the workbook); text children hang under `text_parent`.
void report(ScanContext& ctx, const Object& where, const Object& text_parent,
            const XlmSummary& s);

}  // namespace emogate::xlm
