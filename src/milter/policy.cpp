// Policy: scan result + [actions] -> milter decision. Pure; see policy.h.
// Finding paths and details are chosen by the sender.
// Trusted input: none.
#include "milter/policy.h"

#include <algorithm>
#include <cstdio>

#include "common/text.h"

namespace emogate::policy {

int rank(Action a) {
  switch (a) {
    case Action::accept: return 0;
    case Action::tag: return 1;
    case Action::hold: return 2;
    case Action::quarantine: return 3;
    case Action::tempfail: return 4;
    case Action::reject: return 5;
    case Action::discard: return 6;
  }
  return 0;
}

Action stronger(Action a, Action b) { return rank(b) > rank(a) ? b : a; }

namespace {

Action for_verdict(Verdict v, const ActionSettings& s) {
  switch (v) {
    case Verdict::clean: return s.clean;
    case Verdict::suspicious: return s.suspicious;
    case Verdict::malicious: return s.malicious;
  }
  return s.on_error;
}

std::string escape_with(std::string_view s, std::string_view extra) {
  return percent_encode(s, [extra](unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '%' && extra.find(static_cast<char>(c)) == std::string_view::npos;
  });
}

// Fills in everything that follows from the chosen action.
void complete(Decision& d, Verdict verdict, bool have_verdict, const std::string& findings,
              const ActionSettings& s, std::string_view hold_why) {
  const bool delivered = d.action == Action::tag || d.action == Action::hold ||
                         (d.action == Action::quarantine && d.after_quarantine == Action::hold);
  if (delivered && s.add_headers) {
    std::string v = have_verdict ? std::string(to_string(verdict)) : "unscanned";
    d.headers.emplace_back("X-Emogate-Verdict", fold_header("X-Emogate-Verdict", v));
    if (!findings.empty())
      d.headers.emplace_back("X-Emogate-Findings", fold_header("X-Emogate-Findings", findings));
  }
  if (delivered && have_verdict) {
    if (verdict == Verdict::suspicious) d.subject_prefix = s.subject_prefix_suspicious;
    if (verdict == Verdict::malicious) d.subject_prefix = s.subject_prefix_malicious;
  }
  if (d.action == Action::hold || d.action == Action::quarantine) {
    // Postfix logs the hold reason and shows it in postqueue; keep it short.
    // hold_why arrives escaped (findings_header escapes every path), so it is
    // not escaped again; a cut never splits a %XX sequence.
    std::string r = "emogate: " + std::string(hold_why);
    if (r.size() > 200) {
      std::size_t cut = 197;
      if (r[cut - 1] == '%') cut -= 1;
      else if (r[cut - 2] == '%') cut -= 2;
      r = r.substr(0, cut) + "...";
    }
    d.hold_reason = std::move(r);
  }
  if (d.action == Action::reject) {
    d.rcode = "550";
    d.xcode = "5.7.1";
    d.text = reply_text(s.reject_text);
  } else if (d.action == Action::tempfail) {
    d.rcode = "451";
    d.xcode = "4.7.1";
    d.text = reply_text(s.tempfail_text);
  }
}

Action quarantine_after_or_discard(Action a) {
  return a == Action::hold ? Action::hold : Action::discard;
}

// The [[rules.set]] max_action that caps what `f` may cause, or null.
const Action* cap_of(const Finding& f, const ActionSettings& s) {
  if (f.rule_set.empty()) return nullptr;
  auto it = s.rule_set_caps.find(f.rule_set);
  return it == s.rule_set_caps.end() ? nullptr : &it->second;
}

Action capped(Action a, const Action* cap) { return cap && rank(*cap) < rank(a) ? *cap : a; }

}  // namespace

Decision decide(const Report& report, const ActionSettings& s, Action quarantine_after) {
  Decision d;
  d.after_quarantine = quarantine_after_or_discard(quarantine_after);
  // A finding from a capped rule set acts at most as its cap says; the
  // verdict of the others acts as always.
  Verdict uncapped = Verdict::clean;
  bool any_capped = false;
  for (const Finding& f : report.findings) {
    if (cap_of(f, s)) any_capped = true;
    else uncapped = std::max(uncapped, f.verdict);
  }
  const Verdict acting = any_capped ? uncapped : report.verdict;
  d.action = for_verdict(acting, s);
  d.why = "verdict=" + std::string(to_string(acting));
  for (const Finding& f : report.findings) {
    const Action* cap = cap_of(f, s);
    if (cap) {
      Action a = capped(for_verdict(f.verdict, s), cap);
      if (rank(a) > rank(d.action)) {
        d.action = a;
        d.why = "finding=yara rule_set=" + escape_with(f.rule_set, " ") + " max_action=" + std::string(to_string(*cap));
      }
    }
    auto it = s.findings.find(f.type);
    if (it != s.findings.end() && rank(capped(it->second, cap)) > rank(d.action)) {
      d.action = capped(it->second, cap);
      d.why = "finding=" + std::string(to_string(f.type));
    }
  }
  // The scan could not inspect everything (temp storage, a failed
  // analyser): the findings say what, and [actions] on_error decides, unless
  // what was found already asks for more.
  if (!report.complete() && rank(s.on_error) > rank(d.action)) {
    d.action = s.on_error;
    d.after_quarantine = Action::hold;
    d.why = "error=scan incomplete: " + escape_with(report.incomplete.front(), " ");
  }
  std::string fh = findings_header(report);
  std::string hold_why = std::string(to_string(report.verdict));
  if (!fh.empty()) hold_why += " " + fh;
  complete(d, report.verdict, true, fh, s, hold_why);
  return d;
}

Decision decide_error(const ActionSettings& s, std::string_view why) {
  Decision d;
  d.action = s.on_error;
  d.why = "error=" + escape_with(why, " ");
  // A failed scan has nothing safe to quarantine-and-discard on: hold it.
  d.after_quarantine = Action::hold;
  complete(d, Verdict::clean, false, "", s, "scan failed: " + escape_with(why, ""));
  return d;
}

std::string escape_text(std::string_view s, std::string_view extra) { return escape_with(s, extra); }

std::string findings_header(const Report& report, std::size_t max_items) {
  std::string out;
  std::size_t n = 0;
  for (const Finding& f : report.findings) {
    if (n == max_items) {
      out += ", (+" + std::to_string(report.findings.size() - n) + " more)";
      break;
    }
    if (n++) out += ", ";
    // ',' is the list separator, so it is escaped inside paths too.
    out += std::string(to_string(f.type)) + "@" + escape_with(f.path, ",");
  }
  return out;
}

std::string fold_header(std::string_view name, std::string_view value, std::size_t width) {
  constexpr std::size_t kHardLimit = 998;
  width = std::clamp<std::size_t>(width, 20, kHardLimit);
  std::string out;
  std::size_t line = name.size() + 2;  // "Name: "
  std::size_t i = 0;
  bool first = true;
  while (i < value.size()) {
    // Next word: the run of non-space characters, with its leading spaces.
    std::size_t start = i;
    while (i < value.size() && value[i] == ' ') ++i;
    std::size_t word_end = value.find(' ', i);
    if (word_end == std::string_view::npos) word_end = value.size();
    std::string_view word = value.substr(start, word_end - start);
    i = word_end;
    if (!first && line + word.size() > width && word.size() > 0 && word[0] == ' ') {
      // Fold before the existing space: unfolding restores the exact value.
      out += '\n';
      line = 0;
    }
    // A word that cannot fit even on its own line is cut (last resort; only
    // reachable with >900-byte paths).
    while (line + word.size() > kHardLimit) {
      std::size_t take = kHardLimit - line;
      out.append(word.substr(0, take));
      out += "\n ";
      line = 1;
      word.remove_prefix(take);
    }
    out.append(word);
    line += word.size();
    first = false;
  }
  return out;
}

std::string reply_text(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= 400) break;
    if (c == '%') out += "%%";
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += ' ';
  }
  if (out.empty()) out = "Message refused (emogate)";
  return out;
}

std::string prefixed_subject(std::string_view current, std::string_view prefix) {
  std::string_view body = current;
  while (!body.empty() && (body.front() == ' ' || body.front() == '\t')) body.remove_prefix(1);
  if (prefix.empty() || body.substr(0, prefix.size()) == prefix) return std::string(current);
  std::string lead(current.substr(0, current.size() - body.size()));
  return lead + std::string(prefix) + (body.empty() ? "" : " ") + std::string(body);
}

std::string with_subject_prefix(std::string_view raw, std::string_view prefix) {
  if (prefix.empty()) return std::string(raw);
  const std::string eol = raw.find("\r\n") != std::string_view::npos ? "\r\n" : "\n";
  std::size_t line = 0;
  while (line < raw.size()) {
    std::size_t end = raw.find('\n', line);
    end = end == std::string_view::npos ? raw.size() : end + 1;
    const std::string_view text = raw.substr(line, end - line);
    if (text == "\n" || text == "\r\n") break;  // end of the header block
    if (text.size() >= 8 && ascii_lower(text.substr(0, 8)) == "subject:") {
      // The value runs on over continuation lines (starting with a blank).
      std::size_t stop = end;
      while (stop < raw.size() && (raw[stop] == ' ' || raw[stop] == '\t')) {
        const std::size_t next = raw.find('\n', stop);
        stop = next == std::string_view::npos ? raw.size() : next + 1;
      }
      std::string_view value = raw.substr(line + 8, stop - line - 8);
      std::string_view tail;  // the value's own line ending
      if (value.ends_with("\r\n")) tail = "\r\n";
      else if (value.ends_with("\n")) tail = "\n";
      value.remove_suffix(tail.size());
      return std::string(raw.substr(0, line + 8)) + prefixed_subject(value, prefix) +
             std::string(tail) + std::string(raw.substr(stop));
    }
    line = end;
  }
  return "Subject: " + std::string(prefix) + eol + std::string(raw);
}

}  // namespace emogate::policy
