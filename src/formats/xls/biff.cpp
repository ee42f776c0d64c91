// BIFF8/BIFF5 Workbook stream walker for Excel 4.0 macros ([MS-XLS]):
// BOUNDSHEET (sheet type and visibility), NAME (Auto_Open-style names), the
// cells of macro-sheet substreams (FORMULA, LABEL, LABELSST via SST), the
// THEME package, and FILEPASS: a stream Excel's default password opens
// (key stream from biff_crypto.cpp) is decrypted record by record and walked
// again. Formulas are decoded by formula.cpp.
// Trusted input: none. The walk is linear over the stream (no offsets
// followed), every field is bounds-checked and all buffers are bounded by
// the stream size or BiffLimits.
#include "formats/xls/biff.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>

#include "common/bytes.h"
#include "common/text.h"
#include "formats/office_crypto/office_crypto.h"
#include "formats/xls/biff_strings.h"

namespace emogate::xlm {

using Reader = ByteReader;

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
