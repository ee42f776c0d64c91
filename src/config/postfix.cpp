// See postfix.h.
// Trusted input: admin files, read as bounded text.
#include "config/postfix.h"

#include <algorithm>
#include <cctype>

#include "common/text.h"
#include "emogate/config.h"

namespace emogate::postfix {

namespace {

// Postfix 3.7's defaults for the parameters these checks read.
const MainCf& defaults() {
  static const MainCf d = {
      {"queue_directory", {"/var/spool/postfix", 0}},
      {"milter_default_action", {"tempfail", 0}},
      {"milter_content_timeout", {"300s", 0}},
      {"smtpd_milters", {"", 0}},
      {"non_smtpd_milters", {"", 0}},
      {"message_size_limit", {"10240000", 0}},
  };
  return d;
}

// Where parameters are looked up: a service's -o overrides (if any), then
// main.cf, then Postfix's defaults.
struct Params {
  const MainCf& main;
  const MainCf* overrides = nullptr;
  const Setting* find(std::string_view name) const {
    for (const MainCf* m : {overrides, &main, &defaults()})
      if (m)
        if (auto it = m->find(name); it != m->end()) return &it->second;
    return nullptr;
  }
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// "name = value" (spaces around '=' optional); false when not that shape.
bool split_assignment(std::string_view s, std::string& name, std::string& value) {
  const std::size_t eq = s.find('=');
  if (eq == std::string_view::npos) return false;
  name.assign(trim(s.substr(0, eq), " \t"));
  value.assign(trim(s.substr(eq + 1), " \t"));
  return !name.empty() && name.find_first_of(" \t") == std::string::npos;
}

// master.cf fields: white space separates them, `{ ... }` is one field.
std::vector<std::string> fields(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size()) break;
    std::size_t start = i;
    if (s[i] == '{') {
      const std::size_t close = s.find('}', i);
      i = close == std::string_view::npos ? s.size() : close + 1;
    } else {
      while (i < s.size() && !is_space(s[i])) ++i;
    }
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

// The inside of a `{ ... }` field, trimmed.
std::string_view unbrace(std::string_view f) {
  if (f.size() >= 2 && f.front() == '{' && f.back() == '}') return trim(f.substr(1, f.size() - 2), " \t");
  if (!f.empty() && f.front() == '{') return trim(f.substr(1), " \t");
  return f;
}

// What one expansion may still do, over all its levels, so that values
// naming each other many times over cannot multiply the work.
struct Budget {
  std::size_t lookups = kMaxExpansions;
  std::size_t bytes = kMaxExpansionBytes;  // characters written at any level
};

void expand_into(std::string_view value, const Params& params, int depth, Budget& budget, std::string& out) {
  for (std::size_t i = 0; i < value.size() && out.size() < kMaxValueBytes && budget.lookups > 0 && budget.bytes > 0;
       ++i) {
    if (value[i] != '$' || i + 1 >= value.size()) {
      out += value[i];
      --budget.bytes;
      continue;
    }
    std::size_t start = i + 1, end;
    std::string_view name;
    if (value[start] == '$') {  // "$$" is a literal '$'
      out += '$';
      --budget.bytes;
      ++i;
      continue;
    }
    if (value[start] == '{' || value[start] == '(') {
      const char close = value[start] == '{' ? '}' : ')';
      end = value.find(close, start);
      if (end == std::string_view::npos) {
        out += value.substr(i, kMaxValueBytes);
        budget.bytes -= std::min(budget.bytes, value.size() - i);
        return;
      }
      name = value.substr(start + 1, end - start - 1);
      i = end;
    } else {
      end = start;
      while (end < value.size() && (std::isalnum(static_cast<unsigned char>(value[end])) || value[end] == '_')) ++end;
      if (end == start) {
        out += value[i];
        continue;
      }
      name = value.substr(start, end - start);
      i = end - 1;
    }
    // ${name?text} and ${name:text}: text when name is (not) empty; other
    // operators of newer Postfix versions expand to nothing.
    const std::size_t op = name.find_first_of("?:");
    const std::string_view key = op == std::string_view::npos ? name : name.substr(0, op);
    std::string inner;
    --budget.lookups;
    if (depth < kMaxExpansionDepth)
      if (const Setting* s = params.find(key)) expand_into(s->value, params, depth + 1, budget, inner);
    if (op == std::string_view::npos) {
      out += inner;
      budget.bytes -= std::min(budget.bytes, inner.size());
    } else if ((name[op] == '?') == !inner.empty() && depth < kMaxExpansionDepth) {
      expand_into(name.substr(op + 1), params, depth + 1, budget, out);
    }
  }
  if (out.size() > kMaxValueBytes) out.resize(kMaxValueBytes);
}

// Postfix's milter address (unix:path, local:path, inet:host:port,
// inet:[v6]:port); a relative unix path is in queue_directory, an absolute
// one in it too when the service is chrooted there.
std::optional<mta::MilterSocket> postfix_endpoint(std::string_view addr, bool chrooted, std::string_view queue_dir) {
  const std::size_t colon = addr.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view proto = addr.substr(0, colon), rest = addr.substr(colon + 1);
  mta::MilterSocket e;
  if (proto == "unix" || proto == "local") {
    e.unix_socket = true;
    if (rest.empty()) return std::nullopt;
    if (rest.front() != '/' || chrooted) e.path = std::string(queue_dir) + (rest.front() == '/' ? "" : "/");
    e.path += rest;
    return e;
  }
  if (proto != "inet") return std::nullopt;
  const std::size_t last = rest.rfind(':');
  if (last == std::string_view::npos) return std::nullopt;
  e.host = mta::normal_host(rest.substr(0, last));
  e.port.assign(rest.substr(last + 1));
  return e;
}

// The effective value of a parameter for a service: its -o override, else
// main.cf, else Postfix's default; expanded with the overrides in force.
struct ServiceView {
  const Service* svc;
  MainCf overrides;
  Params params;
  ServiceView(const MainCf& main, const Service* s) : svc(s), params{main, &overrides} {
    if (svc)
      for (const auto& [k, v] : svc->overrides) overrides[k] = Setting{v, svc->line};
  }
  ServiceView(const ServiceView&) = delete;  // params points into it
  ServiceView& operator=(const ServiceView&) = delete;
  std::string expand(std::string_view value) const {
    std::string out;
    Budget budget;
    expand_into(value, params, 0, budget, out);
    return out;
  }
  std::string get(std::string_view name) const {
    const Setting* s = params.find(name);
    return s ? expand(s->value) : std::string();
  }
  // Where the value comes from: {true, line} for the service's -o, {false,
  // line} for main.cf, {false, 0} for Postfix's default.
  std::pair<bool, std::size_t> origin(std::string_view name) const {
    if (svc && svc->overrides.count(name)) return {true, svc->line};
    auto it = params.main.find(name);
    return {false, it == params.main.end() ? 0 : it->second.line};
  }
};

}  // namespace

MainCf parse_main_cf(std::string_view text) {
  MainCf out;
  mta::for_each_logical_line(text, /*indented_comments=*/true, [&](std::string_view s, std::size_t line) {
    std::string name, value;
    if (split_assignment(s, name, value)) out[name] = Setting{std::move(value), line};
  });
  return out;
}

std::vector<Service> parse_master_cf(std::string_view text) {
  std::vector<Service> out;
  mta::for_each_logical_line(text, /*indented_comments=*/true, [&](std::string_view s, std::size_t line) {
    const std::vector<std::string> f = fields(s);
    if (f.size() < 8) return;
    Service svc;
    svc.name = f[0];
    svc.type = f[1];
    svc.chroot = f[4].size() == 1 ? f[4][0] : '-';
    svc.command = f[7];
    svc.line = line;
    for (std::size_t i = 8; i < f.size(); ++i) {
      std::string_view arg = f[i];
      if (arg == "-o" && i + 1 < f.size()) arg = f[++i];
      else if (arg.starts_with("-o")) arg.remove_prefix(2);
      else continue;
      std::string name, value;
      if (split_assignment(unbrace(arg), name, value)) svc.overrides[name] = std::move(value);
    }
    out.push_back(std::move(svc));
  });
  return out;
}

std::string expand(std::string_view value, const MainCf& params) { return ServiceView(params, nullptr).expand(value); }

std::vector<MilterEntry> parse_milter_list(std::string_view value) {
  std::vector<MilterEntry> out;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (is_space(value[i]) || value[i] == ',')) ++i;
    if (i >= value.size()) break;
    MilterEntry e;
    if (value[i] == '{') {
      std::size_t close = value.find('}', i);
      if (close == std::string_view::npos) close = value.size();
      std::string_view inside = value.substr(i + 1, close - i - 1);
      i = close + 1;
      bool first = true;
      std::size_t p = 0;
      while (p <= inside.size()) {
        std::size_t comma = inside.find(',', p);
        if (comma == std::string_view::npos) comma = inside.size();
        const std::string_view item = trim(inside.substr(p, comma - p), " \t\r\n");
        p = comma + 1;
        if (item.empty()) continue;
        std::string name, v;
        if (first) e.address.assign(item);
        else if (split_assignment(item, name, v)) e.settings[name] = std::move(v);
        first = false;
      }
    } else {
      const std::size_t start = i;
      while (i < value.size() && !is_space(value[i]) && value[i] != ',') ++i;
      e.address.assign(value.substr(start, i - start));
    }
    if (!e.address.empty()) out.push_back(std::move(e));
  }
  return out;
}

std::optional<std::uint64_t> parse_seconds(std::string_view value) {
  value = trim(value, " \t");
  // Postfix's units are emogate's (s, m, h, d) and w.
  if (!value.ends_with('w')) return parse_duration_s(value);
  const auto n = parse_duration_s(value.substr(0, value.size() - 1));
  constexpr std::uint64_t week = 7 * 86400;
  if (!n || *n > UINT64_MAX / week) return std::nullopt;
  return *n * week;
}

bool same_endpoint(std::string_view emogate_socket, std::string_view postfix_address, bool chrooted,
                   std::string_view queue_directory) {
  const auto theirs = postfix_endpoint(postfix_address, chrooted, queue_directory);
  return theirs && mta::reaches(*theirs, mta::parse_libmilter_socket(emogate_socket));
}

mta::Report check_texts(std::string_view main_text, std::string_view master_text, const std::string& dir,
                        const mta::Milter& ours) {
  const std::string_view emogate_socket = ours.socket;
  const std::uint64_t worst_case_ms = ours.worst_case_ms;
  mta::Report r;
  const MainCf main = parse_main_cf(main_text);
  const std::string main_cf = dir + "/main.cf", master_cf = dir + "/master.cf";
  // The file that sets a value; main.cf (line 0) for Postfix's default.
  const auto where = [&](std::pair<bool, std::size_t> o) { return o.first ? master_cf : main_cf; };
  const auto warn = [&r](std::string file, std::size_t line, std::string text) {
    r.warn(std::move(file), line, std::move(text));
  };
  const auto who = [](std::pair<bool, std::size_t> origin, const std::string& label) {
    return origin.first ? label + ": " : std::string();
  };

  const std::vector<Service> services = parse_master_cf(master_text);
  const bool over_tcp = !mta::parse_libmilter_socket(emogate_socket).unix_socket;
  std::size_t smtpd_services = 0;
  for (const Service& svc : services) {
    if (svc.command != "smtpd") continue;
    if (++smtpd_services > kMaxSmtpdServices) {
      warn(master_cf, svc.line, "only the first " + std::to_string(kMaxSmtpdServices) + " smtpd services are checked");
      break;
    }
    const ServiceView view(main, &svc);
    // A service told to take no milters (a content filter's re-injection
    // port) is the admin's choice, not a gap; `-o smtpd_milters=$unset`
    // is not such a choice.
    if (view.get("receive_override_options").find("no_milters") != std::string::npos) continue;
    if (auto it = svc.overrides.find("smtpd_milters"); it != svc.overrides.end() && trim(it->second, " \t,").empty())
      continue;
    ++r.candidates;
    const bool chrooted = svc.chroot == 'y';
    const std::string queue_dir = view.get("queue_directory");
    const std::string label = "service \"" + svc.name + "\" (" + svc.type + ", smtpd" +
                              (chrooted ? ", chrooted in " + queue_dir : std::string()) + ")";
    const std::string milters = view.get("smtpd_milters");
    const std::vector<MilterEntry> list = parse_milter_list(milters);
    const MilterEntry* entry = nullptr;
    for (const MilterEntry& e : list)
      if (same_endpoint(emogate_socket, e.address, chrooted, queue_dir)) entry = &e;
    const auto src = view.origin("smtpd_milters");
    if (!entry) {
      std::string text = label + ": smtpd_milters = \"" + milters + "\" does not reach emogate's socket " +
                         std::string(emogate_socket) + ": its mail is not scanned";
      for (const MilterEntry& e : list)
        if (chrooted && same_endpoint(emogate_socket, e.address, false, queue_dir))
          text = label + ": " + e.address + " is emogate's socket outside the chroot, which smtpd cannot reach: put "
                 "the socket under " + queue_dir + " and name it relative to it";
      warn(src.second ? where(src) : master_cf, src.second ? src.second : svc.line, text);
      continue;
    }
    ++r.reaching;
    if (over_tcp)
      warn(src.second ? where(src) : master_cf, src.second ? src.second : svc.line,
           who(src, label) + "smtpd_milters reaches emogate over TCP (" + entry->address +
               "): Postfix's writes to a TCP milter wait for a delayed ACK, about 40 ms per message; a unix "
               "socket has no such wait (or turn delayed ACKs off with a quickack route: README, Postfix)");
    // What Postfix does when emogate does not answer in time.
    const auto own = [&](const char* key) -> const std::string* {
      auto it = entry->settings.find(key);
      return it == entry->settings.end() ? nullptr : &it->second;
    };
    const std::string action = own("default_action") ? view.expand(*own("default_action"))
                                                     : view.get("milter_default_action");
    if (ascii_lower(trim(action, " \t")) == "accept") {
      const auto o = own("default_action") ? src : view.origin("milter_default_action");
      warn(where(o), o.second,
           who(o, label) + "milter_default_action = accept: while emogate is down or late, mail passes unscanned "
                   "(tempfail keeps it at the sender until emogate answers)");
    }
    const std::string timeout = own("content_timeout") ? view.expand(*own("content_timeout"))
                                                       : view.get("milter_content_timeout");
    if (auto secs = parse_seconds(timeout); secs && *secs <= worst_case_ms / 1000) {
      const auto o = own("content_timeout") ? src : view.origin("milter_content_timeout");
      warn(where(o), o.second,
           who(o, label) + "milter_content_timeout = " + timeout + (o.second ? "" : " (Postfix's default)") +
               " is not longer than one message can take in emogate (" + std::to_string((worst_case_ms + 999) / 1000) +
               " s: the wait for a worker and two scans of [limits] scan_timeout_ms); Postfix's "
               "milter_default_action then decides instead of [actions] on_error");
    }
    // Mail Postfix takes but emogate refuses as too big to scan.
    const std::string size = view.get("message_size_limit");
    const auto limit = mta::parse_bytes(size);
    if (limit && ours.max_message_size && (*limit == 0 || *limit > ours.max_message_size)) {
      const auto o = view.origin("message_size_limit");
      warn(where(o), o.second,
           who(o, label) + "message_size_limit = " + size + (*limit == 0 ? " (no limit)" : "") +
               (o.second ? "" : " (Postfix's default)") +
               ": Postfix accepts messages larger than [milter] max_message_size (" +
               std::to_string(ours.max_message_size) +
               " bytes), which emogate refuses (552 5.3.4, or [actions] on_error)");
    }
  }
  if (r.candidates == 0)
    warn(master_cf, 0, "no smtpd service takes milters: Postfix sends no mail to emogate");

  // non_smtpd_milters are cleanup's, in cleanup's chroot.
  bool cleanup_chrooted = false;
  for (const Service& svc : services)
    if (svc.command == "cleanup" && svc.name == "cleanup") cleanup_chrooted = svc.chroot == 'y';
  const ServiceView plain(main, nullptr);
  for (const MilterEntry& e : parse_milter_list(plain.get("non_smtpd_milters")))
    if (same_endpoint(emogate_socket, e.address, cleanup_chrooted, plain.get("queue_directory"))) {
      const auto o = plain.origin("non_smtpd_milters");
      warn(main_cf, o.second,
           "non_smtpd_milters names emogate: a message released from the quarantine (sent again through "
           "sendmail) would be scanned and held again");
      break;
    }
  return r;
}

mta::Report check(const std::string& dir, const mta::Milter& ours) {
  bool ok = false;
  const std::string main_text = mta::read_config_text(dir + "/main.cf", ok);
  if (!ok) {
    mta::Report r;
    r.error = "cannot read " + dir + "/main.cf";
    return r;
  }
  const std::string master_text = mta::read_config_text(dir + "/master.cf", ok);
  if (!ok) {
    mta::Report r;
    r.error = "cannot read " + dir + "/master.cf";
    return r;
  }
  return check_texts(main_text, master_text, dir, ours);
}

}  // namespace emogate::postfix
