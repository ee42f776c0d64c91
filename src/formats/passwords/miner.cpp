// Password miner: see password_miner.h.
// Trusted input: none.
#include "formats/passwords/miner.h"
#include "common/text.h"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <unordered_set>

namespace emogate {
namespace {

using U32 = std::u32string;
using U32View = std::u32string_view;

U32 decode_utf8(std::string_view s) {
  U32 out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (ok && (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    out.push_back(ok ? cp : U'\uFFFD');
    i += ok ? len : 1;
  }
  return out;
}

std::string encode_utf8(U32View s) {
  std::string out;
  for (char32_t c : s) append_utf8(out, c, Nul::keep);
  return out;
}

// Half-width katakana U+FF61..U+FF9D to their full-width forms.
constexpr std::u32string_view kHalfKana =
    U"。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

U32 fold(U32View in) {
  U32 out;
  out.reserve(in.size());
  bool prev_cr = false;
  for (char32_t c : in) {
    bool cr = prev_cr;
    prev_cr = c == U'\r';
    if (c == U'\n' && cr) continue;  // CRLF: the CR already ended the line
    if (c >= 0xFF01 && c <= 0xFF5E) {
      out.push_back(c - 0xFEE0);
    } else if (c == 0x3000 || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F) {
      out.push_back(U' ');
    } else if (c == 0x200B || c == 0x200C || c == 0x200D || c == 0x2060 || c == 0xFEFF || c == 0xAD) {
      // invisible: drop
    } else if (c >= 0xFF61 && c <= 0xFF9D) {
      out.push_back(kHalfKana[c - 0xFF61]);
    } else if ((c == 0xFF9E || c == 0xFF9F) && !out.empty()) {
      char32_t& p = out.back();
      bool ha = p >= U'ハ' && p <= U'ホ' && (p - U'ハ') % 3 == 0;
      bool voiceable = (p >= U'カ' && p <= U'ヂ' && (p - U'カ') % 2 == 0) || p == U'ツ' || p == U'テ' || p == U'ト';
      if (c == 0xFF9E && (voiceable || ha)) p += 1;
      else if (c == 0xFF9E && p == U'ウ') p = U'ヴ';
      else if (c == 0xFF9F && ha) p += 2;
    } else if (c == U'\r') {
      out.push_back(U'\n');  // lone CR ends a line; CRLF is handled below
    } else {
      out.push_back(c);
    }
  }
  return out;
}

char32_t lower(char32_t c) {
  if (c >= U'A' && c <= U'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;  // Latin-1 capitals (Ñ, É)
  return c;
}

bool latin_letter(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9') ||
         (c >= 0xC0 && c < 0x250 && c != 0xD7 && c != 0xF7);
}
bool katakana(char32_t c) { return c >= 0x30A1 && c <= 0x30FF; }
bool space(char32_t c) { return c == U' ' || c == U'\t' || c == U'\v' || c == U'\f'; }

// Longest first, so 解凍パスワード wins over パスワード over パス.
const std::vector<U32>& keywords() {
  static const std::vector<U32> list = [] {
    std::vector<U32> k = {
        // Japanese
        U"解凍パスワード", U"パスワード", U"パスコード", U"暗証番号", U"解凍キー", U"解凍用", U"パス",
        // English
        U"zip password", U"password", U"passcode", U"passphrase", U"passwd", U"pwd", U"pw", U"pass",
        // German, French, Spanish, Italian, Portuguese
        U"passwort", U"kennwort", U"mot de passe", U"mdp", U"contraseña", U"clave", U"parola d'ordine",
        U"chiave", U"senha", U"palavra-passe",
        // Chinese (simplified, traditional), Korean
        U"解压密码", U"解壓密碼", U"密码", U"密碼", U"口令", U"비밀번호", U"패스워드", U"암호"};
    std::stable_sort(k.begin(), k.end(), [](const U32& a, const U32& b) { return a.size() > b.size(); });
    return k;
  }();
  return list;
}

// Words between a keyword and its value ("は", "is", "lautet", "es", "是").
const std::vector<U32>& linking_words() {
  static const std::vector<U32> w = {U"は", U"が", U"を", U"も", U"是", U"为", U"為", U"은", U"는",
                                     U"이", U"is", U"ist", U"lautet", U"est", U"es", U"è", U"é", U"e"};
  return w;
}

// Polite endings glued to a value ("Ab3dEf9です", "abc입니다").
const std::vector<U32>& endings() {
  static const std::vector<U32> w = {U"となっております", U"でございます", U"となります", U"になります",
                                     U"です", U"입니다", U"。", U"、"};
  return w;
}

constexpr std::u32string_view kOpen = U"「『\"“‘'【[(<";
constexpr std::u32string_view kClose = U"」』\"”’'】])>";
constexpr std::u32string_view kStop = U"。、，「」『』【】";
constexpr std::u32string_view kSeparators = U":=-–>)]】』」|/.,";

bool starts_with_ci(U32View line, std::size_t at, U32View word) {
  if (line.size() - at < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (lower(line[at + i]) != word[i]) return false;
  return true;
}

// A keyword match must not be part of a longer word.
bool keyword_at(U32View line, std::size_t at, const U32& kw) {
  if (!starts_with_ci(line, at, kw)) return false;
  bool latin = latin_letter(kw.front());
  std::size_t end = at + kw.size();
  if (latin && at > 0 && latin_letter(line[at - 1])) return false;
  if (latin && end < line.size() && latin_letter(line[end])) return false;
  if (katakana(kw.back()) && end < line.size() && katakana(line[end])) return false;
  return true;
}

struct Collector {
  std::vector<PasswordCandidate> out;
  std::unordered_set<std::string> seen;
  std::size_t max;
  bool full() const { return out.size() >= max; }
  void add(U32View pw, int rank, const std::string& source) {
    while (!pw.empty() && space(pw.front())) pw.remove_prefix(1);
    while (!pw.empty() && space(pw.back())) pw.remove_suffix(1);
    if (pw.empty() || pw.size() > 64 || full()) return;
    std::string s = encode_utf8(pw);
    if (seen.insert(s).second) out.push_back({std::move(s), source, rank});
  }
};

std::size_t skip_spaces(U32View line, std::size_t p) {
  while (p < line.size() && space(line[p])) ++p;
  return p;
}

// The value after a keyword: a quoted string, or the run up to whitespace
// or Japanese punctuation, without polite endings. Several readings are
// offered, most likely first.
bool add_value(Collector& c, U32View line, std::size_t p, const std::string& source) {
  for (int round = 0; round < 4; ++round) {  // separators and linking words interleave
    while (p < line.size() && (space(line[p]) || kSeparators.find(line[p]) != U32View::npos)) ++p;
    for (const U32& w : linking_words()) {
      std::size_t e = p + w.size();
      if (starts_with_ci(line, p, w) && (e == line.size() || !latin_letter(line[e]) || !latin_letter(w[0]))) {
        p = e;
        break;
      }
    }
  }
  if (p >= line.size()) return false;
  auto has_alnum = [](U32View v) {
    return std::any_of(v.begin(), v.end(), [](char32_t ch) { return ch < 0x80 && latin_letter(ch); });
  };
  if (auto q = kOpen.find(line[p]); q != U32View::npos) {
    std::size_t close = line.find(kClose[q], p + 1);
    U32View v = line.substr(p + 1, close == U32View::npos ? U32View::npos : close - p - 1);
    c.add(v, 0, source);
    return has_alnum(v);
  }
  std::size_t e = p;
  while (e < line.size() && !space(line[e]) && kStop.find(line[e]) == U32View::npos) ++e;
  U32View v = line.substr(p, e - p);
  for (bool again = true; again;) {
    again = false;
    for (const U32& w : endings())
      if (v.size() > w.size() && v.substr(v.size() - w.size()) == w) {
        v.remove_suffix(w.size());
        again = true;
      }
  }
  // "Ab3dEf9で解凍してください": the ASCII run is the likely password.
  std::size_t ascii = 0;
  while (ascii < v.size() && v[ascii] > 0x20 && v[ascii] < 0x7F) ++ascii;
  if (ascii > 0 && ascii < v.size()) c.add(v.substr(0, ascii), 0, source);
  U32View trimmed = v;
  while (!trimmed.empty() && U32View(U".,;:!?)").find(trimmed.back()) != U32View::npos) trimmed.remove_suffix(1);
  c.add(trimmed, 0, source);
  c.add(v, 0, source);
  return has_alnum(v);
}

std::vector<U32View> split_lines(U32View text) {
  std::vector<U32View> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find(U'\n', start);
    if (nl == U32View::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

bool mentions_attachment(U32View line) {
  static const std::vector<U32> words = {U"添付", U"ファイル", U"attach", U"zip", U"anhang", U"anlage",
                                         U"pièce jointe", U"adjunto", U"allegato", U"anexo", U"附件",
                                         U"첨부", U"파일"};
  for (std::size_t i = 0; i < line.size(); ++i)
    for (const U32& w : words)
      if (starts_with_ci(line, i, w)) return true;
  return false;
}

// Tokens: whitespace-separated words, and the ASCII runs inside them
// (Japanese has no spaces: "パスワードはAb3dEf9です").
void add_tokens(Collector& c, U32View line, int rank, const std::string& source) {
  std::size_t p = 0;
  while (p < line.size()) {
    p = skip_spaces(line, p);
    std::size_t e = p;
    while (e < line.size() && !space(line[e])) ++e;
    U32View word = line.substr(p, e - p);
    auto usable = [](U32View t) {
      return t.size() >= 4 && t.size() <= 32 && t.substr(0, 4) != U"http" &&
             std::any_of(t.begin(), t.end(), [](char32_t ch) { return latin_letter(ch) || ch > 0x7F; });
    };
    U32View bare = word;
    while (!bare.empty() && (kOpen.find(bare.front()) != U32View::npos || kSeparators.find(bare.front()) != U32View::npos))
      bare.remove_prefix(1);
    while (!bare.empty() && (kClose.find(bare.back()) != U32View::npos || kSeparators.find(bare.back()) != U32View::npos))
      bare.remove_suffix(1);
    if (usable(word)) c.add(word, rank, source);
    if (usable(bare)) c.add(bare, rank, source);
    bool cjk = std::any_of(word.begin(), word.end(), [](char32_t ch) { return ch >= 0x2E80; });
    for (std::size_t i = 0; cjk && i < word.size();) {
      std::size_t j = i;
      while (j < word.size() && word[j] > 0x20 && word[j] < 0x7F) ++j;
      if (j > i && j - i < word.size() && usable(word.substr(i, j - i))) c.add(word.substr(i, j - i), rank, source);
      i = j + 1;
    }
    p = e;
  }
}

void add_quoted(Collector& c, U32View line, const std::string& source) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    std::size_t q = U32View(U"「『“\"").find(line[i]);
    if (q == U32View::npos) continue;
    char32_t close = U"」』”\""[q];
    std::size_t e = line.find(close, i + 1);
    if (e == U32View::npos) return;
    if (e - i - 1 <= 32) c.add(line.substr(i + 1, e - i - 1), 1, source);
    i = e;
  }
}

std::string where(const TextPart& part, std::size_t line) {
  return part.label + ", line " + std::to_string(line + 1);
}

// Rank 0: the value after each keyword, on the keyword's line or, when
// that has none, on the next non-blank line (at most two blank lines between).
void keyword_values(Collector& c, const std::vector<TextPart>& parts, const std::vector<U32>& folded) {
  for (std::size_t pi = 0; pi < parts.size() && !c.full(); ++pi) {
    auto lines = split_lines(folded[pi]);
    for (std::size_t li = 0; li < lines.size() && !c.full(); ++li) {
      U32View line = lines[li];
      for (std::size_t at = 0; at < line.size(); ++at) {
        for (const U32& kw : keywords()) {
          if (!keyword_at(line, at, kw)) continue;
          std::string label = "after \"" + encode_utf8(line.substr(at, kw.size())) + "\"";
          if (!add_value(c, line, at + kw.size(), where(parts[pi], li) + ", " + label)) {
            std::size_t next = li + 1;
            while (next < lines.size() && skip_spaces(lines[next], 0) == lines[next].size() && next < li + 3) ++next;
            if (next < lines.size()) add_value(c, lines[next], 0, where(parts[pi], next) + ", line after \"" +
                                                                      encode_utf8(line.substr(at, kw.size())) + "\"");
          }
          at += kw.size() - 1;
          break;
        }
      }
    }
  }
}

// The parts folded, each cut to a bounded prefix: passwords sit near the
// top of a mail, and a huge text part must not cost more than the archives
// it could open.
std::vector<U32> fold_parts(const std::vector<TextPart>& parts) {
  constexpr std::size_t kMaxTextBytes = 1u << 20;
  std::vector<U32> folded;
  for (const auto& part : parts) folded.push_back(fold(decode_utf8(std::string_view(part.text).substr(0, kMaxTextBytes))));
  return folded;
}

// Whether a value looks like a password a person or a PPAP gateway
// generated, rather than a word of the surrounding prose: printable ASCII
// without spaces, 4 to 64 characters, at least two of lower case, upper
// case, digits and symbols (or digits alone, a PIN), and not an address,
// a URL or a "TEL:"-style label.
bool plausible_password(std::string_view v, bool alone_on_line) {
  if (v.size() < 4 || v.size() > 64) return false;
  bool lower = false, upper = false, digit = false, symbol = false;
  for (char ch : v) {
    auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u >= 0x7F) return false;
    if (u >= 'a' && u <= 'z') lower = true;
    else if (u >= 'A' && u <= 'Z') upper = true;
    else if (u >= '0' && u <= '9') digit = true;
    else symbol = true;
  }
  if (v.find("://") != std::string_view::npos || v.starts_with("www.")) return false;
  if (v.find('@') != std::string_view::npos && v.find('.', v.find('@')) != std::string_view::npos) return false;
  const std::size_t colon = v.find(':');
  if (colon != std::string_view::npos && colon > 0 &&
      std::all_of(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(colon),
                  [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }))
    return false;
  // A line of its own is weaker evidence than a keyword: it needs letters
  // and digits, so that dates, phone numbers and rules (-----) stay out.
  if (alone_on_line) return (lower || upper) && digit;
  const int classes = lower + upper + digit + symbol;
  return classes >= 2 || (digit && !symbol);
}

bool archive_name_end(U32View line, std::size_t at, std::size_t& end) {
  static const std::vector<U32> exts = {U".zip", U".7z", U".lzh", U".rar"};
  for (const U32& x : exts)
    if (at > 0 && starts_with_ci(line, at, x) &&
        (at + x.size() == line.size() || !latin_letter(line[at + x.size()]))) {
      end = at + x.size();
      return true;
    }
  return false;
}

// "見積書.zip：Ab3dEf9", "【見積書.zip】 Ab3dEf9", or the archive name on a
// line with the value on the next: the value after an archive's file name.
void archive_name_values(Collector& c, const std::vector<TextPart>& parts, const std::vector<U32>& folded) {
  for (std::size_t pi = 0; pi < parts.size() && !c.full(); ++pi) {
    auto lines = split_lines(folded[pi]);
    for (std::size_t li = 0; li < lines.size() && !c.full(); ++li) {
      U32View line = lines[li];
      for (std::size_t at = 0, end = 0; at < line.size(); ++at) {
        if (!archive_name_end(line, at, end)) continue;
        std::size_t start = at;
        while (start > 0 && !space(line[start - 1]) && kOpen.find(line[start - 1]) == U32View::npos) --start;
        const std::string label = "after the archive name \"" + encode_utf8(line.substr(start, end - start)) + "\"";
        if (!add_value(c, line, end, where(parts[pi], li) + ", " + label) && li + 1 < lines.size())
          add_value(c, lines[li + 1], 0, where(parts[pi], li + 1) + ", line after the archive name");
        at = end - 1;
      }
    }
  }
}

// A short mail (a password notice is a few lines) whose Subject or text
// names a password: every line that holds one token and nothing else.
void lone_line_values(Collector& c, const std::vector<TextPart>& parts, const std::vector<U32>& folded) {
  constexpr std::size_t kShortLines = 40, kShortChars = 4000;
  bool notice = false;
  for (const U32& text : folded)
    for (std::size_t at = 0; at < text.size() && text.size() <= kShortChars && !notice; ++at)
      for (const U32& kw : keywords())
        if (keyword_at(text, at, kw)) { notice = true; break; }
  if (!notice) return;
  for (std::size_t pi = 0; pi < parts.size() && !c.full(); ++pi) {
    if (parts[pi].label == "Subject" || folded[pi].size() > kShortChars) continue;
    auto lines = split_lines(folded[pi]);
    std::size_t used = 0;
    for (U32View l : lines) used += skip_spaces(l, 0) < l.size();
    if (used > kShortLines) continue;
    for (std::size_t li = 0; li < lines.size() && !c.full(); ++li) {
      U32View line = lines[li];
      std::size_t p = skip_spaces(line, 0), e = p;
      while (e < line.size() && !space(line[e])) ++e;
      if (e == p || skip_spaces(line, e) != line.size()) continue;
      c.add(line.substr(p, e - p), 1, where(parts[pi], li) + ", alone on its line in a password notice");
    }
  }
}

}  // namespace

std::vector<PasswordCandidate> mine_follow_up_passwords(const std::vector<TextPart>& parts,
                                                        std::size_t max_candidates) {
  // The shapes are gathered generously, then only plausible values are
  // kept, up to the caller's bound.
  Collector c;
  c.max = 1024;
  const std::vector<U32> folded = fold_parts(parts);
  keyword_values(c, parts, folded);
  archive_name_values(c, parts, folded);
  const std::size_t strong = c.out.size();
  for (std::size_t pi = 0; pi < parts.size() && !c.full(); ++pi) {
    auto lines = split_lines(folded[pi]);
    for (std::size_t li = 0; li < lines.size() && !c.full(); ++li)
      add_quoted(c, lines[li], where(parts[pi], li) + ", quoted");
  }
  const std::size_t quoted = c.out.size();
  lone_line_values(c, parts, folded);
  std::vector<PasswordCandidate> out;
  for (std::size_t i = 0; i < c.out.size() && out.size() < max_candidates; ++i)
    if (plausible_password(c.out[i].password, i >= quoted)) {
      out.push_back(std::move(c.out[i]));
      out.back().rank = i < strong ? 0 : 1;
    }
  return out;
}

namespace {
}  // namespace

std::string fold_width(std::string_view utf8) { return encode_utf8(fold(decode_utf8(utf8))); }

std::vector<PasswordCandidate> mine_passwords(const std::vector<TextPart>& parts,
                                              const std::vector<std::string>& static_list,
                                              std::size_t max_candidates) {
  Collector c;
  c.max = max_candidates;
  const std::vector<U32> folded = fold_parts(parts);

  // Rank 0: keyword values, on the keyword's line and the next line.
  keyword_values(c, parts, folded);
  // Rank 1: quoted values anywhere, then tokens near an attachment mention.
  for (std::size_t pi = 0; pi < parts.size() && !c.full(); ++pi) {
    auto lines = split_lines(folded[pi]);
    for (std::size_t li = 0; li < lines.size() && !c.full(); ++li)
      add_quoted(c, lines[li], where(parts[pi], li) + ", quoted");
    for (std::size_t li = 0; li < lines.size() && !c.full(); ++li) {
      if (!mentions_attachment(lines[li])) continue;
      for (std::size_t k = li; k < std::min(lines.size(), li + 3); ++k)
        add_tokens(c, lines[k], 1, where(parts[pi], k) + ", near the attachment mention");
    }
  }
  // Rank 2: every 4-32 character token.
  for (std::size_t pi = 0; pi < parts.size() && !c.full(); ++pi) {
    auto lines = split_lines(folded[pi]);
    for (std::size_t li = 0; li < lines.size() && !c.full(); ++li)
      add_tokens(c, lines[li], 2, where(parts[pi], li) + ", token");
  }
  for (const auto& s : static_list) c.add(decode_utf8(s), 3, "the configuration ([passwords] static_list)");
  return std::move(c.out);
}

std::vector<std::string> password_encodings(std::string_view utf8) {
  std::vector<std::string> out{std::string(utf8)};
  if (std::all_of(utf8.begin(), utf8.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; }))
    return out;
  iconv_t cd = iconv_open("CP932", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) return out;
  std::string in(utf8);
  std::string buf(in.size() * 2 + 4, '\0');
  char* ip = in.data();
  char* op = buf.data();
  std::size_t il = in.size(), ol = buf.size();
  if (iconv(cd, &ip, &il, &op, &ol) != static_cast<std::size_t>(-1) && il == 0) {
    buf.resize(buf.size() - ol);
    if (buf != out[0]) out.push_back(std::move(buf));
  }
  iconv_close(cd);
  return out;
}

std::string mask_password(std::string_view utf8) {
  U32 cps = decode_utf8(utf8);
  std::size_t keep = cps.size() >= 6 ? 2 : cps.size() >= 3 ? 1 : 0;
  U32 out(cps.begin(), cps.begin() + static_cast<std::ptrdiff_t>(keep));
  out.append(cps.size() - keep, U'*');
  return encode_utf8(out);
}

}  // namespace emogate
