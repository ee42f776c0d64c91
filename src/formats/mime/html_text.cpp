// A small single-pass HTML scanner: good enough to read text and links,
// never to render. libxml2's HTML parser was considered, but building a
// tree costs more than this pass and its recovery rules differ from mail
// clients' anyway.
// Trusted input: none.
#include "formats/mime/html_text.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>

#include "common/text.h"

namespace emogate {

namespace {

// Decodes one character reference at s[i] == '&'; returns chars consumed
// (0 when it is not a reference).
std::size_t decode_entity(std::string_view s, std::size_t i, std::string& out) {
  std::size_t semi = s.find(';', i);
  if (semi == std::string_view::npos || semi - i > 12) return 0;
  std::string_view name = s.substr(i + 1, semi - i - 1);
  if (!name.empty() && name[0] == '#') {
    std::uint32_t cp = 0;
    bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    std::string digits(name.substr(hex ? 2 : 1));
    if (digits.empty() || digits.size() > 8) return 0;
    char* end = nullptr;
    cp = static_cast<std::uint32_t>(std::strtoul(digits.c_str(), &end, hex ? 16 : 10));
    if (*end) return 0;
    append_utf8(out, cp, Nul::replace);
    return semi - i + 1;
  }
  static const std::pair<std::string_view, std::string_view> named[] = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "},
      {"yen", "¥"}, {"copy", "©"}, {"laquo", "«"}, {"raquo", "»"}, {"ensp", " "}, {"emsp", " "}};
  for (const auto& [n, v] : named)
    if (name == n) {
      out += v;
      return semi - i + 1;
    }
  return 0;
}

bool is_block(std::string_view tag) {
  static const std::string_view blocks[] = {"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3",
                                            "h4", "h5", "h6", "blockquote", "pre", "hr", "td", "th",
                                            "ul", "ol", "dd", "dt", "section", "article"};
  return std::find(std::begin(blocks), std::end(blocks), tag) != std::end(blocks);
}

std::string tag_name(std::string_view tag) {
  std::size_t i = 0;
  if (i < tag.size() && tag[i] == '/') ++i;
  std::size_t j = i;
  while (j < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[j])) || tag[j] == ':')) ++j;
  return ascii_lower(tag.substr(i, j - i));
}

}  // namespace

std::string html_to_text(std::string_view h) {
  std::string out;
  out.reserve(h.size() / 2);
  std::size_t i = 0;
  bool last_space = false;
  while (i < h.size()) {
    char c = h[i];
    if (c == '<') {
      if (h.compare(i, 4, "<!--") == 0) {
        std::size_t end = h.find("-->", i + 4);
        i = end == std::string_view::npos ? h.size() : end + 3;
        continue;
      }
      std::size_t end = h.find('>', i + 1);
      if (end == std::string_view::npos) break;
      bool closing = h[i + 1] == '/';
      std::string name = tag_name(h.substr(i + 1, end - i - 1));
      i = end + 1;
      if (!closing && (name == "script" || name == "style" || name == "title")) {
        // Skip to the closing tag; when it is missing the rest is skipped,
        // so the whole pass stays linear.
        std::string close = "</" + name;
        auto it = std::search(h.begin() + static_cast<std::ptrdiff_t>(i), h.end(), close.begin(), close.end(),
                              [](char a, char b) {
                                return ascii_lower(a) == b;
                              });
        i = static_cast<std::size_t>(it - h.begin());
        continue;
      }
      if (is_block(name) && !out.empty() && out.back() != '\n') {
        out.push_back('\n');
        last_space = true;
      }
      continue;
    }
    if (c == '&') {
      if (std::size_t n = decode_entity(h, i, out)) {
        i += n;
        last_space = false;
        continue;
      }
    }
    if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
      if (!last_space) out.push_back(' ');
      last_space = true;
      ++i;
      continue;
    }
    out.push_back(c);
    last_space = false;
    ++i;
  }
  return out;
}

std::vector<std::string> html_links(std::string_view h, std::size_t max_links) {
  std::vector<std::string> links;
  std::string l = ascii_lower(h);
  for (std::string_view attr : {"href=", "src=", "action=", "background="}) {
    std::size_t pos = 0;
    while ((pos = l.find(attr, pos)) != std::string::npos && links.size() < max_links) {
      pos += attr.size();
      if (pos >= h.size()) break;
      char q = h[pos];
      std::size_t start = pos, end;
      if (q == '"' || q == '\'') {
        start = pos + 1;
        end = h.find(q, start);
      } else {
        end = h.find_first_of(" \t\r\n>", start);
      }
      if (end == std::string_view::npos) end = h.size();
      if (end - start < 4096) {
        std::string v;
        std::string_view raw = h.substr(start, end - start);
        for (std::size_t k = 0; k < raw.size();) {
          if (raw[k] == '&')
            if (std::size_t n = decode_entity(raw, k, v)) {
              k += n;
              continue;
            }
          v.push_back(raw[k++]);
        }
        links.push_back(std::move(v));
      }
      pos = end;
    }
  }
  return links;
}

}  // namespace emogate
