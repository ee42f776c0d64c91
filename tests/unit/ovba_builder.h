// Test-only MS-OVBA writer: a real (greedy) compressor for 2.4.1 containers
// and a VBA project builder that adds `dir`, module streams, _VBA_PROJECT
// and PROJECT to an Ole2Builder under a given storage ("Macros/VBA" ->
// "Macros/PROJECT").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "unit/ole2_builder.h"

namespace emogate::test {

inline std::string ovba_compress(std::string_view in) {
  std::string out = "\x01";
  for (std::size_t start = 0; start < in.size(); start += 4096) {
    const std::string_view chunk = in.substr(start, 4096);
    std::string body;
    std::size_t pos = 0;
    while (pos < chunk.size()) {
      const std::size_t flag_at = body.size();
      body += '\0';
      unsigned char flags = 0;
      for (int bit = 0; bit < 8 && pos < chunk.size(); ++bit) {
        std::size_t best_len = 0, best_off = 0;
        unsigned bits = 4;
        while ((std::size_t{1} << bits) < pos) ++bits;
        const std::size_t max_len = (0xFFFFu >> bits) + 3;
        for (std::size_t cand = 0; cand < pos; ++cand) {
          std::size_t len = 0;
          while (len < max_len && pos + len < chunk.size() && chunk[cand + len] == chunk[pos + len]) ++len;
          if (len > best_len) {
            best_len = len;
            best_off = pos - cand;
          }
        }
        if (best_len >= 3) {
          const unsigned token = static_cast<unsigned>((best_off - 1) << (16 - bits) | (best_len - 3));
          body += static_cast<char>(token & 0xFF);
          body += static_cast<char>(token >> 8);
          flags |= static_cast<unsigned char>(1u << bit);
          pos += best_len;
        } else {
          body += chunk[pos++];
        }
      }
      body[flag_at] = static_cast<char>(flags);
    }
    const unsigned header = ((body.size() - 1) & 0x0FFF) | 0x3000 | 0x8000;
    out += static_cast<char>(header & 0xFF);
    out += static_cast<char>(header >> 8);
    out += body;
  }
  return out;
}

struct VbaModuleSpec {
  std::string name;
  std::string source;  // in the project code page
  std::string pcode;   // bytes before the compressed source (fake p-code)
  bool document = false;
};

class VbaProjectBuilder {
 public:
  std::uint16_t codepage = 1252;
  std::vector<VbaModuleSpec> modules;
  bool omit_source = false;  // module streams hold p-code only

  VbaProjectBuilder& add(std::string name, std::string source, std::string pcode = {}) {
    modules.push_back({std::move(name), std::move(source), std::move(pcode)});
    return *this;
  }

  static void rec(std::string& d, std::uint16_t id, std::string_view data) {
    d += static_cast<char>(id & 0xFF);
    d += static_cast<char>(id >> 8);
    Ole2Builder::put32(d, static_cast<std::uint32_t>(data.size()));
    d += data;
  }
  static std::string u16(std::uint16_t v) { return {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)}; }
  static std::string u32(std::uint32_t v) {
    std::string s;
    Ole2Builder::put32(s, v);
    return s;
  }
  static std::string wide(std::string_view ascii) {
    std::string s;
    for (char c : ascii) s += {c, '\0'};
    return s;
  }

  std::string dir_stream() const {
    std::string d;
    rec(d, 0x0001, u32(1));
    rec(d, 0x0002, u32(0x409));
    rec(d, 0x0014, u32(0x409));
    rec(d, 0x0003, u16(codepage));
    rec(d, 0x0004, "VBAProject");
    rec(d, 0x0005, "");
    rec(d, 0x0040, "");
    rec(d, 0x0006, "");
    rec(d, 0x003D, "");
    rec(d, 0x0007, u32(0));
    rec(d, 0x0008, u32(0));
    // PROJECTVERSION: size field 4, then 6 bytes.
    d += u16(0x0009) + u32(4) + u32(1) + u16(2);
    rec(d, 0x000C, "");
    rec(d, 0x003C, "");
    rec(d, 0x000F, u16(static_cast<std::uint16_t>(modules.size())));
    rec(d, 0x0013, u16(0xFFFF));
    for (const auto& m : modules) {
      rec(d, 0x0019, m.name);
      rec(d, 0x0047, wide(m.name));
      rec(d, 0x001A, m.name);
      rec(d, 0x0032, wide(m.name));
      rec(d, 0x001C, "");
      rec(d, 0x0048, "");
      rec(d, 0x0031, u32(static_cast<std::uint32_t>(m.pcode.size())));
      rec(d, 0x001E, u32(0));
      rec(d, 0x002C, u16(0xFFFF));
      rec(d, m.document ? 0x0022 : 0x0021, "");
      rec(d, 0x002B, "");
    }
    rec(d, 0x0010, "");
    return d;
  }

  // Adds the project under `vba_storage`; PROJECT goes to its parent.
  void add_to(Ole2Builder& b, const std::string& vba_storage) const {
    b.add(vba_storage + "/dir", ovba_compress(dir_stream()));
    b.add(vba_storage + "/_VBA_PROJECT", std::string("\xCC\x61\xFF\xFF\x00\x00\x00", 7));
    std::string project = "ID=\"{00000000-0000-0000-0000-000000000000}\"\r\n";
    for (const auto& m : modules) {
      b.add(vba_storage + "/" + m.name, m.pcode + (omit_source ? std::string() : ovba_compress(m.source)));
      project += (m.document ? "Document=" + m.name + "/&H00000000" : "Module=" + m.name) + "\r\n";
    }
    const auto slash = vba_storage.rfind('/');
    b.add(slash == std::string::npos ? "PROJECT" : vba_storage.substr(0, slash) + "/PROJECT", project);
  }
};

// A vbaProject.bin (OOXML's VBA part): one module in a "VBA" storage.
inline std::string vba_project_bin(std::string module, std::string source) {
  VbaProjectBuilder p;
  p.add(std::move(module), std::move(source));
  Ole2Builder b(3);
  p.add_to(b, "VBA");
  return b.build();
}

}  // namespace emogate::test
