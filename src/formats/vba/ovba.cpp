// MS-OVBA decompression, `dir` stream parsing and project discovery.
// Trusted input: none. Every read is bounds-checked; output is capped.
#include "formats/vba/ovba.h"

#include "common/bytes.h"
#include "common/text.h"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_set>

namespace emogate::ovba {
namespace {

// Real projects have tens of modules and dir streams of a few KB.
constexpr std::size_t kMaxModules = 4096;
constexpr std::size_t kMaxDir = 1u << 20;

}  // namespace

std::string decompress(std::string_view in, std::size_t max_out, bool* complete) {
  std::string out;
  bool ok = true;
  auto done = [&](bool good) {
    if (complete) *complete = good && ok;
    return out;
  };
  if (in.empty() || in[0] != 0x01) return done(false);
  std::size_t pos = 1;
  while (pos < in.size()) {
    if (pos + 2 > in.size()) return done(false);
    const std::uint16_t header = le16(in, pos);
    const std::size_t declared_end = pos + (header & 0x0FFF) + 3;
    if (declared_end > in.size()) ok = false;  // truncated: decode what is there
    const std::size_t chunk_end = std::min(declared_end, in.size());
    if (((header >> 12) & 0x7) != 0x3) return done(false);  // chunk signature
    pos += 2;
    const std::size_t chunk_start = out.size();
    if (!(header & 0x8000)) {
      // Raw chunk: always 4096 bytes (the last may be short in damaged files).
      const std::size_t n = std::min<std::size_t>({4096, in.size() - pos, max_out - out.size()});
      out.append(in.data() + pos, n);
      if (out.size() >= max_out) return done(false);
      pos += 4096;
      continue;
    }
    while (pos < chunk_end) {
      const std::uint8_t flags = static_cast<std::uint8_t>(in[pos++]);
      for (int bit = 0; bit < 8 && pos < chunk_end; ++bit) {
        if (out.size() >= max_out) return done(false);
        if (!(flags & (1u << bit))) {
          out += in[pos++];
          continue;
        }
        if (pos + 2 > chunk_end) return done(false);
        const std::uint16_t token = le16(in, pos);
        pos += 2;
        const std::size_t diff = out.size() - chunk_start;
        unsigned bits = 4;
        while ((std::size_t{1} << bits) < diff) ++bits;
        if (diff == 0 || bits > 12) return done(false);
        const std::size_t offset = (token >> (16 - bits)) + 1u;
        const std::size_t length = (token & (0xFFFFu >> bits)) + 3u;
        if (offset > diff) return done(false);
        // Byte by byte: source and destination may overlap (run-length).
        for (std::size_t i = 0; i < length && out.size() < max_out; ++i) out += out[out.size() - offset];
      }
    }
    pos = chunk_end;
  }
  return done(true);
}


namespace {

// iconv_open is costly (it loads a gconv module): keep one converter per
// thread for the last code page used.
struct Converter {
  int codepage = -1;
  iconv_t cd = reinterpret_cast<iconv_t>(-1);
  ~Converter() {
    if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
  }
  iconv_t get(std::uint16_t cp) {
    if (cp == codepage) {
      iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset shift state
      return cd;
    }
    if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
    const std::string name = cp == 65001   ? "UTF-8"
                             : cp == 10000 ? "MACINTOSH"
                             : cp == 1200  ? "UTF-16LE"
                                           : "CP" + std::to_string(cp);
    cd = iconv_open("UTF-8", name.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) cd = iconv_open("UTF-8", "CP1252");
    codepage = cp;
    return cd;
  }
};

}  // namespace

std::string to_utf8(std::string_view text, std::uint16_t codepage) {
  thread_local Converter conv;
  iconv_t cd = conv.get(codepage);
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::string(text);
  std::string out;
  out.resize(text.size() * 4 + 16);
  char* in_p = const_cast<char*>(text.data());
  std::size_t in_left = text.size();
  char* out_p = out.data();
  std::size_t out_left = out.size();
  while (in_left > 0) {
    if (iconv(cd, &in_p, &in_left, &out_p, &out_left) != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) break;  // cannot happen: 4x is enough for any code page here
    // EILSEQ / EINVAL: skip one byte, mark it.
    ++in_p;
    --in_left;
    if (out_left < 3) break;
    std::memcpy(out_p, "\xEF\xBF\xBD", 3);
    out_p += 3;
    out_left -= 3;
  }
  out.resize(out.size() - out_left);
  return out;
}

Dir parse_dir(std::string_view d) {
  Dir dir;
  std::size_t pos = 0;
  Module* cur = nullptr;
  std::string raw_project_name;
  while (pos + 6 <= d.size()) {
    const std::uint16_t id = le16(d, pos);
    std::uint32_t size = le32(d, pos + 2);
    // PROJECTVERSION's size field says 4 but 6 bytes follow (MS-OVBA 2.3.4.2.1.11).
    if (id == 0x0009) size = 6;
    pos += 6;
    if (size > d.size() - pos) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "dir record 0x%04X overruns the stream", id);
      dir.problems.push_back(buf);
      break;
    }
    const std::string_view data = d.substr(pos, size);
    pos += size;
    switch (id) {
      case 0x0003:  // PROJECTCODEPAGE
        if (size >= 2) dir.codepage = le16(data, 0);
        break;
      case 0x0004:  // PROJECTNAME
        dir.project_name = to_utf8(data, dir.codepage);
        break;
      case 0x0019:  // MODULENAME starts a module
        if (dir.modules.size() >= kMaxModules) {
          dir.problems.push_back("more than " + std::to_string(kMaxModules) + " modules");
          return dir;
        }
        dir.modules.emplace_back();
        cur = &dir.modules.back();
        cur->name = to_utf8(data, dir.codepage);
        cur->stream_name = cur->name;
        break;
      case 0x0047:  // MODULENAMEUNICODE
        if (cur && size >= 2) cur->name = utf16le_to_utf8(data, false);
        break;
      case 0x001A:  // MODULESTREAMNAME
        if (cur) cur->stream_name = to_utf8(data, dir.codepage);
        break;
      case 0x0032:  // MODULESTREAMNAME (Unicode part)
        if (cur && size >= 2) cur->stream_name = utf16le_to_utf8(data, false);
        break;
      case 0x0031:  // MODULEOFFSET
        if (cur && size >= 4) cur->text_offset = le32(data, 0);
        break;
      case 0x0022:  // MODULETYPE: document, class or designer module
        if (cur) cur->procedural = false;
        break;
      case 0x002B:  // module terminator
        cur = nullptr;
        break;
      case 0x0010:  // dir terminator
        return dir;
      default:
        break;
    }
  }
  if (dir.modules.empty()) dir.problems.push_back("dir stream lists no modules");
  return dir;
}

std::vector<ProjectLocation> find_projects(const ole2::Ole2File& file) {
  std::vector<ProjectLocation> out;
  for (const auto& e : file.entries()) {
    if (e.type == ole2::EntryType::stream || e.orphan) continue;
    const ole2::Entry* storage = e.type == ole2::EntryType::root ? nullptr : &e;
    for (const auto* kid : file.children(storage))
      if (kid->type == ole2::EntryType::stream && ascii_lower(kid->name) == "dir")
        out.push_back({storage, kid});
  }
  return out;
}

namespace {

// Printable runs in the p-code part of a module stream that look like text a
// person wrote (comments, string literals): long enough, mostly letters.
std::vector<std::string> pcode_strings(std::string_view pcode) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < pcode.size() && out.size() < 4096) {
    std::size_t j = i;
    int letters = 0;
    while (j < pcode.size() && static_cast<unsigned char>(pcode[j]) >= 0x20 &&
           static_cast<unsigned char>(pcode[j]) < 0x7F) {
      letters += std::isalpha(static_cast<unsigned char>(pcode[j])) != 0;
      ++j;
    }
    if (j - i >= 8 && letters >= 6 && letters * 2 >= static_cast<int>(j - i))
      out.emplace_back(pcode.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Words of three or more letters/digits, lower-cased.
template <class F>
void for_each_word(std::string_view s, F&& f) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && !std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t j = i;
    while (j < s.size() && std::isalnum(static_cast<unsigned char>(s[j]))) ++j;
    if (j - i >= 3) {
      std::string w(s.substr(i, j - i));
      w = ascii_lower(w);
      f(w);
    }
    i = j;
  }
}

bool has_code_lines(std::string_view src) {
  std::size_t pos = 0;
  while (pos < src.size()) {
    std::size_t end = src.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = src.size();
    std::string_view line = src.substr(pos, end - pos);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (!line.empty() && line.substr(0, 10) != "Attribute ") return true;
    pos = end + 1;
  }
  return false;
}

// Decompresses the source at MODULEOFFSET; when that fails, looks for the
// container by its usual first bytes (0x01, chunk header, flag 0, "Attribut").
std::string module_source(std::string_view stream, std::uint32_t offset, std::size_t cap,
                          bool& complete) {
  complete = false;
  std::string src;
  if (offset < stream.size()) src = decompress(stream.substr(offset), cap, &complete);
  if (complete && !src.empty()) return src;
  std::size_t hit = stream.find(std::string_view("\0Attribut", 10));
  while (hit != std::string_view::npos) {
    if (hit >= 3 && stream[hit - 3] == 0x01 && (static_cast<unsigned char>(stream[hit - 1]) & 0x70) == 0x30) {
      bool ok = false;
      std::string alt = decompress(stream.substr(hit - 3), cap, &ok);
      if (alt.size() > src.size()) {
        src = std::move(alt);
        complete = ok;
      }
      break;
    }
    hit = stream.find(std::string_view("\0Attribut", 10), hit + 1);
  }
  return src;
}

}  // namespace

bool Project::stomped() const {
  std::size_t missing = 0;
  for (const auto& m : modules) {
    if (m.pcode_without_source) return true;
    missing += m.pcode_only.size();
  }
  return missing >= 2;
}

Project read_project(const ole2::Ole2File& file, const ProjectLocation& where,
                     std::size_t max_source) {
  Project p;
  p.storage_path = where.vba_storage ? where.vba_storage->path : std::string();
  std::string problem;
  bool complete = false;
  const std::string dir_bytes = decompress(file.read_stream(*where.dir_stream, kMaxDir, &problem),
                                           kMaxDir, &complete);
  if (!problem.empty()) p.problems.push_back("dir stream: " + problem);
  if (!complete) p.problems.push_back("dir stream does not decompress cleanly");
  Dir dir = parse_dir(dir_bytes);
  p.codepage = dir.codepage;
  for (auto& pr : dir.problems) p.problems.push_back(std::move(pr));
  const std::string prefix = p.storage_path.empty() ? "" : p.storage_path + "/";
  // Each module stream is read once: a hostile dir could list one large
  // stream thousands of times.
  std::unordered_set<std::string> streams_seen;
  for (const auto& m : dir.modules) {
    if (!streams_seen.insert(ascii_lower(m.stream_name)).second) {
      p.problems.push_back("module stream " + m.stream_name + " listed twice");
      continue;
    }
    ModuleSource out;
    out.name = m.name;
    const ole2::Entry* e = file.find(prefix + m.stream_name);
    if (!e) {
      p.problems.push_back("module stream " + m.stream_name + " missing");
      p.modules.push_back(std::move(out));
      continue;
    }
    out.stream_found = true;
    // The stream holds p-code (bounded by MODULEOFFSET) then compressed source.
    const std::string stream = file.read_stream(*e, std::size_t{m.text_offset} + max_source * 2 + 4096);
    out.raw = module_source(stream, m.text_offset, max_source, out.source_complete);
    out.text = to_utf8(out.raw, p.codepage);
    const std::string_view pcode = std::string_view(stream).substr(0, std::min<std::size_t>(m.text_offset, stream.size()));
    const auto strings = pcode_strings(pcode);
    // A p-code string counts as known when most of its words occur in the
    // source: p-code runs carry stray neighbouring bytes at either end.
    std::unordered_set<std::string> words;
    if (!strings.empty()) for_each_word(out.raw, [&](const std::string& w) { words.insert(w); });
    for (const auto& s : strings) {
      int total = 0, known = 0;
      for_each_word(s, [&](const std::string& w) {
        ++total;
        known += words.count(w) != 0;
      });
      if (total >= 2 && known * 2 < total && out.pcode_only.size() < 16) out.pcode_only.push_back(s);
    }
    // A damaged source proves nothing either way.
    if (!out.source_complete) out.pcode_only.clear();
    out.pcode_without_source = out.source_complete && !strings.empty() && !has_code_lines(out.raw);
    p.modules.push_back(std::move(out));
  }
  return p;
}

}  // namespace emogate::ovba
