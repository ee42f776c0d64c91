// See sendmail.h.
// Trusted input: an admin file, as bounded text.
#include "config/sendmail.h"

#include <algorithm>

#include "common/text.h"

namespace emogate::sendmail {

namespace {

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (p <= s.size()) {
    std::size_t c = s.find(',', p);
    if (c == std::string_view::npos) c = s.size();
    const std::string_view item = trim(s.substr(p, c - p), " \t");
    if (!item.empty()) out.emplace_back(item);
    p = c + 1;
  }
  return out;
}

}  // namespace

Cf parse_sendmail_cf(std::string_view text) {
  Cf cf;
  mta::for_each_logical_line(text, /*indented_comments=*/false, [&](std::string_view s, std::size_t line) {
    if (s.front() == 'X') {
      const std::vector<std::string> parts = split_list(s.substr(1));
      if (parts.empty()) return;
      Filter f;
      f.name = parts[0];
      f.line = line;
      for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string_view part = parts[i];
        if (part.size() < 2 || part[1] != '=') continue;
        const std::string value(trim(part.substr(2), " \t"));
        switch (ascii_upper(part[0])) {
          case 'S': f.socket = value; break;
          case 'F': f.flags = value; break;
          case 'T': f.timeouts = value; break;
          default: break;
        }
      }
      cf.filters.push_back(std::move(f));
      return;
    }
    if (s.front() != 'O') return;
    const std::string_view opt = trim(s.substr(1), " \t");
    const std::size_t eq = opt.find('=');
    if (eq == std::string_view::npos) return;
    const std::string_view name = trim(opt.substr(0, eq), " \t");
    if (name == "InputMailFilters") {
      cf.input_filters = split_list(opt.substr(eq + 1));
      cf.input_line = line;
    } else if (name == "MaxMessageSize") {
      cf.max_message_size.assign(trim(opt.substr(eq + 1), " \t"));
      cf.max_message_size_line = line;
    }
  });
  return cf;
}

std::string timeout_of(std::string_view timeouts, char which) {
  std::size_t p = 0;
  while (p <= timeouts.size()) {
    std::size_t semi = timeouts.find(';', p);
    if (semi == std::string_view::npos) semi = timeouts.size();
    const std::string_view item = trim(timeouts.substr(p, semi - p), " \t");
    if (item.size() >= 2 && item[1] == ':' && ascii_upper(item[0]) == which)
      return std::string(trim(item.substr(2), " \t"));
    p = semi + 1;
  }
  return {};
}

std::optional<std::uint64_t> parse_seconds(std::string_view value, char default_unit) {
  value = trim(value, " \t");
  if (value.empty()) return std::nullopt;
  std::uint64_t total = 0;
  std::size_t i = 0;
  while (i < value.size()) {
    std::uint64_t n = 0;
    const std::size_t start = i;
    while (i < value.size() && value[i] >= '0' && value[i] <= '9') {
      if (n > (UINT64_MAX - 9) / 10) return std::nullopt;
      n = n * 10 + static_cast<std::uint64_t>(value[i++] - '0');
    }
    if (i == start) return std::nullopt;
    const char unit = i < value.size() ? value[i++] : default_unit;
    std::uint64_t mult;
    switch (unit) {
      case 's': mult = 1; break;
      case 'm': mult = 60; break;
      case 'h': mult = 3600; break;
      case 'd': mult = 86400; break;
      case 'w': mult = 7 * 86400; break;
      default: return std::nullopt;
    }
    if (n > (UINT64_MAX - total) / mult) return std::nullopt;
    total += n * mult;
  }
  return total;
}

mta::Report check_text(std::string_view text, const std::string& path, const mta::Milter& ours) {
  const std::string_view emogate_socket = ours.socket;
  const std::uint64_t worst_case_ms = ours.worst_case_ms;
  mta::Report r;
  const Cf cf = parse_sendmail_cf(text);
  const mta::MilterSocket listener = mta::parse_libmilter_socket(emogate_socket);
  std::vector<std::string> in_use = cf.input_filters;
  std::sort(in_use.begin(), in_use.end());
  r.candidates = static_cast<std::size_t>(std::unique(in_use.begin(), in_use.end()) - in_use.begin());
  bool defined = false;
  std::vector<std::string> counted;  // a name defined twice counts once
  for (const Filter& f : cf.filters) {
    if (!mta::reaches(mta::parse_libmilter_socket(f.socket), listener)) continue;
    defined = true;
    const std::string label = "mail filter \"" + f.name + "\" (S=" + f.socket + ")";
    if (std::find(cf.input_filters.begin(), cf.input_filters.end(), f.name) == cf.input_filters.end()) {
      r.warn(path, f.line,
             label + " is not in O InputMailFilters: Sendmail does not send mail to it (INPUT_MAIL_FILTER, not "
                     "MAIL_FILTER, in sendmail.mc adds it there)");
      continue;
    }
    if (std::find(counted.begin(), counted.end(), f.name) == counted.end()) {
      counted.push_back(f.name);
      ++r.reaching;
    }
    if (f.flags.find_first_of("TR") == std::string::npos)
      r.warn(path, f.line,
             label + ": F=" + f.flags +
                 " has neither T nor R: while emogate is down, Sendmail passes mail unscanned (F=T tempfails it)");
    const std::string e = timeout_of(f.timeouts, 'E');
    const std::string e_value = e.empty() ? "5m" : e;  // Sendmail's default
    if (auto secs = parse_seconds(e_value, 's'); secs && *secs <= worst_case_ms / 1000)
      r.warn(path, f.line,
             label + ": T=E:" + e_value + " is not longer than one message can take in emogate (" +
                 std::to_string((worst_case_ms + 999) / 1000) +
                 " s: the wait for a worker and two scans of [limits] scan_timeout_ms); Sendmail then gives up on "
                 "emogate instead of [actions] on_error deciding");
  }
  if (cf.max_message_size_line && ours.max_message_size) {
    const std::string& v = cf.max_message_size;
    if (auto limit = mta::parse_bytes(v); limit && (*limit == 0 || *limit > ours.max_message_size))
      r.warn(path, cf.max_message_size_line,
             "MaxMessageSize=" + v + (*limit == 0 ? " (no limit)" : "") +
                 ": Sendmail accepts messages larger than [milter] max_message_size (" +
                 std::to_string(ours.max_message_size) +
                 " bytes), which emogate refuses (552 5.3.4, or [actions] on_error)");
  }
  if (!defined)
    r.warn(path, 0,
           "no mail filter (X line) reaches emogate's socket " + std::string(emogate_socket) +
               ": Sendmail sends no mail to emogate");
  return r;
}

mta::Report check(const std::string& path, const mta::Milter& ours) {
  bool ok = false;
  const std::string text = mta::read_config_text(path, ok);
  if (!ok) {
    mta::Report r;
    r.error = "cannot read " + path;
    return r;
  }
  return check_text(text, path, ours);
}

}  // namespace emogate::sendmail
