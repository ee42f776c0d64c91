// BIFF8/BIFF5 Workbook stream walker for Excel 4.0 macros ([MS-XLS]):
// BOUNDSHEET (sheet type and visibility), NAME (Auto_Open-style names), the
// cells of macro-sheet substreams (FORMULA, LABEL, LABELSST via SST), and
// FILEPASS with RC4 decryption under Excel's default password
// ([MS-OFFCRYPTO] 2.3.5.2 and 2.3.6.2). Input trusted: none — the walk is
// linear over the stream (no offsets followed), every field is bounds-checked
// and all buffers are bounded by the stream size or BiffLimits.
#include "formats/xls/biff.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <cstdio>
#include <cstring>
#include <optional>

#include "common/bytes.h"
#include "common/text.h"
#include "formats/office_crypto/office_crypto.h"

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

std::string_view encryption_name(Encryption e) {
  switch (e) {
    case Encryption::none: return "none";
    case Encryption::xor_obfuscation: return "XOR obfuscation";
    case Encryption::rc4: return "RC4";
    case Encryption::rc4_cryptoapi: return "RC4 CryptoAPI";
    default: return "unknown";
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

// ---------------------------------------------------------------- crypto

namespace {

// RC4 is written out here because OpenSSL 3 only offers it through the legacy
// provider, which distributions do not load by default.
class Rc4 {
 public:
  explicit Rc4(std::string_view key) {
    for (int k = 0; k < 256; ++k) s_[k] = std::uint8_t(k);
    if (key.empty()) return;
    std::uint8_t j = 0;
    for (int k = 0; k < 256; ++k) {
      j = std::uint8_t(j + s_[k] + static_cast<std::uint8_t>(key[k % key.size()]));
      std::swap(s_[k], s_[j]);
    }
  }
  void apply(char* p, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
      i_ = std::uint8_t(i_ + 1);
      j_ = std::uint8_t(j_ + s_[i_]);
      std::swap(s_[i_], s_[j_]);
      p[k] = char(static_cast<std::uint8_t>(p[k]) ^ s_[std::uint8_t(s_[i_] + s_[j_])]);
    }
  }

 private:
  std::array<std::uint8_t, 256> s_{};
  std::uint8_t i_ = 0, j_ = 0;
};

std::string utf16le(std::string_view ascii) {
  std::string s;
  for (char c : ascii) {
    s += c;
    s += '\0';
  }
  return s;
}

// Per-block RC4 keys of the two BIFF8 schemes.
struct KeyDeriver {
  bool cryptoapi = false;
  std::string base;        // truncated H1 (RC4) or H0 (CryptoAPI)
  std::size_t key_bytes = 16;

  KeyDeriver(bool capi, std::string_view password, std::string_view salt, std::uint32_t key_bits)
      : cryptoapi(capi) {
    std::string pw = utf16le(password);
    if (cryptoapi) {
      base = office_crypto::digest(EVP_sha1(), std::string(salt) + pw);
      key_bytes = (key_bits == 0 ? 40 : key_bits) / 8;
    } else {
      std::string h0 = office_crypto::digest(EVP_md5(), pw).substr(0, 5);
      std::string buf;
      for (int k = 0; k < 16; ++k) buf += h0 + std::string(salt);
      base = office_crypto::digest(EVP_md5(), buf).substr(0, 5);
    }
  }
  std::string block_key(std::uint32_t block) const {
    if (!cryptoapi) return office_crypto::digest(EVP_md5(), base + le32_bytes(block));
    std::string h = office_crypto::digest(EVP_sha1(), base + le32_bytes(block));
    std::string key = h.substr(0, std::min(key_bytes, h.size()));
    // A 40-bit CryptoAPI key is used as 128 bits with zero padding.
    if (key_bytes == 5) key.resize(16, '\0');
    return key;
  }
  std::string hash(std::string_view v) const {
    return office_crypto::digest(cryptoapi ? EVP_sha1() : EVP_md5(), v);
  }
};

struct FilePass {
  bool cryptoapi = false;
  std::uint32_t key_bits = 0;
  std::string_view salt, verifier, verifier_hash;
};

std::optional<FilePass> parse_filepass(std::string_view data) {
  Reader r(data);
  if (r.u16() != 1) return std::nullopt;
  std::uint16_t major = r.u16(), minor = r.u16();
  FilePass fp;
  if (major == 1 && minor == 1) {
    fp.salt = r.bytes(16);
    fp.verifier = r.bytes(16);
    fp.verifier_hash = r.bytes(16);
  } else if (major >= 2 && major <= 4 && minor == 2) {
    fp.cryptoapi = true;
    r.u32();  // flags
    std::uint32_t header_size = r.u32();
    std::string_view header = r.bytes(header_size);
    fp.key_bits = le32(header, 16);
    std::uint32_t salt_size = r.u32();
    if (salt_size != 16) return std::nullopt;
    fp.salt = r.bytes(16);
    fp.verifier = r.bytes(16);
    r.u32();  // verifier hash size
    fp.verifier_hash = r.bytes(20);
    if (fp.key_bits != 0 && (fp.key_bits < 40 || fp.key_bits > 128 || fp.key_bits % 8))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!r.ok()) return std::nullopt;
  return fp;
}

}  // namespace

std::string biff_keystream(std::string_view filepass, std::string_view password,
                           std::size_t length) {
  auto fp = parse_filepass(filepass);
  if (!fp) return {};
  KeyDeriver kd(fp->cryptoapi, password, fp->salt, fp->key_bits);
  std::string check = std::string(fp->verifier) + std::string(fp->verifier_hash);
  Rc4(kd.block_key(0)).apply(check.data(), check.size());
  std::string want = kd.hash(check.substr(0, 16));
  if (want.empty() || check.compare(16, want.size(), want) != 0) return {};
  std::string ks(length, '\0');
  for (std::size_t at = 0; at < length; at += 1024) {
    Rc4 rc4(kd.block_key(std::uint32_t(at / 1024)));
    rc4.apply(ks.data() + at, std::min<std::size_t>(1024, length - at));
  }
  return ks;
}

std::string make_filepass(bool cryptoapi, std::string_view password, std::string_view salt16,
                          std::string_view verifier16) {
  auto le16b = [](std::uint16_t v) { return std::string{char(v & 0xFF), char(v >> 8)}; };
  KeyDeriver kd(cryptoapi, password, salt16, 40);
  std::string sealed = std::string(verifier16) + kd.hash(verifier16);
  Rc4(kd.block_key(0)).apply(sealed.data(), sealed.size());
  std::string out = le16b(1);
  if (!cryptoapi) return out + le16b(1) + le16b(1) + std::string(salt16) + sealed;
  std::string header = le32_bytes(0x04) + le32_bytes(0) + le32_bytes(0x6801) +
                       le32_bytes(0x8004) + le32_bytes(40) + le32_bytes(1) + le32_bytes(0) +
                       le32_bytes(0) + std::string(2, '\0');
  return out + le16b(2) + le16b(2) + le32_bytes(0x04) + le32_bytes(std::uint32_t(header.size())) +
         header + le32_bytes(16) + std::string(salt16) + sealed.substr(0, 16) + le32_bytes(20) +
         sealed.substr(16);
}

// ---------------------------------------------------------------- records

namespace {

enum : std::uint16_t {
  kFormula = 0x0006, kEof = 0x000A, kName = 0x0018, kFilePass = 0x002F, kContinue = 0x003C,
  kBoundSheet = 0x0085, kRString = 0x00D6, kSst = 0x00FC, kLabelSst = 0x00FD,
  kLabel = 0x0204, kBof = 0x0809,
};

// Records [MS-XLS] 2.2.10 leaves in clear text after FILEPASS.
bool never_encrypted(std::uint16_t type) {
  switch (type) {
    case kBof: case kFilePass: case 0x0194: case 0x0195: case 0x00E1: case 0x0196:
    case 0x0138:
      return true;
    default:
      return false;
  }
}

// SST strings may be split across CONTINUE records; at each split inside the
// character data the next record starts with a fresh high-byte flag.
class SegmentReader {
 public:
  explicit SegmentReader(std::vector<std::string_view> segs) : segs_(std::move(segs)) {}
  bool at_end() {
    normalize();
    return seg_ >= segs_.size();
  }
  std::uint32_t uint(int n) {
    std::uint32_t v = 0;
    for (int k = 0; k < n; ++k) v |= std::uint32_t(byte()) << (8 * k);
    return v;
  }
  void skip(std::uint64_t n) {
    while (n > 0 && !at_end()) {
      std::size_t step = std::min<std::uint64_t>(n, segs_[seg_].size() - off_);
      off_ += step;
      n -= step;
    }
    if (n > 0) bad_ = true;
  }
  std::string chars(std::uint32_t cch, bool high) {
    std::string out;
    while (cch > 0 && !bad_) {
      if (seg_ < segs_.size() && off_ >= segs_[seg_].size()) {
        if (++seg_ >= segs_.size()) break;
        off_ = 0;
        high = byte() & 1;
        continue;
      }
      if (seg_ >= segs_.size()) break;
      std::string_view s = segs_[seg_];
      std::size_t avail = (s.size() - off_) / (high ? 2 : 1);
      if (avail == 0) break;
      std::size_t n = std::min<std::size_t>(avail, cch);
      std::string_view raw = s.substr(off_, n * (high ? 2 : 1));
      out += high ? utf16le_to_utf8(raw, false) : latin1_to_utf8(raw);
      off_ += raw.size();
      cch -= std::uint32_t(n);
    }
    if (cch > 0) bad_ = true;
    return out;
  }
  bool bad() const { return bad_; }

 private:
  void normalize() {
    while (seg_ < segs_.size() && off_ >= segs_[seg_].size()) {
      ++seg_;
      off_ = 0;
    }
  }
  std::uint8_t byte() {
    if (at_end()) { bad_ = true; return 0; }
    return static_cast<std::uint8_t>(segs_[seg_][off_++]);
  }
  std::vector<std::string_view> segs_;
  std::size_t seg_ = 0, off_ = 0;
  bool bad_ = false;
};

std::vector<std::string> parse_sst(std::vector<std::string_view> segs) {
  std::vector<std::string> out;
  SegmentReader r(std::move(segs));
  r.uint(4);  // cstTotal
  std::uint32_t unique = r.uint(4);
  while (out.size() < unique && !r.at_end() && !r.bad()) {
    std::uint32_t cch = r.uint(2);
    std::uint8_t flags = std::uint8_t(r.uint(1));
    std::uint32_t runs = (flags & 0x08) ? r.uint(2) : 0;
    std::uint32_t ext = (flags & 0x04) ? r.uint(4) : 0;
    out.push_back(r.chars(cch, flags & 1));
    r.skip(std::uint64_t(runs) * 4 + ext);
  }
  return out;
}

struct BoundSheet {
  std::uint32_t pos = 0;
  int state = 0;
  int dt = 0;
  std::string name;
};

class Walker {
 public:
  Walker(std::string_view s, const BiffLimits& lim, const std::function<bool()>& expired,
         BiffResult& res, bool plaintext = false)
      : s_(s), lim_(lim), expired_(expired), res_(res), plaintext_(plaintext) {}

  // Returns the FILEPASS record data when the walk stopped there so that the
  // caller can decrypt and walk again.
  std::optional<std::pair<std::size_t, std::string_view>> run(bool stop_at_filepass);

 private:
  void on_bof(std::size_t at, std::string_view d);
  void on_boundsheet(std::string_view d);
  void on_name(std::string_view d);
  void on_cell(std::uint16_t type, std::string_view d);
  void add_line(std::string line);
  std::vector<std::string_view> continued(std::size_t next, std::string_view first) const;

  std::string_view s_;
  const BiffLimits& lim_;
  const std::function<bool()>& expired_;
  BiffResult& res_;
  bool plaintext_;  // walking a stream we decrypted
  std::vector<BoundSheet> bounds_;
  std::vector<std::string> names_;
  std::vector<std::pair<std::string, std::string>> name_formulas_;
  std::vector<std::string> sst_;
  int depth_ = 0;
  int substreams_ = 0;
  int macro_ = -1;  // index into res_.xlm.sheets of the current macro sheet
  bool opaque_ = false;  // record data after an undecryptable FILEPASS
  std::string names_text_;
  std::size_t text_total_ = 0;
};

std::vector<std::string_view> Walker::continued(std::size_t next, std::string_view first) const {
  std::vector<std::string_view> segs{first};
  while (next + 4 <= s_.size() && le16(s_, next) == kContinue) {
    std::size_t len = std::min<std::size_t>(le16(s_, next + 2), s_.size() - next - 4);
    segs.push_back(s_.substr(next + 4, len));
    next += 4 + len;
  }
  return segs;
}

void Walker::on_bof(std::size_t at, std::string_view d) {
  std::uint16_t vers = le16(d, 0), dt = le16(d, 2);
  if (depth_++ > 0) return;  // chart or object nested in a sheet
  if (substreams_++ == 0) {
    if (res_.biff == 0) res_.biff = vers >= 0x0600 ? 8 : 5;
    return;
  }
  const BoundSheet* b = nullptr;
  for (auto& bs : bounds_)
    if (bs.pos == at) b = &bs;
  std::size_t ordinal = std::size_t(substreams_ - 2);
  if (!b && ordinal < bounds_.size()) b = &bounds_[ordinal];
  if (dt != 0x0040 && !(b && b->dt == 1)) return;
  MacroSheet ms;
  ms.name = b ? b->name : "Sheet" + std::to_string(substreams_ - 1);
  ms.state = b && !opaque_ ? b->state : -1;
  res_.xlm.sheets.push_back(std::move(ms));
  macro_ = int(res_.xlm.sheets.size() - 1);
}

void Walker::on_boundsheet(std::string_view d) {
  Reader r(d);
  BoundSheet b;
  b.pos = r.u32();
  if (opaque_) {
    bounds_.push_back(std::move(b));
    return;
  }
  b.state = r.u8() & 0x03;
  b.dt = r.u8();
  b.name = read_short_string(r, res_.biff);
  if (!r.ok()) res_.problems.push_back("truncated BOUNDSHEET record");
  // A macro sheet only exists with its substream; keep it so that a BOF of
  // type worksheet at that offset still counts as the macro sheet it claims.
  bounds_.push_back(std::move(b));
}

std::string_view builtin_name(std::uint8_t code) {
  static constexpr std::string_view k[] = {
      "Consolidate_Area", "Auto_Open", "Auto_Close", "Extract", "Database", "Criteria",
      "Print_Area", "Print_Titles", "Recorder", "Data_Form", "Auto_Activate",
      "Auto_Deactivate", "Sheet_Title", "_FilterDatabase"};
  return code < std::size(k) ? k[code] : std::string_view{};
}

}  // namespace

bool auto_exec_name(std::string_view name) {
  if (istarts_with(name, "_xlnm.")) name.remove_prefix(6);
  return istarts_with(name, "auto_open") || istarts_with(name, "auto_close") ||
         istarts_with(name, "auto_activate");
}

namespace {

void Walker::on_name(std::string_view d) {
  Reader r(d);
  std::uint16_t flags = r.u16();
  r.u8();  // chKey
  std::uint8_t cch = r.u8();
  std::uint16_t cce = r.u16();
  r.skip(8);  // ixals, itab, four text lengths
  std::string name;
  if (res_.biff >= 8) {
    bool high = r.u8() & 1;
    auto raw = r.bytes(high ? cch * 2u : cch);
    if ((flags & 0x0020) && !raw.empty()) {
      std::string_view b = builtin_name(std::uint8_t(raw[0]));
      name = b.empty() ? "Builtin#" + std::to_string(std::uint8_t(raw[0])) : std::string(b);
    } else {
      name = high ? utf16le_to_utf8(raw, false) : latin1_to_utf8(raw);
    }
  } else {
    auto raw = r.bytes(cch);
    if ((flags & 0x0020) && !raw.empty())
      name = std::string(builtin_name(std::uint8_t(raw[0])));
    else
      name = latin1_to_utf8(raw);
  }
  names_.push_back(name);
  std::string_view rgce = r.bytes(std::min<std::size_t>(cce, r.left()));
  if (auto_exec_name(name)) res_.xlm.auto_names.push_back(name);
  if (!rgce.empty() && names_text_.size() < lim_.max_text) {
    std::string f = decode_formula(rgce, res_.biff, names_, &res_.xlm.functions);
    names_text_ += "Name " + name + ": =" + f + "\n";
  }
}

void Walker::add_line(std::string line) {
  auto& text = res_.xlm.sheets[std::size_t(macro_)].text;
  // Per sheet and for the whole workbook: hundreds of macro sheets must not
  // multiply the cap.
  if (text.size() >= lim_.max_text || text_total_ >= 4 * lim_.max_text) return;
  text_total_ += line.size() + 1;
  text += line;
  text += '\n';
}

void Walker::on_cell(std::uint16_t type, std::string_view d) {
  Reader r(d);
  std::uint16_t row = r.u16(), col = r.u16();
  r.u16();  // ixfe
  std::string cell = cell_name(row, col) + ": ";
  if (type == kFormula) {
    r.skip(14);  // cached value, flags, chn
    std::uint16_t cce = r.u16();
    std::string_view rgce = r.bytes(std::min<std::size_t>(cce, r.left()));
    add_line(cell + "=" + decode_formula(rgce, res_.biff, names_, &res_.xlm.functions));
  } else if (type == kLabelSst) {
    std::uint32_t i = r.u32();
    if (r.ok()) add_line(cell + (i < sst_.size() ? quote(sst_[i]) : "<sst " + std::to_string(i) + ">"));
  } else {
    std::string v = read_long_string(r, res_.biff);
    add_line(cell + quote(v));
  }
}

std::optional<std::pair<std::size_t, std::string_view>> Walker::run(bool stop_at_filepass) {
  std::size_t pos = 0, records = 0;
  while (pos + 4 <= s_.size()) {
    if (++records > lim_.max_records || ((records & 0xFFF) == 0 && expired_ && expired_())) {
      res_.stopped = true;
      break;
    }
    std::uint16_t type = le16(s_, pos), len = le16(s_, pos + 2);
    std::size_t at = pos;
    pos += 4;
    if (len > s_.size() - pos) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "record 0x%04X at offset %zu runs past the end of the stream",
                    unsigned(type), at);
      res_.problems.emplace_back(buf);
      len = std::uint16_t(s_.size() - pos);
    }
    std::string_view d = s_.substr(pos, len);
    pos += len;
    if (records == 1 && type != kBof) {
      res_.problems.push_back("stream does not start with a BOF record");
      if (type > 0x1000) break;  // not BIFF at all
    }
    switch (type) {
      case kBof: on_bof(at, d); continue;
      case kEof:
        if (depth_ > 0 && --depth_ == 0) macro_ = -1;
        continue;
      case kFilePass:
        if (plaintext_) continue;
        if (res_.biff < 8) {
          res_.encryption = Encryption::xor_obfuscation;
        } else {
          std::uint16_t kind = le16(d, 0), major = le16(d, 2);
          res_.encryption = kind == 0   ? Encryption::xor_obfuscation
                            : major == 1 ? Encryption::rc4
                                         : Encryption::rc4_cryptoapi;
          if (kind == 1 && stop_at_filepass) return std::make_pair(at, d);
        }
        opaque_ = true;
        continue;
      case kBoundSheet:
        if (depth_ == 1 && substreams_ == 1) on_boundsheet(d);
        continue;
      default:
        break;
    }
    if (opaque_) continue;
    if (type == kName && depth_ == 1 && substreams_ == 1) {
      on_name(d);
    } else if (type == kSst && sst_.empty()) {
      sst_ = parse_sst(continued(pos, d));
    } else if (macro_ >= 0 && (type == kFormula || type == kLabel || type == kRString ||
                               type == kLabelSst)) {
      on_cell(type, d);
    }
  }
  res_.xlm.names_text = names_text_;
  for (auto& ms : res_.xlm.sheets) scan_keywords(ms.text, res_.xlm.keywords);
  scan_keywords(names_text_, res_.xlm.keywords);
  return std::nullopt;
}

}  // namespace

// Headers, the clear-text records and BOUNDSHEET's stream offset stay as
// they are, but still advance the key stream, which is indexed by offset.
std::string xor_records(std::string_view s, std::size_t after, std::string_view keystream) {
  std::string out(s);
  std::size_t pos = after;
  while (pos + 4 <= s.size()) {
    std::uint16_t type = le16(s, pos);
    std::size_t len = std::min<std::size_t>(le16(s, pos + 2), s.size() - pos - 4);
    std::size_t from = pos + 4 + (type == kBoundSheet ? 4 : 0);
    std::size_t to = pos + 4 + len;
    if (!never_encrypted(type))
      for (std::size_t k = from; k < to && k < keystream.size(); ++k)
        out[k] = char(out[k] ^ keystream[k]);
    pos = to;
  }
  return out;
}

// [MS-XLS] 2.4.326 Theme (0x0896): FrtHeader (12 bytes), dwThemeVersion
// (4), then the package; longer ones continue in ContinueFrt12 records
// (0x087F, FrtHeader then data). Empty when the stream has no THEME record
// with a package.
std::string theme_package(std::string_view s) {
  std::string out;
  bool in_theme = false;
  for (std::size_t pos = 0; pos + 4 <= s.size();) {
    const std::uint16_t type = le16(s, pos);
    const std::size_t len = le16(s, pos + 2);
    if (len > s.size() - pos - 4) break;
    const std::string_view body = s.substr(pos + 4, len);
    pos += 4 + len;
    if (type == 0x0896 && out.empty() && body.size() > 16) {
      out.assign(body.substr(16));
      in_theme = true;
    } else if (in_theme && type == 0x087F && body.size() >= 12) {
      out.append(body.substr(12));
    } else if (in_theme) {
      break;
    }
  }
  return out;
}

BiffResult analyse_workbook(std::string_view stream, const BiffLimits& limits,
                            const std::function<bool()>& expired) {
  BiffResult res;
  auto fp = Walker(stream, limits, expired, res).run(true);
  if (!fp) return res;
  std::string ks = biff_keystream(fp->second, office_crypto::kExcelDefaultPassword, stream.size());
  Encryption enc = res.encryption;
  int biff = res.biff;
  if (ks.empty()) {
    // Unknown password: keep walking for what stays in clear text (BOF
    // records still reveal macro-sheet substreams).
    BiffResult opaque;
    opaque.encryption = enc;
    opaque.biff = biff;
    Walker(stream, limits, expired, opaque).run(false);
    return opaque;
  }
  BiffResult plain;
  plain.decrypted_stream = xor_records(stream, fp->first + 4 + fp->second.size(), ks);
  plain.encryption = enc;
  plain.decrypted = true;
  plain.biff = biff;
  Walker(plain.decrypted_stream, limits, expired, plain, true).run(false);
  return plain;
}

}  // namespace emogate::xlm
