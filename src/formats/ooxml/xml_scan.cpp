// Tolerant XML tag scanner; see xml_scan.h.
// Trusted input: none.
#include "formats/ooxml/xml_scan.h"

#include <cstdlib>

#include "common/text.h"

namespace emogate::xml {
namespace {

std::string_view local(std::string_view qname) {
  auto colon = qname.rfind(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string_view Tag::attr(std::string_view name_) const {
  for (auto& [k, v] : attrs)
    if (k == name_) return v;
  return {};
}

bool Scanner::next(Tag& tag) {
  while (pos_ < d_.size()) {
    std::size_t lt = d_.find('<', pos_);
    if (lt == std::string_view::npos) { pos_ = d_.size(); return false; }
    std::string_view text = d_.substr(pos_, lt - pos_);
    std::string_view rest = d_.substr(lt);
    auto skip_to = [&](std::string_view end) {
      std::size_t e = d_.find(end, lt + 1);
      pos_ = e == std::string_view::npos ? d_.size() : e + end.size();
    };
    if (rest.starts_with("<!--")) { skip_to("-->"); continue; }
    if (rest.starts_with("<![CDATA[")) { skip_to("]]>"); continue; }
    if (rest.starts_with("<?")) { skip_to("?>"); continue; }
    if (rest.starts_with("<!")) { skip_to(">"); continue; }
    tag = Tag{};
    tag.text_before = text;
    std::size_t p = lt + 1;
    if (p < d_.size() && d_[p] == '/') { tag.closing = true; ++p; }
    std::size_t n0 = p;
    while (p < d_.size() && !space(d_[p]) && d_[p] != '>' && d_[p] != '/') ++p;
    tag.name = local(d_.substr(n0, p - n0));
    // Attributes: name = "value" | 'value'; anything else is skipped.
    while (p < d_.size() && d_[p] != '>') {
      if (d_[p] == '/') { tag.self_closing = true; ++p; continue; }
      if (space(d_[p])) { ++p; continue; }
      std::size_t a0 = p;
      while (p < d_.size() && !space(d_[p]) && d_[p] != '=' && d_[p] != '>' && d_[p] != '/') ++p;
      std::string_view aname = d_.substr(a0, p - a0);
      while (p < d_.size() && space(d_[p])) ++p;
      if (p >= d_.size() || d_[p] != '=') { if (p == a0) ++p; continue; }
      ++p;
      while (p < d_.size() && space(d_[p])) ++p;
      if (p >= d_.size()) break;
      char q = d_[p];
      if (q != '"' && q != '\'') continue;
      std::size_t v0 = ++p;
      std::size_t close = d_.find(q, v0);
      if (close == std::string_view::npos) close = d_.size();
      tag.attrs.emplace_back(local(aname), d_.substr(v0, close - v0));
      p = close + 1;
      tag.self_closing = false;
    }
    pos_ = p < d_.size() ? p + 1 : d_.size();
    return true;
  }
  return false;
}

std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') { out += raw[i]; continue; }
    std::size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) { out += '&'; continue; }
    std::string_view ent = raw.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (ent.size() > 1 && ent[0] == '#') {
      std::string num(ent.substr(1));
      bool hex = !num.empty() && (num[0] == 'x' || num[0] == 'X');
      unsigned long cp = std::strtoul(num.c_str() + (hex ? 1 : 0), nullptr, hex ? 16 : 10);
      append_utf8(out, cp > 0x10FFFF ? 0xFFFD : char32_t(cp), Nul::replace);
    } else {
      out += '&';
      continue;
    }
    i = semi;
  }
  return out;
}

}  // namespace emogate::xml
