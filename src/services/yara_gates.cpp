// Reads rule gates from YARA source; see yara_gates.h.
// Trusted input: rule files (admin input); a file this reader does not
// understand is reported as not splittable, never guessed at.
#include "services/yara_gates.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace emogate {

namespace {

struct Tok {
  enum Kind { word, number, text, punct } kind;
  std::string_view s;
  std::size_t pos;
};

bool word_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool word_char(char c) { return word_start(c) || (c >= '0' && c <= '9'); }

// YARA's lexical structure, as far as telling rules, conditions and literals
// apart needs: comments, "strings", /regexes/ (YARA divides with '\', so a
// '/' that starts no comment starts a regex), $vars, words, numbers,
// operators. Returns false on anything unterminated.
bool tokenize(std::string_view t, std::vector<Tok>& out) {
  std::size_t i = 0;
  const std::size_t n = t.size();
  while (i < n) {
    const char c = t[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '/' && i + 1 < n && t[i + 1] == '/') {
      while (i < n && t[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && t[i + 1] == '*') {
      std::size_t e = t.find("*/", i + 2);
      if (e == std::string_view::npos) return false;
      i = e + 2;
    } else if (c == '"' || c == '/') {
      std::size_t j = i + 1;
      while (j < n && t[j] != c && t[j] != '\n') j += t[j] == '\\' ? 2 : 1;
      if (j >= n || t[j] != c) return false;
      ++j;
      if (c == '/')
        while (j < n && (t[j] == 'i' || t[j] == 's')) ++j;
      out.push_back({Tok::text, t.substr(i, j - i), i});
      i = j;
    } else if (word_start(c) || ((c == '$' || c == '#' || c == '@' || c == '!') && !(c == '!' && i + 1 < n && t[i + 1] == '='))) {
      std::size_t j = i + 1;
      while (j < n && word_char(t[j])) ++j;
      if (c != '_' && !word_start(c) && j < n && t[j] == '*') ++j;
      out.push_back({Tok::word, t.substr(i, j - i), i});
      i = j;
    } else if (c >= '0' && c <= '9') {
      std::size_t j = i + 1;
      while (j < n && word_char(t[j])) ++j;
      out.push_back({Tok::number, t.substr(i, j - i), i});
      i = j;
    } else {
      static constexpr std::string_view two[] = {"==", "!=", "<=", ">=", "..", "<<", ">>"};
      std::size_t len = 1;
      for (auto op : two)
        if (t.substr(i, 2) == op) len = 2;
      out.push_back({Tok::punct, t.substr(i, len), i});
      i += len;
    }
  }
  return true;
}

// A YARA integer literal (decimal, 0x hex, 0o octal, KB/MB suffix).
bool literal(std::string_view s, std::uint64_t& v) {
  std::uint64_t mul = 1;
  if (s.ends_with("KB")) mul = 1024, s.remove_suffix(2);
  else if (s.ends_with("MB")) mul = 1024 * 1024, s.remove_suffix(2);
  int base = 10;
  if (s.starts_with("0x")) base = 16, s.remove_prefix(2);
  else if (s.starts_with("0o")) base = 8, s.remove_prefix(2);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  if (v > UINT64_MAX / mul) return false;
  v *= mul;
  return true;
}

bool is(const Tok& t, std::string_view s) { return t.s == s && t.kind != Tok::text; }

// Index of the ')' closing the '(' at `i` within [i, e), or e.
std::size_t closing(const std::vector<Tok>& t, std::size_t i, std::size_t e) {
  int depth = 0;
  for (std::size_t k = i; k < e; ++k) {
    if (is(t[k], "(")) ++depth;
    else if (is(t[k], ")") && --depth == 0) return k;
  }
  return e;
}

// One conjunct that is exactly a gate.
void atom(const std::vector<Tok>& t, std::size_t b, std::size_t e, RuleGate& g) {
  std::uint64_t v = 0;
  if (e - b == 3 && is(t[b], "filesize") && t[b + 2].kind == Tok::number && literal(t[b + 2].s, v)) {
    if (is(t[b + 1], "<")) g.below = std::min(g.below, v);
    else if (is(t[b + 1], "<=") && v < UINT64_MAX) g.below = std::min(g.below, v + 1);
  } else if (e - b == 6 && is(t[b + 1], "(") && t[b + 2].kind == Tok::number && t[b + 2].s == "0" &&
             is(t[b + 3], ")") && is(t[b + 4], "==") && t[b + 5].kind == Tok::number && literal(t[b + 5].s, v)) {
    if ((is(t[b], "uint16") && v == 0x5A4D) || (is(t[b], "uint16be") && v == 0x4D5A)) g.mz = true;
  }
}

// Parentheses followed into a condition; deeper ones gate nothing.
constexpr int kMaxNesting = 32;

// Gates of the condition tokens [b, e): only through top-level `and`s.
void conjunction(const std::vector<Tok>& t, std::size_t b, std::size_t e, RuleGate& g, int nesting = 0) {
  for (; b < e && is(t[b], "(") && closing(t, b, e) == e - 1; ++b, --e)
    if (++nesting > kMaxNesting) return;
  if (b >= e) return;
  std::vector<std::size_t> ands;
  int depth = 0;
  for (std::size_t k = b; k < e; ++k) {
    if (is(t[k], "(")) ++depth;
    else if (is(t[k], ")")) --depth;
    else if (depth == 0 && is(t[k], "or")) return;  // a disjunction gates nothing
    else if (depth == 0 && is(t[k], "and")) ands.push_back(k);
  }
  if (depth != 0) return;
  if (ands.empty()) return atom(t, b, e, g);
  std::size_t from = b;
  ands.push_back(e);
  for (std::size_t a : ands) {
    conjunction(t, from, a, g, nesting);
    from = a + 1;
  }
}

}  // namespace

RuleFileShape analyse_rule_file(std::string_view text) {
  RuleFileShape shape;
  std::vector<Tok> t;
  if (!tokenize(text, t)) return shape;
  struct Parsed {
    std::string name;
    bool is_private = false;
    std::size_t cond_b = 0, cond_e = 0;
  };
  std::vector<Parsed> parsed;
  std::set<std::string, std::less<>> modules;
  std::size_t i = 0;
  while (i < t.size()) {
    if (is(t[i], "import") && i + 1 < t.size() && t[i + 1].kind == Tok::text && t[i + 1].s.size() >= 2) {
      std::string m(t[i + 1].s.substr(1, t[i + 1].s.size() - 2));
      shape.imports.push_back({t[i].pos, t[i + 1].pos + t[i + 1].s.size(), m});
      modules.insert(m);
      i += 2;
      continue;
    }
    RuleShape r;
    Parsed p;
    r.begin = t[i].pos;
    bool is_global = false;
    while (i < t.size() && (is(t[i], "private") || is(t[i], "global"))) {
      (t[i].s == "private" ? p.is_private : is_global) = true;
      ++i;
    }
    if (i + 1 >= t.size() || !is(t[i], "rule") || t[i + 1].kind != Tok::word) return shape;
    p.name = std::string(t[i + 1].s);
    i += 2;
    while (i < t.size() && !is(t[i], "{")) ++i;  // ": tag tag"
    if (i >= t.size()) return shape;
    int depth = 0;
    std::size_t body = i;
    for (; i < t.size(); ++i) {
      if (is(t[i], "{")) ++depth;
      else if (is(t[i], "}") && --depth == 0) break;
      else if (depth == 1 && is(t[i], "condition") && i + 1 < t.size() && is(t[i + 1], ":") && !p.cond_b)
        p.cond_b = i + 2;
    }
    if (i >= t.size() || p.cond_b == 0 || p.cond_b <= body) return shape;
    p.cond_e = i;
    r.end = t[i].pos + 1;
    ++i;
    // A non-private global rule reports its own matches: one copy only.
    if (is_global && !p.is_private) return shape;
    r.shared = p.is_private || is_global;
    parsed.push_back(std::move(p));
    shape.rules.push_back(std::move(r));
  }
  std::set<std::string, std::less<>> public_names;
  for (const Parsed& p : parsed)
    if (!p.is_private) public_names.insert(p.name);
  for (std::size_t k = 0; k < parsed.size(); ++k) {
    const Parsed& p = parsed[k];
    RuleShape& r = shape.rules[k];
    for (std::size_t j = p.cond_b; j < p.cond_e; ++j) {
      if (t[j].kind != Tok::word) continue;
      if (public_names.count(t[j].s)) return shape;  // one public rule needs another
      if (modules.count(t[j].s) &&
          std::find(r.modules.begin(), r.modules.end(), t[j].s) == r.modules.end())
        r.modules.emplace_back(t[j].s);
    }
    conjunction(t, p.cond_b, p.cond_e, r.gate);
  }
  shape.splittable = true;
  return shape;
}

std::string keep_rules(std::string_view text, const RuleFileShape& shape, const std::vector<bool>& keep) {
  std::string out(text);
  auto blank = [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e && k < out.size(); ++k)
      if (out[k] != '\n') out[k] = ' ';
  };
  std::set<std::string> used;
  for (std::size_t k = 0; k < shape.rules.size(); ++k) {
    const RuleShape& r = shape.rules[k];
    if (r.shared || (k < keep.size() && keep[k]))
      used.insert(r.modules.begin(), r.modules.end());
    else
      blank(r.begin, r.end);
  }
  for (const ImportShape& im : shape.imports)
    if (!used.count(im.module)) blank(im.begin, im.end);
  return out;
}

}  // namespace emogate
