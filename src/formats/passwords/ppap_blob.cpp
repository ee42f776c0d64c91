// The PPAP pending blob (ppap_blob.h).
// Trusted input: none.
#include "formats/passwords/ppap_blob.h"

#include <algorithm>

namespace emogate::ppap {
namespace {

constexpr std::string_view kMagic = "EPB";
using B = PpapBlobBounds;

void put16(std::string& out, std::size_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}

bool put_str(std::string& out, std::string_view s, std::size_t max) {
  if (s.size() > max) return false;
  put16(out, s.size());
  out += s;
  return true;
}

struct Parser {
  ByteReader in;
  std::string error;

  bool fail(std::string why) {
    if (error.empty()) error = std::move(why);
    return false;
  }
  bool str(std::string& out, std::size_t max, const char* what) {
    const std::uint16_t n = in.u16();
    if (!in.ok()) return fail(std::string("truncated before ") + what);
    if (n > max) return fail(std::string(what) + " longer than " + std::to_string(max) + " bytes");
    std::string_view v = in.bytes(n);
    if (!in.ok()) return fail(std::string("truncated in ") + what);
    out.assign(v);
    return true;
  }
  bool count(std::size_t& n, bool wide, std::size_t min, std::size_t max, const char* what) {
    n = wide ? in.u16() : in.u8();
    if (!in.ok()) return fail(std::string("truncated before the number of ") + what);
    if (n < min || n > max)
      return fail("number of " + std::string(what) + " " + std::to_string(n) + " not in " + std::to_string(min) +
                  ".." + std::to_string(max));
    return true;
  }
};

}  // namespace

bool PpapArchive::document() const {
  return !members.empty() && std::all_of(members.begin(), members.end(), [](const PpapMember& m) {
    return m.check.kind == LockKind::office_package;
  });
}

std::optional<std::string> encode_ppap_blob(const PpapBlob& b) {
  if (b.archives.empty() || b.archives.size() > B::max_archives || b.recipients.size() > B::max_recipients)
    return std::nullopt;
  std::string out(kMagic);
  out += static_cast<char>(kPpapBlobVersion);
  if (!put_str(out, b.sender, B::max_address) || !put_str(out, b.from, B::max_address) ||
      !put_str(out, b.subject, B::max_subject) || !put_str(out, b.queue_id, B::max_queue_id))
    return std::nullopt;
  put16(out, b.recipients.size());
  for (const std::string& r : b.recipients)
    if (!put_str(out, r, B::max_address)) return std::nullopt;
  out += static_cast<char>(b.archives.size());
  for (const PpapArchive& a : b.archives) {
    if (a.members.empty() || a.members.size() > B::max_members) return std::nullopt;
    if (!put_str(out, a.path, B::max_path) || !put_str(out, a.name, B::max_name)) return std::nullopt;
    out += static_cast<char>(a.members.size());
    for (const PpapMember& m : a.members) {
      const std::string check = encode_lock(m.check);
      if (!put_str(out, m.name, B::max_name) || check.empty() || !decode_lock(check)) return std::nullopt;
      out += check;
    }
  }
  if (out.size() > B::max_bytes) return std::nullopt;
  return out;
}

std::optional<PpapBlob> parse_ppap_blob(std::string_view bytes, std::string* error) {
  Parser p{ByteReader(bytes), {}};
  PpapBlob b;
  auto parse = [&]() -> bool {
    if (bytes.size() > B::max_bytes) return p.fail("blob larger than " + std::to_string(B::max_bytes) + " bytes");
    if (p.in.bytes(kMagic.size()) != kMagic) return p.fail("not a PPAP blob (magic)");
    const std::uint8_t version = p.in.u8();
    if (!p.in.ok()) return p.fail("truncated before the version");
    if (version != kPpapBlobVersion && version != kPpapBlobVersionZipOnly)
      return p.fail("unsupported version " + std::to_string(version));
    if (!p.str(b.sender, B::max_address, "sender") || !p.str(b.from, B::max_address, "From") ||
        !p.str(b.subject, B::max_subject, "Subject") || !p.str(b.queue_id, B::max_queue_id, "queue id"))
      return false;
    std::size_t n = 0;
    if (!p.count(n, true, 0, B::max_recipients, "recipients")) return false;
    b.recipients.resize(n);
    for (std::string& r : b.recipients)
      if (!p.str(r, B::max_address, "recipient")) return false;
    if (!p.count(n, false, 1, B::max_archives, "archives")) return false;
    b.archives.resize(n);
    for (PpapArchive& a : b.archives) {
      if (!p.str(a.path, B::max_path, "archive path") || !p.str(a.name, B::max_name, "archive name")) return false;
      if (!p.count(n, false, 1, B::max_members, "members")) return false;
      a.members.resize(n);
      for (PpapMember& m : a.members) {
        if (!p.str(m.name, B::max_name, "member name")) return false;
        const bool ok = version == kPpapBlobVersionZipOnly ? zip::decode_check(p.in, m.check.zip)
                                                           : decode_lock(p.in, m.check);
        if (!ok) return p.fail("malformed check data of member \"" + m.name + "\"");
      }
    }
    if (p.in.left() != 0) return p.fail(std::to_string(p.in.left()) + " bytes after the blob");
    return true;
  };
  if (!parse()) {
    if (error) *error = p.error;
    return std::nullopt;
  }
  return b;
}

}  // namespace emogate::ppap
