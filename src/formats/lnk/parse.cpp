// [MS-SHLLINK] parser; see lnk_parse.h.
// Trusted input: none.
#include "formats/lnk/parse.h"

#include "common/bytes.h"
#include "common/text.h"

namespace emogate::lnk {
namespace {

enum : std::uint32_t {
  kHasIdList = 0x1, kHasLinkInfo = 0x2, kHasName = 0x4, kHasRelativePath = 0x8,
  kHasWorkingDir = 0x10, kHasArguments = 0x20, kHasIconLocation = 0x40, kIsUnicode = 0x80,
};

std::string cstr_at(std::string_view d, std::size_t at) {
  if (at >= d.size()) return {};
  std::string_view s = d.substr(at);
  s = s.substr(0, std::min(s.find('\0'), std::size_t(4096)));
  return latin1_to_utf8(s);
}

std::string wstr_at(std::string_view d, std::size_t at) {
  std::string_view raw;
  for (std::size_t k = at; k + 1 < d.size() && k - at < 8192; k += 2) {
    if (le16(d, k) == 0) break;
    raw = d.substr(at, k + 2 - at);
  }
  return utf16le_to_utf8(raw, false);
}

// Shell items: a drive item holds "C:\", a file-system item its 8.3 or long
// name at offset 14 (UTF-16 when bit 0x04 of the type is set).
std::string id_list_path(std::string_view list) {
  std::string path;
  ByteReader r(list);
  for (int items = 0; items < 256 && r.left() >= 2; ++items) {
    std::uint16_t size = r.u16();
    if (size < 2) break;
    std::string_view item = r.bytes(std::min<std::size_t>(size - 2u, r.left()));
    if (item.empty()) break;
    std::uint8_t type = std::uint8_t(item[0]);
    std::string part;
    if ((type & 0x70) == 0x20) part = cstr_at(item, 1);
    else if ((type & 0x70) == 0x30) part = (type & 0x04) ? wstr_at(item, 12) : cstr_at(item, 12);
    if (part.empty()) continue;
    if (!path.empty() && path.back() != '\\') path += '\\';
    path += part;
  }
  return path;
}

std::string link_info_path(std::string_view li) {
  std::uint32_t header = le32(li, 4), flags = le32(li, 8);
  std::uint32_t local = le32(li, 16), network = le32(li, 20), suffix = le32(li, 24);
  std::string base;
  if ((flags & 1) && local) base = header >= 0x24 && le32(li, 28) ? wstr_at(li, le32(li, 28))
                                                                   : cstr_at(li, local);
  if (base.empty() && (flags & 2) && network < li.size())
    base = cstr_at(li, network + std::size_t(le32(li, network + 8)));  // NetName
  std::string tail = header >= 0x24 && le32(li, 32) ? wstr_at(li, le32(li, 32)) : cstr_at(li, suffix);
  if (!tail.empty() && !base.empty() && base.back() != '\\') base += '\\';
  return base + tail;
}

}  // namespace

std::string Shortcut::target() const {
  for (const std::string* s : {&local_path, &env_target, &id_list_path, &relative_path})
    if (!s->empty()) return *s;
  return {};
}

Shortcut parse(std::string_view b) {
  Shortcut s;
  ByteReader r(b);
  if (r.u32() != 0x4C) return s;
  r.skip(16);  // LinkCLSID
  s.flags = r.u32();
  r.skip(4 + 24 + 4 + 4);  // attributes, times, file size, icon index
  s.show_command = r.u32();
  r.skip(2 + 10);
  if (!r.ok()) return s;
  s.ok = true;
  if (s.flags & kHasIdList) {
    std::uint16_t size = r.u16();
    s.id_list_path = id_list_path(r.bytes(std::min<std::size_t>(size, r.left())));
  }
  if (s.flags & kHasLinkInfo) {
    std::size_t at = r.pos();
    std::uint32_t size = le32(b, at);
    if (size < 4 || size > r.left()) { s.truncated = true; return s; }
    s.local_path = link_info_path(b.substr(at, size));
    r.skip(size);
  }
  const bool unicode = s.flags & kIsUnicode;
  auto string_data = [&](std::uint32_t flag, std::string& out) {
    if (!(s.flags & flag) || !r.ok()) return;
    std::uint16_t cch = r.u16();
    auto raw = r.bytes(unicode ? cch * 2u : cch);
    if (!r.ok()) { s.truncated = true; return; }
    out = unicode ? utf16le_to_utf8(raw, false) : latin1_to_utf8(raw);
  };
  string_data(kHasName, s.name);
  string_data(kHasRelativePath, s.relative_path);
  string_data(kHasWorkingDir, s.working_dir);
  string_data(kHasArguments, s.arguments);
  string_data(kHasIconLocation, s.icon_location);
  // ExtraData blocks until a terminal block (size < 4).
  for (int blocks = 0; blocks < 64 && r.ok() && r.left() >= 8; ++blocks) {
    std::size_t at = r.pos();
    std::uint32_t size = le32(b, at), sig = le32(b, at + 4);
    if (size < 8 || size > r.left()) break;
    if (sig == 0xA0000001 && size >= 0x314) {
      std::string_view blk = b.substr(at, size);
      s.env_target = wstr_at(blk, 8 + 260);
      if (s.env_target.empty()) s.env_target = cstr_at(blk.substr(0, 8 + 260), 8);
    }
    r.skip(size);
  }
  return s;
}

bool runs_interpreter(const Shortcut& s) {
  if (s.arguments.find_first_not_of(" \t") == std::string::npos) return false;
  std::string all = ascii_lower(s.target() + " " + s.arguments);
  for (std::string_view exe : {"powershell", "pwsh", "cmd.exe", "cmd ", "\\cmd", "mshta",
                               "wscript", "cscript", "rundll32", "regsvr32", "certutil",
                               "bitsadmin", "msiexec", "conhost", "forfiles", "curl"})
    if (all.find(exe) != std::string::npos) return true;
  return false;
}

}  // namespace emogate::lnk
