// TNEF (winmail.dat, application/ms-tnef), read per MS-OXTNEF: every
// attached file becomes a child (attAttachData, or PR_ATTACH_DATA_OBJ when
// the data is only a MAPI property), named by PR_ATTACH_LONG_FILENAME or
// attAttachTitle; the message's compressed RTF body (MS-OXRTFCP) becomes
// "body.rtf" and its HTML body "body.html", since both carry exploits and
// embedded objects.
// Our own reader rather than libytnef: libytnef prints diagnostics to
// stdout (which corrupts `emogate scan --json`), rejects some valid files
// (empty attributes) and allocates from declared lengths.
// Trusted input: none. Every length is checked against the buffer; the RTF
// body is bounded by the object size limit while it is decompressed.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/context.h"
#include "engine/module.h"
#include "formats/archive/member_name.h"
#include "common/utf8.h"

namespace emogate {
namespace {

constexpr std::uint32_t kSignature = 0x223E9F78;
constexpr std::uint32_t attAttachRendData = 0x00069002;
constexpr std::uint32_t attAttachTitle = 0x00018010;
constexpr std::uint32_t attAttachData = 0x0006800F;
constexpr std::uint32_t attAttachment = 0x00069005;
constexpr std::uint32_t attMsgProps = 0x00069003;

constexpr std::uint16_t PR_RTF_COMPRESSED = 0x1009;
constexpr std::uint16_t PR_BODY_HTML = 0x1013;
constexpr std::uint16_t PR_ATTACH_DATA_OBJ = 0x3701;
constexpr std::uint16_t PR_ATTACH_LONG_FILENAME = 0x3707;
constexpr std::uint16_t PT_STRING8 = 0x001E, PT_UNICODE = 0x001F, PT_BINARY = 0x0102, PT_OBJECT = 0x000D;

struct Cursor {
  std::string_view d;
  std::size_t pos = 0;
  bool ok = true;
  bool has(std::size_t n) const { return ok && n <= d.size() - pos; }
  std::uint32_t le(int n) {
    if (!has(static_cast<std::size_t>(n))) { ok = false; return 0; }
    std::uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(d[pos + static_cast<std::size_t>(i)]);
    pos += static_cast<std::size_t>(n);
    return v;
  }
  std::string_view take(std::size_t n) {
    if (!has(n)) { ok = false; return {}; }
    std::string_view v = d.substr(pos, n);
    pos += n;
    return v;
  }
  void skip_pad(std::size_t n) { take((4 - n % 4) % 4); }
};

struct Property {
  std::uint16_t type, id;
  std::string_view value;  // the first value of a variable-length property
};

// A MAPI property list (MS-OXTNEF 2.1.3.4). Stops at the first property it
// cannot size; what was read before stays usable.
std::vector<Property> read_properties(std::string_view block) {
  std::vector<Property> out;
  Cursor c{block};
  std::uint32_t count = c.le(4);
  for (std::uint32_t i = 0; i < count && c.ok; ++i) {
    std::uint16_t type = static_cast<std::uint16_t>(c.le(2)), id = static_cast<std::uint16_t>(c.le(2));
    if (id >= 0x8000) {  // named property: GUID, then a number or a name
      c.take(16);
      if (c.le(4) == 0) {
        c.le(4);
      } else {
        std::uint32_t n = c.le(4);
        c.take(n);
        c.skip_pad(n);
      }
    }
    const bool multi = type & 0x1000;
    const std::uint16_t base = type & 0x0FFF;
    std::size_t fixed = 0;
    switch (base) {
      case 0x0002: case 0x0003: case 0x0004: case 0x000A: case 0x000B: fixed = 4; break;
      case 0x0005: case 0x0006: case 0x0007: case 0x0014: case 0x0040: fixed = 8; break;
      case 0x0048: fixed = 16; break;
      case PT_STRING8: case PT_UNICODE: case PT_BINARY: case PT_OBJECT: break;
      default: return out;  // unknown type: its size is unknown too
    }
    std::uint32_t values = (multi || fixed == 0) ? c.le(4) : 1;
    if (values > block.size()) return out;
    Property p{base, id, {}};
    for (std::uint32_t v = 0; v < values && c.ok; ++v) {
      if (fixed) { c.take(fixed); continue; }
      std::uint32_t n = c.le(4);
      std::string_view data = c.take(n);
      c.skip_pad(n);
      if (v == 0) p.value = data;
    }
    if (c.ok) out.push_back(p);
  }
  return out;
}

const Property* find(const std::vector<Property>& props, std::uint16_t id) {
  for (const auto& p : props)
    if (p.id == id) return &p;
  return nullptr;
}

std::string utf16le_to_utf8(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    std::uint32_t c = static_cast<unsigned char>(s[i]) | (static_cast<unsigned char>(s[i + 1]) << 8);
    if (c >= 0xD800 && c <= 0xDBFF && i + 3 < s.size()) {
      std::uint32_t lo = static_cast<unsigned char>(s[i + 2]) | (static_cast<unsigned char>(s[i + 3]) << 8);
      if (lo >= 0xDC00 && lo <= 0xDFFF) { c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00); i += 2; }
    }
    if (c == 0) break;
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;  // unpaired surrogate
    append_utf8(out, c);
  }
  return out;
}

std::string string_value(const Property& p) {
  if (p.type == PT_UNICODE) return utf16le_to_utf8(p.value);
  std::string_view v = p.value.substr(0, p.value.find('\0'));
  return legacy_name_to_utf8(v);
}

// MS-OXRTFCP: "MELA" is stored, "LZFu" is LZ77 over a 4 KiB ring that
// starts with a fixed RTF prefix. Output stops at `cap` bytes.
bool decompress_rtf(std::string_view in, std::uint64_t cap, std::string& out) {
  static constexpr std::string_view kPrefix =
      "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript "
      "\\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par "
      "\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
  Cursor c{in};
  c.le(4);  // compressed size
  std::uint64_t raw = c.le(4);
  std::uint32_t kind = c.le(4);
  c.le(4);  // CRC of the compressed bytes
  if (!c.ok) return false;
  std::uint64_t limit = std::min(raw, cap);
  if (kind == 0x414C454D) {  // "MELA"
    out.assign(in.substr(16, static_cast<std::size_t>(std::min<std::uint64_t>(limit, in.size() - 16))));
    return true;
  }
  if (kind != 0x75465A4C) return false;  // "LZFu"
  char ring[4096] = {};
  std::copy(kPrefix.begin(), kPrefix.end(), ring);
  std::size_t w = kPrefix.size();
  while (c.has(1) && out.size() < limit) {
    unsigned control = c.le(1);
    for (int bit = 0; bit < 8 && out.size() < limit; ++bit) {
      if (!(control & (1u << bit))) {
        if (!c.has(1)) return true;
        char b = static_cast<char>(c.le(1));
        out += b;
        ring[w] = b;
        w = (w + 1) % 4096;
        continue;
      }
      if (!c.has(2)) return true;
      std::uint32_t token = (static_cast<unsigned char>(in[c.pos]) << 8) | static_cast<unsigned char>(in[c.pos + 1]);
      c.pos += 2;
      std::size_t from = token >> 4, len = (token & 0xF) + 2;
      if (from == w) return true;  // end marker
      for (std::size_t i = 0; i < len && out.size() < limit; ++i) {
        char b = ring[(from + i) % 4096];
        out += b;
        ring[w] = b;
        w = (w + 1) % 4096;
      }
    }
  }
  return true;
}

struct TnefAttachment {
  std::string title;
  std::string_view data;
  std::vector<Property> props;
};

class TnefExtractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "tnef"; }
  std::vector<std::string> types() const override { return {tag::tnef}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    Cursor c{obj.bytes()};
    if (c.le(4) != kSignature) {
      ctx.add_finding(FindingType::malformed, obj, "TNEF: no signature");
      return;
    }
    c.le(2);  // legacy key
    std::vector<TnefAttachment> attachments;
    std::vector<Property> message;
    std::string problem;
    while (c.pos < c.d.size() && !ctx.expired()) {
      std::size_t at = c.pos;
      int level = static_cast<int>(c.le(1));
      std::uint32_t id = c.le(4), len = c.le(4);
      std::string_view data = c.take(len);
      std::uint32_t checksum = c.le(2);
      if (!c.ok) {
        problem = "attribute at offset " + std::to_string(at) + " runs past the end";
        break;
      }
      std::uint32_t sum = 0;
      for (unsigned char b : data) sum += b;
      if ((sum & 0xFFFF) != checksum && problem.empty())
        problem = "attribute at offset " + std::to_string(at) + " fails its checksum";
      if (level == 2 && id == attAttachRendData) attachments.emplace_back();
      if (level == 2 && attachments.empty()) {
        // Outlook opens every attachment with attAttachRendData; data that
        // comes before it still belongs to one, and is still scanned.
        attachments.emplace_back();
        if (problem.empty())
          problem = "attachment attribute at offset " + std::to_string(at) + " before any attAttachRendData";
      }
      if (level == 2 && id == attAttachTitle) attachments.back().title = string_value(Property{PT_STRING8, 0, data});
      if (level == 2 && id == attAttachData) attachments.back().data = data;
      if (level == 2 && id == attAttachment) attachments.back().props = read_properties(data);
      if (level == 1 && id == attMsgProps) message = read_properties(data);
    }
    if (!problem.empty()) ctx.add_finding(FindingType::malformed, obj, "TNEF: " + problem);
    int index = 0;
    for (const auto& a : attachments) {
      ++index;
      std::string_view data = a.data;
      if (data.empty()) {
        if (const Property* p = find(a.props, PR_ATTACH_DATA_OBJ))
          data = (p->type == PT_OBJECT && p->value.size() > 16) ? p->value.substr(16) : p->value;  // IID first
      }
      if (data.empty()) continue;
      if (!ctx.can_add_child(obj)) return;
      const Property* lname = find(a.props, PR_ATTACH_LONG_FILENAME);
      MemberName name = sanitize_member_name(lname ? string_value(*lname) : a.title,
                                             "attachment-" + std::to_string(index));
      if (!name.problem.empty())
        ctx.add_finding(FindingType::malformed, obj, "attachment name \"" + name.name + "\": " + name.problem);
      ChildSpec spec;
      spec.name = name.name;
      ctx.add_child(obj, std::move(spec), data);
    }
    add_bodies(obj, ctx, message);
  }

 private:
  static void add_bodies(const Object& obj, ScanContext& ctx, const std::vector<Property>& message) {
    if (const Property* rtf = find(message, PR_RTF_COMPRESSED); rtf && ctx.can_add_child(obj)) {
      std::string body;
      if (decompress_rtf(rtf->value, ctx.limits().max_object_size, body) && !body.empty()) {
        ChildSpec spec;
        spec.name = "body.rtf";
        spec.compressed_size = rtf->value.size();
        ctx.add_child(obj, std::move(spec), body);
      }
    }
    if (const Property* html = find(message, PR_BODY_HTML); html && !html->value.empty() && ctx.can_add_child(obj)) {
      ChildSpec spec;
      spec.name = "body.html";
      ctx.add_child(obj, std::move(spec), html->value);
    }
  }
};

}  // namespace

std::unique_ptr<Module> make_tnef_module() { return std::make_unique<TnefExtractor>(); }

}  // namespace emogate
