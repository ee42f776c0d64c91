// URL/IPv4 extraction and normalisation; see url_extract.h.
// Trusted input: none. Every loop advances through the input at least one byte
// per step, and every output is bounded by the input size or max_urls.
#include "formats/url/extract.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdint>
#include <unordered_set>

#include "common/text.h"

namespace emogate {

namespace {

char lower(char c) { return ascii_lower(c); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z'); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool starts_ci(std::string_view s, std::size_t at, std::string_view word) {
  if (s.size() - at < word.size()) return false;
  for (std::size_t k = 0; k < word.size(); ++k)
    if (lower(s[at + k]) != word[k]) return false;
  return true;
}


// After a closing quote at `i`: `"abc" & "def"`, `'ab' + 'cd'`, and VBA
// line continuations (` _` + newline) around the operator. Returns the
// index just past the next string's opening quote, or npos.
std::size_t join_end(std::string_view s, std::size_t i) {
  const char q = s[i];
  std::size_t j = i + 1, n = s.size();
  bool op = false;
  for (int rounds = 0; rounds < 4 && j < n; ++rounds) {
    while (j < n && is_blank(s[j])) ++j;
    if (j < n && !op && (s[j] == '&' || s[j] == '+')) {
      op = true;
      ++j;
      continue;
    }
    if (j < n && s[j] == '_') {  // line continuation
      std::size_t k = j + 1;
      while (k < n && is_blank(s[k])) ++k;
      if (k < n && s[k] == '\r') ++k;
      if (k < n && s[k] == '\n') {
        j = k + 1;
        continue;
      }
    }
    break;
  }
  return (op && j < n && s[j] == q) ? j + 1 : std::string_view::npos;
}

// Defanging spellings analysts and droppers use for "." ":" "/".
struct Defang {
  std::string_view text;
  char plain;
};
constexpr Defang kDefangs[] = {{"[.]", '.'}, {"(.)", '.'}, {"{.}", '.'}, {"[dot]", '.'},
                               {"(dot)", '.'}, {"[:]", ':'}, {"[/]", '/'}};

bool url_char(char c, std::string_view so_far) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7f) return false;
  switch (c) {
    case '"': case '\'': case '<': case '>': case '`': case '{': case '}': case '|':
    case '\\': case '^':
      return false;
    case ')': return so_far.find('(') != std::string_view::npos;
    case ']': return so_far.find('[') != std::string_view::npos;
    default: return true;
  }
}

bool valid_host_char(char c) {
  return is_alnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == '%' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// One inet_aton part: decimal, 0x-hex or 0-octal. Bounded to 32 digits.
std::optional<std::uint64_t> parse_part(std::string_view p) {
  if (p.empty() || p.size() > 34) return std::nullopt;
  unsigned base = 10;
  if (p.size() > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p.remove_prefix(2);
  } else if (p.size() > 1 && p[0] == '0') {
    base = 8;
    p.remove_prefix(1);
  }
  std::uint64_t v = 0;
  for (char c : p) {
    unsigned d;
    if (is_digit(c)) d = static_cast<unsigned>(c - '0');
    else if (lower(c) >= 'a' && lower(c) <= 'f') d = static_cast<unsigned>(lower(c) - 'a' + 10);
    else return std::nullopt;
    if (d >= base) return std::nullopt;
    v = v * base + d;
    if (v > 0xFFFFFFFFull) return std::nullopt;
  }
  return v;
}

std::string dotted(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

// Bare dotted-decimal addresses, not glued to other digits or dots. Found
// from their first dot (memchr), since most bytes of an object are no IP.
void find_bare_ips(std::string_view t, std::vector<std::string>& ips,
                   std::unordered_set<std::string>& seen, std::size_t max) {
  std::size_t pos = 0, n = t.size();
  while (pos < n && ips.size() < max) {
    const void* d = std::memchr(t.data() + pos, '.', n - pos);
    if (!d) break;
    std::size_t dot = static_cast<std::size_t>(static_cast<const char*>(d) - t.data());
    std::size_t i = dot;
    while (i > 0 && dot - i < 3 && is_digit(t[i - 1])) --i;
    pos = dot + 1;
    if (i == dot || (i > 0 && (is_alnum(t[i - 1]) || t[i - 1] == '.'))) continue;
    std::size_t j = i;
    int parts = 0;
    bool ok = true;
    while (parts < 4) {
      std::size_t k = j;
      while (k < n && is_digit(t[k]) && k - j < 4) ++k;
      if (k == j || k - j > 3) { ok = false; break; }
      ++parts;
      j = k;
      if (parts < 4) {
        if (j < n && t[j] == '.') ++j;
        else { ok = false; break; }
      }
    }
    bool glued = j < n && (is_alnum(t[j]) || (t[j] == '.' && j + 1 < n && is_digit(t[j + 1])));
    if (ok && !glued) {
      std::string ip(t.substr(i, j - i));
      if (is_ipv4(ip) && seen.insert(ip).second) ips.push_back(ip);
      pos = j;
    }
  }
}

// XML namespace names and OOXML relationship types are URIs that name a
// schema, not links anyone fetches: xmlns="http://...", Type="http://...",
// and EncryptionInfo's keyEncryptor uri="http://...".
bool is_schema_identifier(std::string_view t, std::size_t s) {
  if (s < 3 || (t[s - 1] != '"' && t[s - 1] != '\'') || t[s - 2] != '=') return false;
  std::size_t b = s - 2;
  while (b > 0 && (is_alnum(t[b - 1]) || t[b - 1] == ':' || t[b - 1] == '_' || t[b - 1] == '-')) --b;
  std::string_view name = t.substr(b, s - 2 - b);
  return name.starts_with("xmlns") || name == "Type" || name == "uri" || name.ends_with("schemaLocation");
}

}  // namespace

std::string collapse_utf16le(std::string_view s) {
  auto text_char = [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\r' || c == '\n'; };
  std::string out(s.size(), '\0');
  char* o = out.data();
  std::size_t i = 0, n = s.size();
  while (i < n) {
    // Runs start one byte before a NUL; copy everything up to there at once.
    const void* z = i + 1 < n ? std::memchr(s.data() + i + 1, 0, n - i - 1) : nullptr;
    std::size_t r = z ? static_cast<std::size_t>(static_cast<const char*>(z) - s.data()) - 1 : n;
    std::memcpy(o, s.data() + i, r - i);
    o += r - i;
    i = r;
    if (i >= n) break;
    std::size_t j = i;
    while (j + 1 < n && s[j + 1] == '\0' && text_char(s[j])) j += 2;
    if (j - i >= 8) {
      for (std::size_t k = i; k < j; k += 2) *o++ = s[k];
      i = j;
    } else {
      *o++ = s[i++];
    }
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

std::string deobfuscate_text(std::string_view s) {
  // Only these bytes can start a trick; the runs between them are copied
  // in one go (binary objects are mostly such runs).
  static const auto kStarts = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : std::string_view("\"'^hH[({")) t[c] = true;
    return t;
  }();
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0, n = s.size();
  while (i < n) {
    std::size_t j = i;
    while (j < n && !kStarts[static_cast<unsigned char>(s[j])]) ++j;
    out.append(s.data() + i, j - i);
    i = j;
    if (i >= n) break;
    char c = s[i];
    if (c == '"' || c == '\'') {
      if (auto j = join_end(s, i); j != std::string_view::npos) {
        i = j;
        continue;
      }
    } else if (c == '^') {  // cmd.exe escape: h^tt^p -> http
      ++i;
      continue;
    } else if ((c == 'h' || c == 'H') && starts_ci(s, i, "hxxp")) {
      out += "http";
      i += 4;
      continue;
    } else if (c == '[' || c == '(' || c == '{') {
      bool done = false;
      for (const auto& d : kDefangs) {
        if (starts_ci(s, i, d.text)) {
          out += d.plain;
          i += d.text.size();
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out += c;
    ++i;
  }
  return out;
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t j = i;
    unsigned v = 0;
    while (j < s.size() && is_digit(s[j]) && j - i < 3) v = v * 10 + static_cast<unsigned>(s[j++] - '0');
    if (j == i || v > 255) return false;
    ++parts;
    if (j == s.size()) return parts == 4;
    if (s[j] != '.' || parts == 4) return false;
    i = j + 1;
  }
}

std::optional<std::string> numeric_host_to_ipv4(std::string_view host) {
  std::vector<std::uint64_t> parts;
  std::size_t i = 0;
  while (parts.size() < 5) {
    std::size_t dot = host.find('.', i);
    auto v = parse_part(host.substr(i, dot == std::string_view::npos ? host.npos : dot - i));
    if (!v) return std::nullopt;
    parts.push_back(*v);
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  if (parts.empty() || parts.size() > 4) return std::nullopt;
  // The last part fills the remaining bytes (inet_aton): a.b.c -> c is 16 bits.
  std::size_t lead = parts.size() - 1;
  std::uint64_t last_max = 0xFFFFFFFFull >> (8 * lead);
  std::uint64_t addr = 0;
  for (std::size_t k = 0; k < lead; ++k) {
    if (parts[k] > 255) return std::nullopt;
    addr |= parts[k] << (8 * (3 - k));
  }
  if (parts.back() > last_max) return std::nullopt;
  addr |= parts.back();
  return dotted(static_cast<std::uint32_t>(addr));
}

std::optional<std::string> normalize_url(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string scheme = ascii_lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https" && scheme != "ftp") return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  std::size_t aend = rest.find_first_of("/?#");
  std::string_view auth = rest.substr(0, aend);
  std::string_view tail = aend == std::string_view::npos ? std::string_view() : rest.substr(aend);
  if (auto at = auth.rfind('@'); at != std::string_view::npos) auth.remove_prefix(at + 1);

  std::string_view host = auth, port;
  if (!auth.empty() && auth[0] == '[') {  // IPv6 literal
    auto close = auth.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = auth.substr(0, close + 1);
    if (close + 1 < auth.size()) {
      if (auth[close + 1] != ':') return std::nullopt;
      port = auth.substr(close + 2);
    }
  } else if (auto colon = auth.rfind(':'); colon != std::string_view::npos) {
    host = auth.substr(0, colon);
    port = auth.substr(colon + 1);
  }
  for (char c : port)
    if (!is_digit(c)) return std::nullopt;
  while (port.size() > 1 && port[0] == '0') port.remove_prefix(1);
  std::string h = ascii_lower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (h.empty()) return std::nullopt;
  if (h[0] != '[') {
    for (char c : h)
      if (!valid_host_char(c)) return std::nullopt;
    if (auto ip = numeric_host_to_ipv4(h)) h = *ip;
  }
  if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443") ||
      (scheme == "ftp" && port == "21"))
    port = {};
  if (auto hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  std::string out = scheme + "://" + h;
  if (!port.empty()) out += ":" + std::string(port);
  if (tail.empty() || tail[0] != '/') out += '/';
  out += tail;
  return out;
}

std::string url_host(std::string_view u) {
  auto sep = u.find("://");
  if (sep == std::string_view::npos) return {};
  std::string_view rest = u.substr(sep + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest[0] == '[') return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.rfind(':')));
}

ExtractedUrls extract_urls(std::string_view text, std::size_t max_urls) {
  constexpr std::size_t kMaxUrlLength = 4096;
  ExtractedUrls out;
  // Plain text has no NUL bytes: skip the UTF-16 pass (and its copy).
  std::string t = !text.empty() && std::memchr(text.data(), 0, text.size())
                      ? deobfuscate_text(collapse_utf16le(text))
                      : deobfuscate_text(text);
  std::unordered_set<std::string> seen_urls, seen_ips;
  std::size_t pos = 0;
  while (out.urls.size() < max_urls) {
    std::size_t p = t.find("://", pos);
    if (p == std::string::npos) break;
    pos = p + 3;
    std::size_t s = p;
    while (s > 0 && p - s < 8 && is_alnum(t[s - 1])) --s;
    std::string scheme = ascii_lower(std::string_view(t).substr(s, p - s));
    for (std::string_view known : {"https", "http", "ftp"}) {
      if (scheme.size() >= known.size() && scheme.compare(scheme.size() - known.size(), known.size(), known) == 0) {
        s = p - known.size();
        break;
      }
    }
    std::size_t e = p + 3;
    while (e < t.size() && e - s < kMaxUrlLength &&
           url_char(t[e], std::string_view(t).substr(s, e - s)))
      ++e;
    std::string_view raw = std::string_view(t).substr(s, e - s);
    while (!raw.empty() && std::string_view(".,;:!?").find(raw.back()) != std::string_view::npos)
      raw.remove_suffix(1);
    pos = std::max(pos, e);
    if (is_schema_identifier(t, s)) continue;
    auto url = normalize_url(raw);
    if (!url || !seen_urls.insert(*url).second) continue;
    std::string host = url_host(*url);
    if (is_ipv4(host) && seen_ips.insert(host).second) out.ips.push_back(host);
    out.urls.push_back(std::move(*url));
  }
  find_bare_ips(t, out.ips, seen_ips, max_urls);
  return out;
}

}  // namespace emogate
