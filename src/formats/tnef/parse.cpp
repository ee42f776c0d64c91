// TNEF reader and MS-OXRTFCP decompressor: see parse.h.
// Trusted input: none.
#include "formats/tnef/parse.h"

#include <algorithm>

#include "common/bytes.h"
#include "common/text.h"
#include "formats/archive/member_name.h"

namespace emogate::tnef {
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

// Skips the padding that aligns a value of `n` bytes to 4.
void skip_pad(ByteReader& c, std::size_t n) { c.skip((4 - n % 4) % 4); }

struct Property {
  std::uint16_t type, id;
  std::string_view value;  // the first value of a variable-length property
};

// A MAPI property list (MS-OXTNEF 2.1.3.4). Stops at the first property it
// cannot size; what was read before stays usable.
std::vector<Property> read_properties(std::string_view block) {
  std::vector<Property> out;
  ByteReader c(block);
  std::uint32_t count = c.u32();
  for (std::uint32_t i = 0; i < count && c.ok(); ++i) {
    std::uint16_t type = c.u16(), id = c.u16();
    if (id >= 0x8000) {  // named property: GUID, then a number or a name
      c.skip(16);
      if (c.u32() == 0) {
        c.u32();
      } else {
        std::uint32_t n = c.u32();
        c.skip(n);
        skip_pad(c, n);
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
    std::uint32_t values = (multi || fixed == 0) ? c.u32() : 1;
    if (values > block.size()) return out;
    Property p{base, id, {}};
    for (std::uint32_t v = 0; v < values && c.ok(); ++v) {
      if (fixed) { c.skip(fixed); continue; }
      std::uint32_t n = c.u32();
      std::string_view data = c.bytes(n);
      skip_pad(c, n);
      if (v == 0) p.value = data;
    }
    if (c.ok()) out.push_back(p);
  }
  return out;
}

const Property* find(const std::vector<Property>& props, std::uint16_t id) {
  for (const auto& p : props)
    if (p.id == id) return &p;
  return nullptr;
}

std::string string_value(const Property& p) {
  if (p.type == PT_UNICODE) return utf16le_to_utf8(p.value, true);
  std::string_view v = p.value.substr(0, p.value.find('\0'));
  return legacy_name_to_utf8(v);
}

struct RawAttachment {
  std::string title;
  std::string_view data;
  std::vector<Property> props;
};

}  // namespace

Message parse(std::string_view bytes, const std::function<bool()>& stop) {
  Message m;
  ByteReader c(bytes);
  if (c.u32() != kSignature) return m;
  m.signature = true;
  c.u16();  // legacy key
  std::vector<RawAttachment> attachments;
  std::vector<Property> message;
  while (c.pos() < bytes.size() && !(stop && stop())) {
    std::size_t at = c.pos();
    int level = c.u8();
    std::uint32_t id = c.u32(), len = c.u32();
    std::string_view data = c.bytes(len);
    std::uint32_t checksum = c.u16();
    if (!c.ok()) {
      m.problem = "attribute at offset " + std::to_string(at) + " runs past the end";
      break;
    }
    std::uint32_t sum = 0;
    for (unsigned char b : data) sum += b;
    if ((sum & 0xFFFF) != checksum && m.problem.empty())
      m.problem = "attribute at offset " + std::to_string(at) + " fails its checksum";
    if (level == 2 && id == attAttachRendData) attachments.emplace_back();
    if (level == 2 && attachments.empty()) {
      // Outlook opens every attachment with attAttachRendData; data that
      // comes before it still belongs to one, and is still read.
      attachments.emplace_back();
      if (m.problem.empty())
        m.problem = "attachment attribute at offset " + std::to_string(at) + " before any attAttachRendData";
    }
    if (level == 2 && id == attAttachTitle) attachments.back().title = string_value(Property{PT_STRING8, 0, data});
    if (level == 2 && id == attAttachData) attachments.back().data = data;
    if (level == 2 && id == attAttachment) attachments.back().props = read_properties(data);
    if (level == 1 && id == attMsgProps) message = read_properties(data);
  }
  for (const auto& a : attachments) {
    Attachment out;
    out.data = a.data;
    if (out.data.empty()) {
      if (const Property* p = find(a.props, PR_ATTACH_DATA_OBJ))
        out.data = (p->type == PT_OBJECT && p->value.size() > 16) ? p->value.substr(16) : p->value;  // IID first
    }
    const Property* lname = find(a.props, PR_ATTACH_LONG_FILENAME);
    out.name = lname ? string_value(*lname) : a.title;
    m.attachments.push_back(std::move(out));
  }
  if (const Property* rtf = find(message, PR_RTF_COMPRESSED)) m.rtf_compressed = rtf->value;
  if (const Property* html = find(message, PR_BODY_HTML)) m.html = html->value;
  return m;
}

bool decompress_rtf(std::string_view in, std::uint64_t cap, std::string& out) {
  static constexpr std::string_view kPrefix =
      "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript "
      "\\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par "
      "\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
  ByteReader c(in);
  c.u32();  // compressed size
  std::uint64_t raw = c.u32();
  std::uint32_t kind = c.u32();
  c.u32();  // CRC of the compressed bytes
  if (!c.ok()) return false;
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
    unsigned control = c.u8();
    for (int bit = 0; bit < 8 && out.size() < limit; ++bit) {
      if (!(control & (1u << bit))) {
        if (!c.has(1)) return true;
        char b = static_cast<char>(c.u8());
        out += b;
        ring[w] = b;
        w = (w + 1) % 4096;
        continue;
      }
      if (!c.has(2)) return true;
      const std::uint32_t hi = c.u8();  // the reference is big-endian
      const std::uint32_t token = (hi << 8) | c.u8();
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

}  // namespace emogate::tnef
