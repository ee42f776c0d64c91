// Charset conversion with iconv (glibc). glibc has CP932 and EUC-JP-MS but
// no CP50221, so ISO-2022-JP is first mapped to CP932 byte-wise (JIS X 0208
// rows, including the NEC row 13 extensions, map arithmetically to Shift_JIS).
// Trusted input: none.
#include "formats/mime/charset.h"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "common/text.h"

namespace emogate {

namespace {

// Converts with iconv, replacing each undecodable byte by U+FFFD (when
// converting to UTF-8) and going on; strict mode fails instead.
bool iconv_convert(std::string_view in, const char* from, const char* to, std::string& out,
                   bool strict) {
  iconv_t cd = iconv_open(to, from);
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out.clear();
  out.reserve(in.size() * 3 / 2 + 16);
  char* src = const_cast<char*>(in.data());
  size_t left = in.size();
  char buf[8192];
  bool ok = true;
  while (left > 0) {
    char* dst = buf;
    size_t room = sizeof(buf);
    size_t r = iconv(cd, &src, &left, &dst, &room);
    out.append(buf, static_cast<size_t>(dst - buf));
    if (r == static_cast<size_t>(-1)) {
      if (errno == E2BIG) continue;
      if (strict) {
        ok = false;
        break;
      }
      // EILSEQ or EINVAL (truncated sequence): skip one byte.
      if (std::string_view(to) == "UTF-8") out += "\xEF\xBF\xBD";
      ++src;
      --left;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
  }
  char* dst = buf;
  size_t room = sizeof(buf);
  iconv(cd, nullptr, nullptr, &dst, &room);
  out.append(buf, static_cast<size_t>(dst - buf));
  iconv_close(cd);
  return ok;
}

std::string latin_fallback(std::string_view bytes) {
  std::string out;
  iconv_convert(bytes, "CP1252", "UTF-8", out, false);
  return out;
}

std::string guess(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  if (bytes.find("\x1B$B") != std::string_view::npos || bytes.find("\x1B$@") != std::string_view::npos)
    return to_utf8(bytes, "iso-2022-jp");
  std::string out;
  if (iconv_convert(bytes, "CP932", "UTF-8", out, true)) return out;
  if (iconv_convert(bytes, "EUC-JP-MS", "UTF-8", out, true)) return out;
  return latin_fallback(bytes);
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > n || c == 0xC0 || c == 0xC1 || c > 0xF4) return false;
    for (size_t k = 1; k < len; ++k)
      if ((p[i + k] & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

std::string iso2022jp_to_cp932(std::string_view in) {
  enum Mode { kAscii, kJis, kKana } mode = kAscii;
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == 0x1B && i + 2 < in.size()) {
      std::string_view esc = in.substr(i + 1, 2);
      if (esc == "$B" || esc == "$@") mode = kJis, i += 2;
      else if (esc == "(B" || esc == "(J") mode = kAscii, i += 2;
      else if (esc == "(I") mode = kKana, i += 2;
      else if (esc == "$(" && i + 3 < in.size()) mode = kJis, i += 3;  // ESC $ ( D / Q
      else out.push_back(static_cast<char>(c));
      continue;
    }
    if (c == 0x0E) { mode = kKana; continue; }   // SO
    if (c == 0x0F) { mode = kAscii; continue; }  // SI
    if (c == '\r' || c == '\n') mode = kAscii, out.push_back(static_cast<char>(c));
    else if (mode == kKana && c >= 0x21 && c <= 0x5F) out.push_back(static_cast<char>(c + 0x80));
    else if (mode == kJis && c >= 0x21 && c <= 0x7E && i + 1 < in.size()) {
      unsigned j1 = c, j2 = static_cast<unsigned char>(in[++i]);
      if (j2 < 0x21 || j2 > 0x7E) continue;
      unsigned s1 = ((j1 + 1) >> 1) + (j1 <= 0x5E ? 0x70 : 0xB0);
      unsigned s2 = (j1 & 1) ? j2 + (j2 >= 0x60 ? 0x20 : 0x1F) : j2 + 0x7E;
      out.push_back(static_cast<char>(s1));
      out.push_back(static_cast<char>(s2));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool utf8_to_cp932(std::string_view utf8, std::string& out) {
  iconv_convert(utf8, "UTF-8", "CP932", out, false);
  return !out.empty();
}

std::string to_utf8(std::string_view bytes, std::string_view charset_label) {
  std::string cs = ascii_lower(charset_label);
  while (!cs.empty() && (cs.back() == ' ' || cs.back() == '"')) cs.pop_back();
  while (!cs.empty() && (cs.front() == ' ' || cs.front() == '"')) cs.erase(0, 1);
  if (cs.empty() || cs == "unknown-8bit" || cs == "x-unknown") return guess(bytes);
  std::string out;
  if (cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
    if (is_valid_utf8(bytes)) return std::string(bytes);
    return guess(bytes);
  }
  if (cs.starts_with("iso-2022-jp") || cs == "csiso2022jp" || cs == "cp50220" || cs == "cp50221" ||
      cs == "cp50222") {
    iconv_convert(iso2022jp_to_cp932(bytes), "CP932", "UTF-8", out, false);
    return out;
  }
  const char* name = nullptr;
  if (cs == "shift_jis" || cs == "shift-jis" || cs == "sjis" || cs == "x-sjis" || cs == "ms_kanji" ||
      cs == "csshiftjis" || cs == "windows-31j" || cs == "cp932" || cs == "x-ms-cp932")
    name = "CP932";
  else if (cs == "euc-jp" || cs == "x-euc-jp" || cs == "cseucpkdfmtjapanese")
    name = "EUC-JP-MS";
  else if (cs == "gb2312" || cs == "gbk" || cs == "x-gbk" || cs == "cp936")
    name = "GB18030";
  else if (cs == "ks_c_5601-1987" || cs == "euc-kr" || cs == "ks_c_5601")
    name = "CP949";
  else if (cs == "iso-8859-1" || cs == "latin1" || cs == "windows-1252")
    name = "CP1252";  // what every mail client does with Latin-1 labels
  const std::string label = ascii_upper(name ? std::string_view(name) : std::string_view(cs));
  if (iconv_convert(bytes, label.c_str(), "UTF-8", out, false)) return out;
  return guess(bytes);  // unknown label
}

namespace {

std::string decode_b(std::string_view s) {
  static const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : s) {
    auto pos = alphabet.find(c);
    if (pos == std::string_view::npos) continue;
    acc = (acc << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string decode_q(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') out.push_back(' ');
    else if (s[i] == '=' && i + 2 < s.size() && hex_digit_value(s[i + 1]) >= 0 && hex_digit_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit_value(s[i + 1]) * 16 + hex_digit_value(s[i + 2])));
      i += 2;
    } else out.push_back(s[i]);
  }
  return out;
}

}  // namespace

std::string decode_rfc2047(std::string_view v) {
  std::string out;
  size_t i = 0;
  bool last_was_word = false;
  std::string pending_ws;
  // Adjacent encoded words with the same charset are joined before decoding,
  // because encoders split multi-byte characters (and ISO-2022-JP escape
  // states) across words.
  std::string run_charset, run_bytes;
  auto flush = [&] {
    if (!run_bytes.empty() || !run_charset.empty()) out += to_utf8(run_bytes, run_charset);
    run_bytes.clear();
    run_charset.clear();
  };
  while (i < v.size()) {
    if (v.compare(i, 2, "=?") == 0) {
      size_t q1 = v.find('?', i + 2);
      size_t q2 = q1 == std::string_view::npos ? q1 : v.find('?', q1 + 1);
      size_t end = q2 == std::string_view::npos ? q2 : v.find("?=", q2 + 1);
      if (end != std::string_view::npos && q2 == q1 + 2) {
        std::string charset(v.substr(i + 2, q1 - i - 2));
        if (auto star = charset.find('*'); star != std::string::npos) charset.resize(star);  // RFC 2231 language
        char enc = ascii_upper(v[q1 + 1]);
        std::string_view text = v.substr(q2 + 1, end - q2 - 1);
        std::string bytes = enc == 'B' ? decode_b(text) : decode_q(text);
        if (!last_was_word) out += pending_ws;
        if (last_was_word && ascii_lower(charset) != ascii_lower(run_charset)) flush();
        if (run_charset.empty()) run_charset = charset;
        run_bytes += bytes;
        pending_ws.clear();
        last_was_word = true;
        i = end + 2;
        continue;
      }
    }
    char c = v[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_ws.push_back(c == '\t' ? ' ' : c);
      ++i;
      continue;
    }
    flush();
    if (!pending_ws.empty()) {
      std::string ws;
      for (char w : pending_ws)
        if (w != '\r' && w != '\n') ws.push_back(w);
      out += ws;
      pending_ws.clear();
    }
    size_t next = v.find_first_of(" \t\r\n=", i + 1);
    if (next == std::string_view::npos) next = v.size();
    std::string_view chunk = v.substr(i, next - i);
    out += is_valid_utf8(chunk) ? std::string(chunk) : to_utf8(chunk, "");
    last_was_word = false;
    i = next;
  }
  flush();
  return out;
}

}  // namespace emogate
