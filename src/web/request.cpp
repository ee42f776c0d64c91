// Parsing what an HTTP request carries into the pages' Request: percent-
// decoding, query and urlencoded form pairs (bounded), the path, cookies,
// the language; and Request::param / params.
// Trusted input: none. Bytes come straight from the client; nothing here
// throws or reads past its input, and malformed input is reported as false.
#include "web/request.h"

#include "common/text.h"

namespace emogate::web {
namespace {

// "0.8" -> 800, "1" -> 1000, per RFC 9110 (at most three decimals); -1
// when malformed.
int parse_qvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return -1;
  int v = (s[0] - '0') * 1000;
  if (s.size() == 1) return v;
  if (s[1] != '.' || s.size() > 5) return -1;
  int scale = 100;
  for (std::size_t i = 2; i < s.size(); ++i, scale /= 10) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v += (s[i] - '0') * scale;
  }
  return v > 1000 ? -1 : v;
}

}  // namespace

bool url_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3) return false;
      const int hi = hex_digit_value(in[i + 1]), lo = hex_digit_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

bool parse_pairs(std::string_view text, std::size_t max_fields, std::multimap<std::string, std::string>& out) {
  std::size_t fields = 0;
  std::size_t start = 0;
  std::string name, value;
  while (start <= text.size()) {
    std::size_t amp = text.find('&', start);
    if (amp == std::string_view::npos) amp = text.size();
    const std::string_view pair = text.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    if (++fields > max_fields) return false;
    const std::size_t eq = pair.find('=');
    if (!url_decode(pair.substr(0, eq), name, true)) return false;
    if (eq == std::string_view::npos) {
      value.clear();
    } else if (!url_decode(pair.substr(eq + 1), value, true)) {
      return false;
    }
    out.emplace(name, value);
  }
  return true;
}

bool parse_path(std::string_view raw_path, std::string& out) {
  if (raw_path.empty() || raw_path[0] != '/') return false;
  if (!url_decode(raw_path, out, false)) return false;
  for (unsigned char c : out)
    if (c < 0x20 || c == 0x7F || c == '\\') return false;
  std::size_t start = 1;
  while (start <= out.size()) {
    std::size_t slash = out.find('/', start);
    if (slash == std::string::npos) slash = out.size();
    const std::string_view seg = std::string_view(out).substr(start, slash - start);
    if (seg == "." || seg == "..") return false;
    start = slash + 1;
  }
  return true;
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  std::size_t start = 0;
  while (start < header.size()) {
    std::size_t semi = header.find(';', start);
    if (semi == std::string_view::npos) semi = header.size();
    const std::string_view item = trim(header.substr(start, semi - start));
    start = semi + 1;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(item.substr(0, eq)) == name) {
      std::string_view v = trim(item.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
  }
  return std::nullopt;
}

std::string_view lang_code(Lang l) { return l == Lang::ja ? "ja" : "en"; }

std::optional<Lang> parse_lang(std::string_view code) {
  if (code == "ja") return Lang::ja;
  if (code == "en") return Lang::en;
  return std::nullopt;
}

Lang choose_lang(std::string_view query_lang, std::string_view cookie_lang, std::string_view accept_language) {
  if (auto l = parse_lang(query_lang)) return *l;
  if (auto l = parse_lang(cookie_lang)) return *l;
  // The first of the highest-weighted ja/en ranges wins; other languages
  // and "*" do not count.
  int best_q = 0;
  Lang best = Lang::en;
  std::size_t start = 0;
  while (start < accept_language.size()) {
    std::size_t comma = accept_language.find(',', start);
    if (comma == std::string_view::npos) comma = accept_language.size();
    std::string_view item = trim(accept_language.substr(start, comma - start));
    start = comma + 1;
    int q = 1000;
    const std::size_t semi = item.find(';');
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      item = trim(item.substr(0, semi));
      params = trim(params);
      if (params.size() >= 2 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=') {
        q = parse_qvalue(trim(params.substr(2)));
      }
      if (q < 0) continue;
    }
    const std::string tag = ascii_lower(item);
    std::optional<Lang> l;
    if (tag == "ja" || istarts_with(tag, "ja-")) l = Lang::ja;
    else if (tag == "en" || istarts_with(tag, "en-")) l = Lang::en;
    if (l && q > best_q) {
      best_q = q;
      best = *l;
    }
  }
  return best;
}

std::string Request::param(std::string_view name) const {
  const std::string key(name);
  if (auto it = form.find(key); it != form.end()) return it->second;
  if (auto it = query.find(key); it != query.end()) return it->second;
  return {};
}

std::vector<std::string> Request::params(std::string_view name) const {
  const std::string key(name);
  std::vector<std::string> out;
  for (auto [it, end] = form.equal_range(key); it != end; ++it) out.push_back(it->second);
  for (auto [it, end] = query.equal_range(key); it != end; ++it) out.push_back(it->second);
  return out;
}

}  // namespace emogate::web
