// RAR 5 block walker for encryption facts: see rar5_headers.h.
// Trusted input: none.
#include "formats/archive/rar5_headers.h"

namespace emogate::rar5 {

namespace {

constexpr std::string_view kSignature("Rar!\x1A\x07\x01\x00", 8);

struct Cursor {
  std::string_view b;
  std::size_t pos = 0;
  bool ok = true;

  std::uint64_t vint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= b.size()) break;
      auto c = static_cast<unsigned char>(b[pos++]);
      v |= static_cast<std::uint64_t>(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  void skip(std::uint64_t n) {
    if (n > b.size() - pos) ok = false;
    else pos += static_cast<std::size_t>(n);
  }
};

enum : std::uint64_t { kFileHeader = 2, kServiceHeader = 3, kEncryptionHeader = 4, kEndHeader = 5 };
enum : std::uint64_t { kExtraArea = 0x1, kDataArea = 0x2 };
enum : std::uint64_t { kFileTime = 0x2, kFileCrc = 0x4 };
constexpr std::uint64_t kEncryptionRecord = 0x01;

// A file header's fields after the common ones; adds the member when its
// extra area holds an encryption record.
void file_header(Cursor c, std::size_t end, std::uint64_t extra_size, EncryptionInfo& out) {
  std::uint64_t flags = c.vint();
  LockedMember m;
  m.unpacked_size = c.vint();
  c.vint();  // attributes
  if (flags & kFileTime) c.skip(4);
  if (flags & kFileCrc) c.skip(4);
  c.vint();  // compression information
  c.vint();  // host OS
  std::uint64_t name_len = c.vint();
  if (!c.ok || name_len > end - c.pos) return;
  m.raw_name.assign(c.b.substr(c.pos, static_cast<std::size_t>(name_len)));
  if (extra_size > end) return;
  Cursor x{c.b.substr(0, end), end - static_cast<std::size_t>(extra_size)};
  while (x.ok && x.pos < end) {
    std::uint64_t size = x.vint();
    std::size_t record = x.pos;
    if (!x.ok || size == 0 || size > end - record) return;
    if (x.vint() == kEncryptionRecord) {
      out.members.push_back(std::move(m));
      return;
    }
    x.pos = record + static_cast<std::size_t>(size);
  }
}

}  // namespace

EncryptionInfo read_encryption(std::string_view bytes, std::size_t max_members) {
  EncryptionInfo out;
  if (bytes.substr(0, kSignature.size()) != kSignature) return out;
  out.is_rar5 = true;
  Cursor c{bytes, kSignature.size()};
  std::size_t headers = 0;
  while (c.ok && c.pos + 4 < bytes.size() && out.members.size() < max_members && headers++ < max_members * 4 + 16) {
    c.skip(4);  // header CRC32: a damaged header is libarchive's to report
    std::uint64_t size = c.vint();
    std::size_t start = c.pos;
    if (!c.ok || size == 0 || size > bytes.size() - start) break;
    std::size_t end = start + static_cast<std::size_t>(size);
    Cursor h{bytes.substr(0, end), start};
    std::uint64_t type = h.vint();
    std::uint64_t flags = h.vint();
    std::uint64_t extra = (flags & kExtraArea) ? h.vint() : 0;
    std::uint64_t data = (flags & kDataArea) ? h.vint() : 0;
    if (!h.ok) break;
    if (type == kEncryptionHeader) {
      out.headers_encrypted = true;
      break;
    }
    if (type == kEndHeader) break;
    if (type == kFileHeader) file_header(h, end, extra, out);
    c.pos = end;
    c.skip(data);
  }
  return out;
}

}  // namespace emogate::rar5
