// Excel 4.0 (XLM) macro analysis of a BIFF8 (and BIFF5) Workbook stream,
// written from [MS-XLS] and, for the RC4 encryption schemes, [MS-OFFCRYPTO].
// Pure functions over bytes: no engine types, so the record walker and the
// formula decoder can be fuzzed and benchmarked alone. Implemented by job:
// biff.cpp (record walker), formula.cpp (formula decoder, shared with
// .xlsb and OOXML), biff_crypto.cpp (RC4 FILEPASS), xlsb.cpp, sylk.cpp,
// tables.cpp (function names).
// Trusted input: none —
// every record, string and token is bounds-checked; work is bounded by the
// stream size and by BiffLimits.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace emogate::xlm {

// Sheet visibility as stored in BOUNDSHEET.hsState and in OOXML's
// <sheet state=...>.
enum SheetState : int { kVisible = 0, kHidden = 1, kVeryHidden = 2 };
std::string_view state_name(int state);

struct MacroSheet {
  std::string name;
  int state = kVisible;
  std::string text;  // decoded formulas and strings, one cell per line
};

// What an XLM-bearing workbook looks like, independent of its container
// (BIFF8 stream, OOXML macro sheet XML, xlsb). The detectors turn it into
// findings through report.h.
struct XlmSummary {
  std::vector<MacroSheet> sheets;
  std::vector<std::string> auto_names;  // Auto_Open-style defined names
  std::set<std::string> functions;      // notable XLM functions called
  std::set<std::string> keywords;       // notable strings (APIs, LOLBins)
  std::string names_text;               // decoded defined names, one a line
};

enum class Encryption { none, xor_obfuscation, rc4, rc4_cryptoapi, unknown };
std::string_view encryption_name(Encryption e);

struct BiffLimits {
  std::size_t max_records = 4'000'000;
  std::size_t max_text = 4u << 20;  // decoded text kept per sheet (4x per workbook)
};

struct BiffResult {
  int biff = 0;  // 8, 5, or 0 when no BIFF BOF was found
  XlmSummary xlm;
  Encryption encryption = Encryption::none;
  bool decrypted = false;        // the default password opened it
  std::string decrypted_stream;  // the stream with record data decrypted
  std::vector<std::string> problems;  // structural damage, for `malformed`
  bool stopped = false;               // a limit or the deadline cut the walk
};

// Walks the stream's records. When FILEPASS uses RC4 with Excel's built-in
// password, the stream is decrypted and the result describes the plaintext.
BiffResult analyse_workbook(std::string_view stream, const BiffLimits& limits = {},
                            const std::function<bool()>& expired = {});

// The theme package (a ZIP) of a workbook's THEME record, put back together
// from its ContinueFrt12 records; empty when there is none.
std::string theme_package(std::string_view stream);

// ---- building blocks, exposed for tests and fuzzing ----

// Decodes one parsed formula (Rgce) to Excel-like infix text, e.g.
// EXEC("calc.exe"). `biff` is 5, 8, or 12 (.xlsb, [MS-XLSB] token sizes). Function names of notable XLM calls go to `functions`.
// `names` resolves PtgName (1-based). Never throws; unknown tokens end the
// decoding with a marker.
std::string decode_formula(std::string_view rgce, int biff,
                           const std::vector<std::string>& names,
                           std::set<std::string>* functions);

// Names of Ftab / Cetab entries ("" when unknown).
std::string_view function_name(std::uint16_t iftab);
std::string_view command_name(std::uint16_t icetab);
int function_argc(std::uint16_t iftab);  // PtgFunc's fixed count (1 if unknown)

// Adds the notable XLM functions called in a textual formula (OOXML <f>).
void note_functions(std::string_view formula, std::set<std::string>& functions);

// Adds to `keywords` the notable strings (Win32 APIs, LOLBins) found in the
// quoted string literals of `text`.
void scan_keywords(std::string_view text, std::set<std::string>& keywords);

// ---- .xlsb (BIFF12, [MS-XLSB]) ----

struct XlsbSheet {
  std::string name;
  std::string rel_id;  // relationship id of the sheet part
  int state = kVisible;
};
struct XlsbWorkbook {
  std::vector<XlsbSheet> sheets;
  std::vector<std::string> names;       // defined names, for PtgName
  std::vector<std::string> auto_names;  // Auto_Open-style ones
};
XlsbWorkbook parse_xlsb_workbook(std::string_view workbook_bin);
// Strings of xl/sharedStrings.bin (BrtSSTItem records).
std::vector<std::string> parse_xlsb_sst(std::string_view sst_bin, std::size_t max_bytes);
// Cells of a binary (macro) sheet part as text, one cell a line.
std::string xlsb_sheet_text(std::string_view sheet_bin, const std::vector<std::string>& names,
                            const std::vector<std::string>& sst, std::set<std::string>* functions,
                            std::size_t max_text);

// ---- SYLK (text spreadsheet interchange; Excel opens .slk files) ----

// True when the bytes start with a SYLK ID record ("ID;P...").
bool is_sylk(std::string_view bytes);
// Cells (C records, E field = formula) and names (NN records) of a SYLK
// file. A sheet is reported when an auto-open name or an XLM-only function
// appears (SYLK has no sheet type or visibility).
XlmSummary parse_sylk(std::string_view text, std::size_t max_text = 4u << 20);

// True for names Excel runs by itself: Auto_Open (with suffixes, any case),
// Auto_Close, Auto_Activate, also behind the "_xlnm." prefix.
bool auto_exec_name(std::string_view name);

// RC4 key stream for the BIFF8 schemes: byte i of the result is the key
// stream byte for stream offset i (rekeyed every 1024 bytes). `filepass` is
// the FILEPASS record data. Empty when the password does not verify or the
// header is unsupported.
std::string biff_keystream(std::string_view filepass, std::string_view password,
                           std::size_t length);

// XORs the key stream into the data of every record after the FILEPASS
// record that ends at `after`, leaving what [MS-XLS] keeps in clear text.
std::string xor_records(std::string_view stream, std::size_t after, std::string_view keystream);

// Builds FILEPASS record data for RC4 (binary) or RC4 CryptoAPI protecting
// `password` with the given salt and verifier: used by tests to encrypt
// fixtures (RC4 is symmetric, so decrypting with biff_keystream encrypts).
std::string make_filepass(bool cryptoapi, std::string_view password,
                          std::string_view salt16, std::string_view verifier16);

}  // namespace emogate::xlm
