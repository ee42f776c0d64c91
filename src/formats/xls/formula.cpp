// The BIFF parsed-formula (Rgce) decoder shared by BIFF5/8 workbooks,
// .xlsb parts and OOXML macro sheets, with the text helpers around it:
// notable XLM functions in a formula, notable strings in cell text, sheet
// visibility names, cell references and BIFF strings.
// Trusted input: none. Every token is bounds-checked (ByteReader stays
// failed after a short read) and expressions are capped in length.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/text.h"
#include "formats/xls/biff.h"
#include "formats/xls/biff_strings.h"

namespace emogate::xlm {

using Reader = ByteReader;

std::string_view state_name(int state) {
  switch (state) {
    case kVisible: return "visible";
    case kHidden: return "hidden";
    case kVeryHidden: return "very hidden";
    default: return "of unknown visibility";
  }
}

namespace {

// Expressions are capped so that a hostile token stream (thousands of nested
// parentheses or concatenations) costs linear, not quadratic, work.
constexpr std::size_t kMaxExpr = 2048;

void cap(std::string& s, std::size_t n = kMaxExpr) {
  if (s.size() <= n) return;
  std::size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
}

constexpr std::string_view kNotable[] = {
    "ALERT", "CALL", "CHAR", "CLOSE", "CREATE.OBJECT", "DIRECTORY", "EVALUATE", "EXEC",
    "EXECUTE", "FCLOSE", "FILE.DELETE", "FILES", "FOPEN", "FORMULA", "FORMULA.ARRAY",
    "FORMULA.FILL", "FREAD", "FREADLN", "FWRITE", "FWRITELN", "GET.CELL", "GET.DOCUMENT",
    "GET.WINDOW", "GET.WORKSPACE", "GOTO", "HALT", "ON.TIME", "QUIT", "REGISTER",
    "REGISTER.ID", "RUN", "SAVE.AS", "SEND.KEYS", "SET.NAME", "SET.VALUE", "UNREGISTER",
    "WAIT", "WHILE",
};

bool notable(std::string_view fn) {  // kNotable is sorted
  return std::binary_search(std::begin(kNotable), std::end(kNotable), fn);
}

}  // namespace

// Shared with the record walker (biff_strings.h).
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    out += c;
    if (c == '"') out += '"';
  }
  out += '"';
  cap(out);
  return out;
}

std::string cell_name(std::uint32_t row, std::uint32_t col) {
  return "R" + std::to_string(row + 1) + "C" + std::to_string(col + 1);
}

// ShortXLUnicodeString (BIFF8) or byte string (BIFF5), 8-bit length.
std::string read_short_string(Reader& r, int biff) {
  if (biff >= 12) return utf16le_to_utf8(r.bytes(r.u16() * 2u), false);
  std::uint8_t cch = r.u8();
  bool high = biff >= 8 && (r.u8() & 1);
  auto raw = r.bytes(high ? cch * 2u : cch);
  return high ? utf16le_to_utf8(raw, false) : latin1_to_utf8(raw);
}

// XLUnicodeString (BIFF8) or byte string (BIFF5), 16-bit length.
std::string read_long_string(Reader& r, int biff) {
  std::uint16_t cch = r.u16();
  bool high = biff >= 8 && (r.u8() & 1);
  auto raw = r.bytes(high ? cch * 2u : cch);
  if (!r.ok()) raw = {};
  return high ? utf16le_to_utf8(raw, false) : latin1_to_utf8(raw);
}

namespace {

// BIFF8 stores a column with two relative-reference flags in its top bits;
// BIFF5 puts those flags in the row and keeps the column in one byte.
std::string read_ref(Reader& r, int biff) {
  if (biff >= 12) {
    std::uint32_t row = r.u32();
    std::uint16_t col = r.u16();
    return cell_name(row, col & 0x3FFF);
  }
  if (biff >= 8) {
    std::uint16_t row = r.u16(), col = r.u16();
    return cell_name(row, col & 0x3FFF);
  }
  std::uint16_t row = r.u16();
  std::uint8_t col = r.u8();
  return cell_name(row & 0x3FFF, col);
}

std::string read_area(Reader& r, int biff) {
  if (biff >= 12) {
    std::uint32_t r1 = r.u32(), r2 = r.u32();
    std::uint16_t c1 = r.u16(), c2 = r.u16();
    return cell_name(r1, c1 & 0x3FFF) + ":" + cell_name(r2, c2 & 0x3FFF);
  }
  if (biff >= 8) {
    std::uint16_t r1 = r.u16(), r2 = r.u16(), c1 = r.u16(), c2 = r.u16();
    return cell_name(r1, c1 & 0x3FFF) + ":" + cell_name(r2, c2 & 0x3FFF);
  }
  std::uint16_t r1 = r.u16(), r2 = r.u16();
  std::uint8_t c1 = r.u8(), c2 = r.u8();
  return cell_name(r1 & 0x3FFF, c1) + ":" + cell_name(r2 & 0x3FFF, c2);
}

std::string call(std::string name, std::vector<std::string>& st, std::size_t argc) {
  argc = std::min(argc, st.size());
  std::string out = std::move(name);
  out += '(';
  for (std::size_t i = st.size() - argc; i < st.size(); ++i) {
    if (i != st.size() - argc) out += ',';
    out += st[i];
    if (out.size() > kMaxExpr) break;
  }
  out += ')';
  st.resize(st.size() - argc);
  cap(out);
  return out;
}

constexpr std::string_view kBinaryOps[] = {"+", "-", "*", "/", "^", "&", "<", "<=", "=",
                                           ">=", ">", "<>", " ", ",", ":"};

}  // namespace

std::string decode_formula(std::string_view rgce, int biff, const std::vector<std::string>& names,
                           std::set<std::string>* functions) {
  Reader r(rgce);
  const bool b8 = biff >= 8;
  std::vector<std::string> st;
  auto pop = [&]() {
    if (st.empty()) return std::string("?");
    std::string s = std::move(st.back());
    st.pop_back();
    return s;
  };
  auto note = [&](std::string_view fn) {
    if (functions && notable(fn)) functions->emplace(fn);
  };
  bool stop = false;
  while (!stop && r.left() > 0 && r.ok()) {
    std::uint8_t ptg = r.u8();
    std::uint8_t base = ptg < 0x20 ? ptg : std::uint8_t((ptg & 0x1F) | 0x20);
    switch (base) {
      case 0x01: case 0x02:  // PtgExp / PtgTbl: shared or table formula
        r.skip(4);
        st.push_back("<shared formula>");
        stop = true;
        break;
      case 0x03: case 0x04: case 0x05: case 0x06: case 0x07: case 0x08: case 0x09:
      case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x0E: case 0x0F: case 0x10:
      case 0x11: {
        std::string b = pop(), a = pop();
        a += kBinaryOps[base - 0x03];
        a += b;
        cap(a);
        st.push_back(std::move(a));
        break;
      }
      case 0x12: st.push_back("+" + pop()); cap(st.back()); break;
      case 0x13: st.push_back("-" + pop()); cap(st.back()); break;
      case 0x14: st.push_back(pop() + "%"); cap(st.back()); break;
      case 0x15: st.push_back("(" + pop() + ")"); cap(st.back()); break;
      case 0x16: st.emplace_back(); break;  // missing argument
      case 0x17: st.push_back(quote(read_short_string(r, biff))); break;
      case 0x19: {  // PtgAttr: control tokens; only SUM(x) produces a value
        std::uint8_t flags = r.u8();
        if (flags & 0x04) r.skip((r.u16() + 1u) * 2u);  // choose jump table
        else r.skip(2);
        if (flags & 0x10) st.push_back(call("SUM", st, 1));
        break;
      }
      case 0x1C: r.skip(1); st.push_back("#ERR"); break;
      case 0x1D: st.push_back(r.u8() ? "TRUE" : "FALSE"); break;
      case 0x1E: st.push_back(std::to_string(r.u16())); break;
      case 0x1F: {
        std::uint64_t bits = r.u64();
        double v;
        static_assert(sizeof v == sizeof bits);
        std::memcpy(&v, &bits, sizeof v);
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.15g", v);
        st.emplace_back(buf);
        break;
      }
      case 0x20:
        r.skip(7);
        st.push_back("{array}");
        stop = biff >= 12;  // BIFF12 array tokens have another size
        break;
      case 0x21: case 0x22: {
        std::size_t argc;
        std::uint16_t tab;
        if (base == 0x21) {
          tab = r.u16();
          argc = std::size_t(function_argc(tab));
        } else {
          std::uint8_t c = r.u8();
          argc = b8 ? c : (c & 0x7F);
          tab = r.u16();
        }
        bool command = base == 0x22 && (tab & 0x8000);
        std::uint16_t id = tab & 0x7FFF;
        std::string name(command ? command_name(id) : function_name(id));
        if (!command && id == 255 && argc > 0) {
          // User-defined or add-in call: the callee is the first argument.
          std::size_t first = st.size() >= argc ? st.size() - argc : 0;
          if (first < st.size()) {
            name = st[first];
            st.erase(st.begin() + std::ptrdiff_t(first));
          }
          argc -= 1;
        } else if (name.empty()) {
          name = (command ? "CMD#" : "FN#") + std::to_string(id);
        }
        note(name);
        st.push_back(call(std::move(name), st, argc));
        break;
      }
      case 0x23: {
        std::uint32_t idx = b8 ? r.u32() : r.u16();
        if (!b8) r.skip(12);
        st.push_back(idx >= 1 && idx <= names.size() ? names[idx - 1]
                                                     : "NAME#" + std::to_string(idx));
        break;
      }
      case 0x24: case 0x2C: st.push_back(read_ref(r, biff)); break;
      case 0x25: case 0x2D: st.push_back(read_area(r, biff)); break;
      case 0x26: case 0x27: case 0x28: r.skip(6); break;  // subexpression follows
      case 0x29: r.skip(2); break;
      case 0x2A: r.skip(biff >= 12 ? 6 : b8 ? 4 : 3); st.push_back("#REF!"); break;
      case 0x2B: r.skip(biff >= 12 ? 12 : b8 ? 8 : 6); st.push_back("#REF!"); break;
      case 0x39: {
        if (b8) {
          std::uint16_t ixti = r.u16();
          std::uint32_t idx = r.u32();
          st.push_back("EXTNAME#" + std::to_string(ixti) + "." + std::to_string(idx));
        } else {
          r.skip(24);
          st.push_back("EXTNAME");
        }
        break;
      }
      case 0x3A: case 0x3B: case 0x3C: case 0x3D: {  // 3-D references
        bool area = base == 0x3B || base == 0x3D;
        std::string sheet = "SHEET";
        if (b8) sheet += "#" + std::to_string(r.u16());
        else r.skip(14);
        st.push_back(sheet + "!" + (area ? read_area(r, biff) : read_ref(r, biff)));
        break;
      }
      default: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "<ptg 0x%02X>", ptg);
        st.emplace_back(buf);
        stop = true;
      }
    }
  }
  std::string out;
  for (auto& s : st) {
    if (!out.empty()) out += ' ';
    out += s;
    if (out.size() > kMaxExpr) break;
  }
  if (!r.ok()) out += " <truncated>";
  cap(out);
  return out;
}

void note_functions(std::string_view f, std::set<std::string>& functions) {
  auto ident = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_';
  };
  std::size_t i = 0;
  while (i < f.size()) {
    if (!ident(f[i])) { ++i; continue; }
    std::size_t start = i;
    while (i < f.size() && ident(f[i])) ++i;
    if (i < f.size() && f[i] == '(') {
      std::string name = ascii_lower(f.substr(start, i - start));
      for (auto& c : name) c = char(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
      for (std::string_view prefix : {"_XLFN.", "_XLM."})
        if (name.starts_with(prefix)) name.erase(0, prefix.size());
      if (notable(name)) functions.insert(name);
    }
  }
}

void scan_keywords(std::string_view text, std::set<std::string>& keywords) {
  static constexpr std::string_view kWords[] = {
      "URLDownloadToFile", "ShellExecute", "WinExec", "CreateProcess", "CreateThread",
      "VirtualAlloc", "VirtualProtect", "WriteProcessMemory", "RtlCopyMemory",
      "RtlMoveMemory", "QueueUserAPC", "urlmon", "kernel32", "shell32", "powershell",
      "mshta", "rundll32", "regsvr32", "certutil", "bitsadmin", "cmd.exe", "wscript",
      "cscript", "msiexec",
  };
  // Macro text runs to megabytes of CHAR(..)&CHAR(..): skip-ahead search
  // keeps the 24 passes cheap.
  using Searcher = std::boyer_moore_horspool_searcher<std::string::const_iterator>;
  static const std::vector<std::string> lowered = [] {
    std::vector<std::string> v;
    for (auto w : kWords) v.push_back(ascii_lower(w));
    return v;
  }();
  // Searchers keep iterators into `lowered`, which never changes again.
  static const std::vector<Searcher> needles = [] {
    std::vector<Searcher> v;
    for (const auto& w : lowered) v.emplace_back(w.cbegin(), w.cend());
    return v;
  }();
  // The words are API, DLL and program names: they sit in string literals
  // ("..." in the decoded text), so only those are searched.
  std::string low;
  for (std::size_t q = text.find('"'); q != std::string_view::npos;) {
    std::size_t end = text.find('"', q + 1);
    if (end == std::string_view::npos) end = text.size();
    low += ascii_lower(text.substr(q + 1, end - q - 1));
    low += '\n';
    q = end + 1 < text.size() ? text.find('"', end + 1) : std::string_view::npos;
  }
  for (std::size_t i = 0; i < needles.size(); ++i)
    if (std::search(low.cbegin(), low.cend(), needles[i]) != low.cend())
      keywords.emplace(kWords[i]);
}

}  // namespace emogate::xlm
