// Loads the TOML configuration into Config. Every table is read through a
// Section that records which keys it consumed, so any key left over is an
// error with its line number: a typo never silently falls back to a default.
// Relative paths are taken relative to the config file's directory.
// Trusted input: the configuration file.
#include "emogate/config.h"

#include <arpa/inet.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <cstring>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "common/text.h"
#include "outbound/direction.h"

namespace emogate {

namespace fs = std::filesystem;

ConfigError::ConfigError(std::string f, int l, std::string what)
    : std::runtime_error(f + (l > 0 ? ":" + std::to_string(l) : std::string()) + ": " + what),
      file(std::move(f)),
      line(l) {}

Verdict default_baseline(FindingType t) {
  switch (t) {
    case FindingType::archive_decrypted: return Verdict::clean;  // informational
    case FindingType::yara:
    case FindingType::url_blocklisted:
    case FindingType::remote_template:
    case FindingType::dangerous_type: return Verdict::malicious;
    default: return Verdict::suspicious;
  }
}

std::vector<RuleSetSettings> RuleSettings::all_sets() const {
  std::vector<RuleSetSettings> out;
  if (!paths.empty()) {
    RuleSetSettings d;
    d.name = "default";
    d.paths = paths;
    d.strict = strict;
    d.scope = RuleScope::all;
    d.score_suspicious = score_suspicious;
    d.score_malicious = score_malicious;
    out.push_back(std::move(d));
  }
  out.insert(out.end(), sets.begin(), sets.end());
  return out;
}

Verdict Config::baseline(FindingType t) const {
  auto it = verdicts.find(t);
  return it == verdicts.end() ? default_baseline(t) : it->second;
}

std::string_view to_string(RuleScope s) {
  switch (s) {
    case RuleScope::files: return "files";
    case RuleScope::all: return "all";
    case RuleScope::loki: return "loki";
  }
  return "files";
}

std::optional<RuleScope> parse_rule_scope(std::string_view s) {
  for (RuleScope v : {RuleScope::files, RuleScope::all, RuleScope::loki})
    if (s == to_string(v)) return v;
  return std::nullopt;
}

std::string_view to_string(Action a) {
  static constexpr std::string_view names[] = {"accept", "tag",      "hold",   "quarantine",
                                               "reject", "tempfail", "discard"};
  return names[static_cast<int>(a)];
}

std::optional<std::uint64_t> parse_duration_s(std::string_view s) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || s[0] < '0' || s[0] > '9' || ec != std::errc()) return std::nullopt;
  const std::string_view suffix(end, static_cast<std::size_t>(s.data() + s.size() - end));
  std::uint64_t unit = 0;
  if (suffix.empty() || suffix == "s") unit = 1;
  else if (suffix == "m") unit = 60;
  else if (suffix == "h") unit = 3600;
  else if (suffix == "d") unit = 86400;
  if (unit == 0 || n > UINT64_MAX / 86400) return std::nullopt;
  return n * unit;
}

namespace {

std::optional<Action> parse_action(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(Action::discard); ++i)
    if (to_string(static_cast<Action>(i)) == s) return static_cast<Action>(i);
  return std::nullopt;
}

int line_of(const toml::value& v) { return static_cast<int>(v.location().line()); }

// Set while describe_config() runs the loader on an empty file: every typed
// read below then records its key, type, default and range here (first read
// wins), so the key table `emogate config-keys` prints is the loader itself.
thread_local std::vector<ConfigKey>* g_describe = nullptr;

// "512M" for whole multiples of 1K, else the plain number.
std::string size_text(std::uint64_t n) {
  static constexpr const char* kSuffix[] = {"G", "M", "K"};
  for (int i = 0; i < 3; ++i) {
    const int shift = 30 - 10 * i;
    if (n > 0 && n % (std::uint64_t{1} << shift) == 0) return std::to_string(n >> shift) + kSuffix[i];
  }
  return std::to_string(n);
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string toml_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + toml_string(v[i]);
  return out + "]";
}

class Section {
 public:
  Section(const toml::value& root, std::string name, const std::string& file, const fs::path& base,
          std::map<std::string, int>& lines)
      : name_(std::move(name)), file_(file), base_(base), lines_(lines) {
    if (root.is_table() && root.contains(name_)) {
      const toml::value& v = root.at(name_);
      if (!v.is_table()) throw ConfigError(file_, line_of(v), "[" + name_ + "] must be a table");
      tbl_ = &v;
    }
  }

  // An array of tables ([[name.key]]): each(Section&) runs once per element,
  // and each element is checked for unknown keys. Its keys are named
  // "name.key[I].k" in messages; in describe mode each() runs once on an
  // empty element so they are recorded as "name.key[].k".
  template <class Each>
  void tables(const std::string& key, Each each) {
    note(key, "array of tables", "[]");
    if (g_describe) {
      Section element(nullptr, name_ + "." + key + "[]", file_, base_, lines_);
      each(element);
      element.finish();
      return;
    }
    auto* v = raw(key);
    if (!v) return;
    if (!v->is_array()) fail(*v, key, "expected [[" + name_ + "." + key + "]] tables");
    std::size_t i = 0;
    for (const auto& e : v->as_array()) {
      if (!e.is_table()) fail(e, key, "expected [[" + name_ + "." + key + "]] tables");
      Section element(&e, name_ + "." + key + "[" + std::to_string(++i) + "]", file_, base_, lines_);
      each(element);
      element.finish();
    }
  }

  const std::string& name() const { return name_; }
  // True while describe_config() runs: checks that need a value the file
  // sets (a required key of a [[table]]) must let an empty element pass.
  bool describing() const { return g_describe != nullptr; }

  const toml::value* raw(const std::string& key) {
    if (!tbl_ || !tbl_->contains(key)) return nullptr;
    used_.insert(key);
    const toml::value& v = tbl_->at(key);
    lines_[name_ + "." + key] = line_of(v);
    return &v;
  }

  [[noreturn]] void fail(const toml::value& v, const std::string& key, const std::string& why) {
    throw ConfigError(file_, line_of(v), name_ + "." + key + ": " + why);
  }

  void get(const std::string& key, bool& out) {
    note(key, "boolean", out ? "true" : "false");
    if (auto* v = raw(key)) {
      if (!v->is_boolean()) fail(*v, key, "expected true or false");
      out = v->as_boolean();
    }
  }
  void get(const std::string& key, std::string& out) {
    note(key, "string", toml_string(out));
    if (auto* v = raw(key)) {
      if (!v->is_string()) fail(*v, key, "expected a string");
      out = v->as_string().str;
    }
  }
  void get_path(const std::string& key, std::string& out) {
    note(key, "path", toml_string(out));
    get(key, out);
    out = resolve(out);
  }
  std::string resolve(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (base_ / p).lexically_normal().string();
  }
  void get(const std::string& key, double& out) {
    {
      std::ostringstream d;
      d << out;
      note(key, "number", d.str(), "> 0");
    }
    if (auto* v = raw(key)) {
      if (v->is_floating()) out = v->as_floating();
      else if (v->is_integer()) out = static_cast<double>(v->as_integer());
      else fail(*v, key, "expected a number");
      if (!std::isfinite(out) || out <= 0) fail(*v, key, "must be a positive finite number");
    }
  }
  // Sizes and counts: an integer, or a string with a K/M/G suffix ("16M").
  template <class T>
  void get_uint(const std::string& key, T& out, std::uint64_t min = 0,
                std::uint64_t max = UINT64_MAX) {
    note(key, "integer", size_text(static_cast<std::uint64_t>(out)),
         max == UINT64_MAX ? ">= " + size_text(min) : size_text(min) + " to " + size_text(max));
    auto* v = raw(key);
    if (!v) return;
    std::uint64_t n = 0;
    if (v->is_integer()) {
      if (v->as_integer() < 0) fail(*v, key, "must not be negative");
      n = static_cast<std::uint64_t>(v->as_integer());
    } else if (v->is_string()) {
      // Digits first: no sign, no blanks (stoull would take " 16M" and wrap "-1").
      const std::string& s = v->as_string().str;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (s.empty() || s[0] < '0' || s[0] > '9' || ec == std::errc::invalid_argument)
        fail(*v, key, "expected a number or a size like \"16M\"");
      if (ec == std::errc::result_out_of_range) fail(*v, key, "number too large");
      std::string suffix(end, s.data() + s.size());
      int shift = 0;
      if (suffix == "K" || suffix == "k" || suffix == "KiB") shift = 10;
      else if (suffix == "M" || suffix == "MiB") shift = 20;
      else if (suffix == "G" || suffix == "GiB") shift = 30;
      else if (!suffix.empty()) fail(*v, key, "unknown size suffix '" + suffix + "' (use K, M or G)");
      if (n > (UINT64_MAX >> shift)) fail(*v, key, "number too large");
      n <<= shift;
    } else {
      fail(*v, key, "expected a number");
    }
    if (n < min || n > max)
      fail(*v, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = static_cast<T>(n);
  }
  // A duration: whole seconds, or a string with an s/m/h/d suffix ("30m").
  void get_seconds(const std::string& key, std::uint32_t& out, std::uint64_t min, std::uint64_t max) {
    note(key, "duration", std::to_string(out), std::to_string(min) + " to " + std::to_string(max) + " seconds");
    auto* v = raw(key);
    if (!v) return;
    std::uint64_t n = 0;
    if (v->is_integer() && v->as_integer() >= 0) {
      n = static_cast<std::uint64_t>(v->as_integer());
    } else if (v->is_string()) {
      auto d = parse_duration_s(v->as_string().str);
      if (!d) fail(*v, key, "expected seconds or a duration like \"30m\" (s, m, h, d)");
      n = *d;
    } else {
      fail(*v, key, "expected seconds or a duration like \"30m\"");
    }
    if (n < min || n > max)
      fail(*v, key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " seconds");
    out = static_cast<std::uint32_t>(n);
  }
  // One of a few names, mapped to its value.
  template <class E>
  void get_choice(const std::string& key, E& out, std::initializer_list<std::pair<const char*, E>> choices) {
    if (g_describe) {
      std::string def, names;
      for (const auto& [name, value] : choices) {
        if (value == out) def = toml_string(name);
        names += (names.empty() ? "" : ", ") + toml_string(name);
      }
      note(key, "string", def, names);
    }
    auto* v = raw(key);
    if (!v) return;
    std::string names;
    for (const auto& [name, value] : choices) {
      if (v->is_string() && v->as_string().str == name) return void(out = value);
      names += (names.empty() ? "\"" : ", \"") + std::string(name) + "\"";
    }
    fail(*v, key, "expected one of " + names);
  }
  void get(const std::string& key, std::vector<std::string>& out, bool paths = false) {
    note(key, paths ? "array of paths" : "array of strings", toml_strings(out));
    if (auto* v = raw(key)) {
      if (!v->is_array()) fail(*v, key, "expected an array of strings");
      out.clear();
      for (const auto& e : v->as_array()) {
        if (!e.is_string()) fail(e, key, "expected an array of strings");
        out.push_back(paths ? resolve(e.as_string().str) : e.as_string().str);
      }
    }
  }
  void get(const std::string& key, Action& out) {
    note(key, "action", toml_string(std::string(to_string(out))));
    if (auto* v = raw(key)) {
      if (!v->is_string()) fail(*v, key, "expected an action name");
      auto a = parse_action(v->as_string().str);
      if (!a)
        fail(*v, key,
             "unknown action '" + v->as_string().str +
                 "' (accept, tag, hold, quarantine, reject, tempfail, discard)");
      out = *a;
    }
  }
  void get(const std::string& key, Verdict& out) {
    note(key, "verdict", toml_string(std::string(to_string(out))));
    if (auto* v = raw(key)) {
      auto parsed = v->is_string() ? parse_verdict(v->as_string().str) : std::nullopt;
      if (!parsed) fail(*v, key, "expected \"clean\", \"suspicious\" or \"malicious\"");
      out = *parsed;
    }
  }
  // A sub-table whose keys are finding types.
  template <class T, class Parse>
  void get_finding_map(const std::string& key, std::map<FindingType, T>& out, Parse parse,
                       const char* what) {
    note(key, std::string("table: finding type = ") + what, "{}");
    auto* v = raw(key);
    if (!v) return;
    if (!v->is_table()) fail(*v, key, "must be a table");
    for (const auto& [k, val] : v->as_table()) {
      auto t = parse_finding_type(k);
      if (!t) fail(val, key + "." + k, "unknown finding type");
      if (!val.is_string()) fail(val, key + "." + k, std::string("expected ") + what);
      auto parsed = parse(val.as_string().str);
      if (!parsed) fail(val, key + "." + k, std::string("expected ") + what);
      out[*t] = *parsed;
    }
  }

  // A file mode: an integer, shown in octal.
  void get_mode(const std::string& key, std::uint32_t& out) {
    char octal[16];
    std::snprintf(octal, sizeof octal, "0o%o", static_cast<unsigned>(out));
    note(key, "file mode", octal, "0o0 to 0o777");
    get_uint(key, out, 0, 0777);
  }

  // Any key not consumed is a typo or a setting this version does not know.
  void finish() {
    if (!tbl_) return;
    for (const auto& [k, v] : tbl_->as_table())
      if (!used_.count(k)) throw ConfigError(file_, line_of(v), "unknown key '" + k + "' in [" + name_ + "]");
  }

 // The line of this table (0 when it is absent), for a missing required key.
  int line() const { return tbl_ ? line_of(*tbl_) : 0; }

  // Records a key for describe_config() without reading it: for a key whose
  // default is not a value of its type (an optional that is "none").
  void note(const std::string& key, std::string type, std::string def, std::string range = {}) {
    if (!g_describe) return;
    std::string full = name_ + "." + key;
    for (const ConfigKey& k : *g_describe)
      if (k.key == full) return;
    g_describe->push_back({std::move(full), std::move(type), std::move(def), std::move(range)});
  }

 private:
  Section(const toml::value* table, std::string name, const std::string& file, const fs::path& base,
          std::map<std::string, int>& lines)
      : name_(std::move(name)), file_(file), base_(base), lines_(lines), tbl_(table) {}

  std::string name_;
  const std::string& file_;
  fs::path base_;
  std::map<std::string, int>& lines_;
  const toml::value* tbl_ = nullptr;
  std::set<std::string> used_;
};

// A TCP port: decimal, 1 to 65535.
bool valid_port(std::string_view p) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
  return !p.empty() && ec == std::errc() && end == p.data() + p.size() && n >= 1 && n <= 65535;
}

// What is wrong with `zone` as [web] time_zone: an IANA name whose file is
// in the system's zone database (tzdata); "" when nothing.
std::string time_zone_problem(const std::string& zone) {
  const bool shaped = !zone.empty() && zone.size() <= 64 && zone.front() != '/' &&
                      zone.find("..") == std::string::npos && std::all_of(zone.begin(), zone.end(), [](char ch) {
                        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' || ch == '+' ||
                               ch == '-';
                      });
  if (!shaped) return "'" + zone + "' is not a zone name such as \"Asia/Tokyo\" or \"UTC\"";
  std::ifstream f("/usr/share/zoneinfo/" + zone, std::ios::binary);
  char magic[4] = {};
  if (!f.read(magic, sizeof magic) || std::memcmp(magic, "TZif", sizeof magic) != 0)
    return "no zone '" + zone + "' in /usr/share/zoneinfo (package tzdata)";
  return {};
}

// Why a [metrics] or [web] listen value will not work ("" when it will):
// the metrics endpoint serves unauthenticated counters, and the web view
// without TLS would carry passwords in clear, so both bind loopback only
// (`loopback_only`; the web view with TLS may bind any address).
std::string listen_problem(const std::string& listen, bool loopback_only = true) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return "expected HOST:PORT, e.g. \"127.0.0.1:9357\"";
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!valid_port(std::string_view(listen).substr(colon + 1))) return "port must be a number from 1 to 65535";
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    if ((ntohl(a4.s_addr) >> 24) == 127) return {};
  } else if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return {};
  } else {
    return "'" + host + "' is not an IP address (use 127.0.0.1 or [::1])";
  }
  if (!loopback_only) return {};
  return "must be a loopback address (127.0.0.0/8 or ::1), got " + host;
}

// Why a libmilter socket spec will not work ("" when it will):
// unix:/path, local:/path, /path, inet:PORT[@HOST], inet6:PORT[@HOST].
std::string socket_problem(const std::string& spec) {
  auto colon = spec.find(':');
  if (colon == std::string::npos) {
    if (!spec.empty() && spec[0] == '/') return {};
    return "expected unix:/path, inet:PORT@HOST or inet6:PORT@HOST";
  }
  std::string proto = spec.substr(0, colon), rest = spec.substr(colon + 1);
  if (proto == "unix" || proto == "local") {
    if (rest.empty() || rest[0] != '/') return "a unix socket needs an absolute path";
    return {};
  }
  if (proto == "inet" || proto == "inet6") {
    auto at = rest.find('@');
    if (!valid_port(rest.substr(0, at))) return "port must be a number from 1 to 65535";
    if (at != std::string::npos && at + 1 == rest.size()) return "empty host after '@'";
    return {};
  }
  return "unknown socket type '" + proto + "' (unix, local, inet or inet6)";
}

// One [[rules.set]] entry; `defaults` carries the [rules] values it inherits.
RuleSetSettings read_rule_set(Section& s, const RuleSetSettings& defaults, const std::string& file) {
  RuleSetSettings r = defaults;
  const bool describing = s.describing();
  auto* name = s.raw("name");
  if (!name && !describing) throw ConfigError(file, s.line(), s.name() + ": name is required");
  s.get("name", r.name);
  if (name && (r.name.empty() || r.name == "default" || r.name.find_first_of(" \t\r\n,") != std::string::npos))
    s.fail(*name, "name", "must be a non-empty word other than \"default\" (the [rules] paths set)");
  auto* paths = s.raw("paths");
  s.get("paths", r.paths, /*paths=*/true);
  if (!describing && (!paths || r.paths.empty()))
    throw ConfigError(file, paths ? line_of(*paths) : s.line(), s.name() + ".paths: at least one path is required");
  s.get("strict", r.strict);
  std::string scope(to_string(RuleScope::files));
  auto* sc = s.raw("scope");
  s.get("scope", scope);
  if (auto v = parse_rule_scope(scope)) r.scope = *v;
  else s.fail(*sc, "scope", "expected \"files\", \"all\" or \"loki\"");
  s.note("verdict", "verdict", "(the [verdicts] yara baseline)");
  if (s.raw("verdict")) {
    Verdict verdict{};
    s.get("verdict", verdict);
    r.verdict = verdict;
  }
  s.note("max_action", "action", "(none: no cap)");
  if (s.raw("max_action")) {
    Action a{};
    s.get("max_action", a);
    r.max_action = a;
  }
  std::string mode = "file";
  auto* ns = s.raw("namespace");
  s.get("namespace", mode);
  if (mode != "file" && mode != "set") s.fail(*ns, "namespace", "expected \"file\" or \"set\"");
  r.one_namespace = mode == "set";
  s.get_uint("score_suspicious", r.score_suspicious, 1, 1000000);
  s.get_uint("score_malicious", r.score_malicious, 1, 1000000);
  if (r.score_suspicious > r.score_malicious)
    throw ConfigError(file, s.line(), s.name() + ": score_suspicious is above score_malicious");
  return r;
}

void read_rules(const toml::value& root, Config& c, const std::string& file, const fs::path& base) {
  Section s(root, "rules", file, base, c.lines);
  s.get("paths", c.rules.paths, /*paths=*/true);
  s.get("strict", c.rules.strict);
  s.get_uint("timeout_ms", c.rules.timeout_ms, 1, 600000);
  s.get_uint("score_suspicious", c.rules.score_suspicious, 1, 1000000);
  s.get_uint("score_malicious", c.rules.score_malicious, 1, 1000000);
  if (c.rules.score_suspicious > c.rules.score_malicious) {
    auto* v = s.raw("score_malicious");
    s.fail(v ? *v : *s.raw("score_suspicious"), v ? "score_malicious" : "score_suspicious",
           "score_suspicious must not be above score_malicious");
  }
  s.get_uint("cache_bytes", c.rules.cache_bytes, 0, 4ull << 30);
  s.get("update_command", c.rules.update_command);
  s.get_uint("update_timeout_s", c.rules.update_timeout_s, 1, 86400);
  RuleSetSettings defaults;
  defaults.strict = c.rules.strict;
  defaults.score_suspicious = c.rules.score_suspicious;
  defaults.score_malicious = c.rules.score_malicious;
  std::set<std::string> names;
  s.tables("set", [&](Section& e) {
    RuleSetSettings r = read_rule_set(e, defaults, file);
    if (e.describing()) return;
    if (!names.insert(r.name).second)
      throw ConfigError(file, e.line(), "rules.set: a second set named \"" + r.name + "\"");
    c.rules.sets.push_back(std::move(r));
  });
  s.finish();
}

// Why a [state] redis address will not work ("" when it will):
// HOST:PORT, [IPv6]:PORT or unix:/path.
std::string redis_problem(const std::string& addr) {
  if (addr.starts_with("unix:")) {
    if (addr.size() < 6 || addr[5] != '/') return "a unix socket needs an absolute path (unix:/path)";
    return {};
  }
  auto colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0) return "expected HOST:PORT or unix:/path";
  if (!valid_port(std::string_view(addr).substr(colon + 1))) return "port must be a number from 1 to 65535";
  return {};
}

void read_verdicts(const toml::value& root, Config& c, const std::string& file, const fs::path& base) {
  Section s(root, "verdicts", file, base, c.lines);
  for (FindingType t : kAllFindingTypes) {
    std::string key(to_string(t));
    Verdict v = default_baseline(t);
    s.get(key, v);
    if (s.raw(key)) c.verdicts[t] = v;
  }
  s.finish();
}

Config from_toml(const toml::value& root, const std::string& file) {
  Config c;
  c.source = file;
  fs::path base = file.empty() ? fs::current_path() : fs::absolute(file).parent_path();
  static const std::set<std::string> sections = {"limits", "verdicts", "passwords", "ppap", "macros",
                                                 "rules",  "intel",    "actions",   "milter",
                                                 "quarantine", "state", "outbound", "log",  "metrics", "web"};
  for (const auto& [k, v] : root.as_table())
    if (!sections.count(k)) throw ConfigError(file, line_of(v), "unknown section or key '" + k + "'");

  {
    Section s(root, "limits", file, base, c.lines);
    Limits& l = c.limits;
    s.get_uint("max_depth", l.max_depth, 1, 64);
    s.get_uint("max_objects", l.max_objects, 1, 1000000);
    s.get_uint("max_extracted_bytes", l.max_extracted_bytes, 1 << 20, 64ull << 30);
    s.get_uint("max_object_memory", l.max_object_memory, 64 << 10, 4ull << 30);
    s.get_uint("max_object_size", l.max_object_size, 1 << 10, 64ull << 30);
    s.get("max_compression_ratio", l.max_compression_ratio);
    s.get_uint("ratio_floor_bytes", l.ratio_floor_bytes);
    s.get_uint("scan_timeout_ms", l.scan_timeout_ms, 100, 3600 * 1000);
    s.get_uint("max_mime_parts", l.max_mime_parts, 1, 10000);
    s.get_uint("max_mime_depth", l.max_mime_depth, 1, 200);
    s.get_uint("max_kdf_rounds", l.max_kdf_rounds, 0, 1000000000);
    s.get_uint("max_spin_count", l.max_spin_count, 0, 10000000);
    s.get_uint("max_headers", l.max_headers, 100, 1000000);
    s.get_uint("max_header_size", l.max_header_size, 1 << 10, 16ull << 20);
    s.get_uint("ooxml_read_budget", l.ooxml_read_budget, 1 << 20, 64ull << 30);
    s.get_uint("ooxml_max_part", l.ooxml_max_part, 64 << 10, 64ull << 30);
    s.get_uint("ooxml_max_xml_part", l.ooxml_max_xml_part, 4 << 10, 1ull << 30);
    s.get_uint("ooxml_max_entries", l.ooxml_max_entries, 1, 10000000);
    s.get_path("temp_dir", l.temp_dir);
    s.get("isolation", l.isolation);
    if (l.isolation != "process" && l.isolation != "inprocess")
      throw ConfigError(file, 0, "limits.isolation must be \"process\" or \"inprocess\"");
    s.get_uint("worker_memory", l.worker_memory, 64ull << 20, 1ull << 40);
    s.get_uint("worker_max_scans", l.worker_max_scans, 0, 100000000);
    s.get_uint("worker_max_rss", l.worker_max_rss, 0, 1ull << 40);
    s.finish();
  }
  read_verdicts(root, c, file, base);
  {
    Section s(root, "passwords", file, base, c.lines);
    s.get("static_list", c.passwords.static_list);
    s.get_uint("max_candidates", c.passwords.max_candidates, 0, 10000);
    s.get("show_in_reports", c.passwords.show_in_reports);
    s.get("opened_archive_verdict", c.passwords.opened_archive_verdict);
    s.get_uint("max_document_candidates", c.passwords.max_document_candidates, 0, 100);
    s.finish();
  }
  {
    Section s(root, "ppap", file, base, c.lines);
    PpapSettings& p = c.ppap;
    s.get("enabled", p.enabled);
    s.get_seconds("window", p.window_s, 60, 7 * 86400);
    s.get_choice("match", p.match, {{"envelope", PpapMatch::envelope}, {"from", PpapMatch::from}});
    s.get_choice("hold_in", p.hold_in, {{"emogate", PpapHoldIn::emogate}, {"postfix", PpapHoldIn::postfix}});
    s.get_choice("on_timeout", p.on_timeout,
                 {{"keep", PpapTimeout::keep}, {"deliver", PpapTimeout::deliver}, {"return", PpapTimeout::return_to_sender}});
    s.get_uint("max_pending_per_sender", p.max_pending_per_sender, 1, 100000);
    s.get_uint("max_pending", p.max_pending, 1, 10000000);
    s.get_uint("max_candidates_per_entry", p.max_candidates_per_entry, 1, 1000);
    s.get_uint("max_held_bytes", p.max_held_bytes, 1 << 20, 1ull << 40);
    s.finish();
  }
  {
    Section s(root, "macros", file, base, c.lines);
    s.get("allow_project_sha256", c.macros.allow_project_sha256);
    s.get("allow_sender_domains", c.macros.allow_sender_domains);
    s.finish();
  }
  read_rules(root, c, file, base);
  {
    Section s(root, "intel", file, base, c.lines);
    s.get_path("urlhaus_path", c.intel.urlhaus_path);
    s.get_path("feodo_path", c.intel.feodo_path);
    s.get("urlhaus_url", c.intel.urlhaus_url);
    s.get("feodo_url", c.intel.feodo_url);
    s.get_uint("min_entries", c.intel.min_entries, 0, 1ull << 32);
    s.get("min_ratio", c.intel.min_ratio);
    s.get_uint("max_download_size", c.intel.max_download_size, 1024, 4ull << 30);
    s.get_uint("download_timeout_s", c.intel.download_timeout_s, 1, 86400);
    if (c.intel.min_ratio > 1) throw ConfigError(file, c.lines["intel.min_ratio"], "min_ratio must be at most 1 in [intel]");
    s.finish();
  }
  {
    Section s(root, "actions", file, base, c.lines);
    ActionSettings& a = c.actions;
    s.get("clean", a.clean);
    s.get("suspicious", a.suspicious);
    s.get("malicious", a.malicious);
    s.get("on_error", a.on_error);
    s.get_finding_map("findings", a.findings, parse_action, "an action name");
    s.get("reject_text", a.reject_text);
    s.get("tempfail_text", a.tempfail_text);
    s.get("subject_prefix_suspicious", a.subject_prefix_suspicious);
    s.get("subject_prefix_malicious", a.subject_prefix_malicious);
    s.get("add_headers", a.add_headers);
    s.finish();
  }
  {
    Section s(root, "milter", file, base, c.lines);
    MilterSettings& m = c.milter;
    s.get("socket", m.socket);
    if (auto* v = s.raw("socket")) {
      std::string why = socket_problem(m.socket);
      if (!why.empty()) s.fail(*v, "socket", why);
    }
    s.get("user", m.user);
    s.get("group", m.group);
    s.get_mode("socket_mode", m.socket_mode);
    s.get_uint("max_message_size", m.max_message_size, 1 << 10, 4ull << 30);
    s.get_uint("memory_buffer", m.memory_buffer, 0, 4ull << 30);
    s.get_uint("spool_region_bytes", m.spool_region_bytes, 0, 256ull << 20);
    s.get_uint("workers", m.workers, 0, 256);
    s.get_uint("queue_size", m.queue_size, 1, 100000);
    s.get_uint("timeout_s", m.timeout_s, 1, 3600);
    s.get("hash_all_objects", m.hash_all_objects);
    s.get_path("pid_file", m.pid_file);
    s.get_path("postfix_config", m.postfix_config);
    s.get_path("sendmail_config", m.sendmail_config);
    s.finish();
  }
  {
    Section s(root, "quarantine", file, base, c.lines);
    s.get_path("dir", c.quarantine.dir);
    s.get("after", c.quarantine.after);
    if (c.quarantine.after != Action::discard && c.quarantine.after != Action::hold)
      s.fail(*s.raw("after"), "after", "must be \"discard\" or \"hold\"");
    s.get("sendmail", c.quarantine.sendmail);
    if (auto* v = s.raw("sendmail")) {
      if (!fs::path(c.quarantine.sendmail).is_absolute())
        s.fail(*v, "sendmail", "must be an absolute path (release runs it without a shell or PATH)");
    }
    s.finish();
  }
  {
    Section s(root, "state", file, base, c.lines);
    StateSettings& st = c.state;
    s.get("backend", st.backend);
    if (st.backend != "sqlite" && st.backend != "redis")
      s.fail(*s.raw("backend"), "backend", "must be \"sqlite\" or \"redis\"");
    s.get_path("path", st.path);
    if (auto* v = s.raw("path"); v && st.path.empty()) s.fail(*v, "path", "must not be empty");
    s.get_uint("busy_timeout_ms", st.busy_timeout_ms, 1, 600000);
    s.get_uint("outbound_commit_ms", st.outbound_commit_ms, 0, 1000);
    // Another process's write waits busy_timeout_ms for the daemon's batch.
    if (st.outbound_commit_ms >= st.busy_timeout_ms) {
      const char* key = s.raw("outbound_commit_ms") ? "outbound_commit_ms" : "busy_timeout_ms";
      s.fail(*s.raw(key), key, "outbound_commit_ms must be shorter than busy_timeout_ms (another process's write waits that long for a batch)");
    }
    s.get("redis", st.redis);
    if (auto* v = s.raw("redis")) {
      std::string why = redis_problem(st.redis);
      if (!why.empty()) s.fail(*v, "redis", why);
    }
    s.get("redis_prefix", st.redis_prefix);
    if (auto* v = s.raw("redis_prefix"); v && st.redis_prefix.empty())
      s.fail(*v, "redis_prefix", "must not be empty (it keeps emogate's keys apart from others')");
    s.get_path("redis_password_file", st.redis_password_file);
    s.get_uint("connect_timeout_ms", st.connect_timeout_ms, 1, 600000);
    s.get_uint("command_timeout_ms", st.command_timeout_ms, 1, 600000);
    s.finish();
  }
  {
    Section s(root, "outbound", file, base, c.lines);
    OutboundSettings& o = c.outbound;
    s.get("enabled", o.enabled);
    s.get("submission_daemons", o.submission_daemons);
    s.get("authenticated_is_outbound", o.authenticated_is_outbound);
    s.get("client_networks", o.client_networks);
    if (auto* v = s.raw("client_networks"))
      for (const std::string& n : o.client_networks)
        if (!outbound::parse_network(n)) s.fail(*v, "client_networks", "'" + n + "' is not an address or CIDR network");
    s.get("local_domains", o.local_domains);
    for (std::string& d : o.local_domains) d = ascii_lower(d);
    s.get("local_names", o.local_names);
    s.get_uint("max_thread_lookups", o.max_thread_lookups, 1, 1000);
    s.get("thread_recipient_domain_is_enough", o.thread_recipient_domain_is_enough);
    s.get_uint("max_bounce_recipients", o.max_bounce_recipients, 1, 100000);
    s.get_uint("max_bounce_message_ids", o.max_bounce_message_ids, 1, 1000);
    s.get_uint("max_recipients_per_hour", o.max_recipients_per_hour, 1, 10000000);
    s.get_uint("max_same_attachment_per_hour", o.max_same_attachment_per_hour, 1, 100000);
    s.get_uint("freeze_after_malicious", o.freeze_after_malicious, 0, 10000);
    s.get_uint("freeze_after_suspicious", o.freeze_after_suspicious, 0, 10000);
    s.get_seconds("freeze_window", o.freeze_window_s, 60, 30 * 86400);
    s.get_choice("frozen_action", o.frozen_action,
                 {{"reject", Action::reject}, {"tempfail", Action::tempfail}, {"quarantine", Action::quarantine},
                  {"hold", Action::hold}, {"discard", Action::discard}});
    s.get("frozen_reply", o.frozen_reply);
    if (o.frozen_reply.find_first_of("\r\n") != std::string::npos || o.frozen_reply.size() > 400)
      s.fail(*s.raw("frozen_reply"), "frozen_reply", "must be one line of at most 400 characters");
    s.get_seconds("retention", o.retention_s, 86400, 3650u * 86400);
    s.get_uint("max_log_entries", o.max_log_entries, 1000, 1000000000);
    s.get_uint("max_log_recipients", o.max_log_recipients, 1, 100000);
    s.get_uint("max_incidents", o.max_incidents, 1, 10000000);
    s.get_uint("max_incident_recipients", o.max_incident_recipients, 1, 10000000);
    s.get_uint("max_incident_list", o.max_incident_list, 1, 100000);
    s.get_uint("max_counter_addresses", o.max_counter_addresses, 1, 10000000);
    if (std::max(o.freeze_after_malicious, o.freeze_after_suspicious) > o.max_incident_list)
      throw ConfigError(file, s.line(), "outbound.freeze_after_* must not exceed outbound.max_incident_list "
                                        "(the flagged events counted in the window)");
    s.finish();
  }
  {
    Section s(root, "log", file, base, c.lines);
    s.get("facility", c.log.facility);
    s.get("to_stderr", c.log.to_stderr);
    s.get_path("json_path", c.log.json_path);
    s.finish();
  }
  {
    Section s(root, "metrics", file, base, c.lines);
    s.get("listen", c.metrics.listen);
    if (auto* v = s.raw("listen"); v && !c.metrics.listen.empty()) {
      std::string why = listen_problem(c.metrics.listen);
      if (!why.empty()) s.fail(*v, "listen", why);
    }
    s.finish();
  }
  {
    Section s(root, "web", file, base, c.lines);
    WebSettings& w = c.web;
    s.get("listen", w.listen);
    s.get_path("certificate", w.certificate);
    s.get_path("private_key", w.private_key);
    s.get_path("users_file", w.users_file);
    s.get("trusted_proxies", w.trusted_proxies);
    s.get("proxy_user_header", w.proxy_user_header);
    s.get_seconds("session_lifetime", w.session_lifetime_s, 60, 30 * 86400);
    s.get_seconds("session_idle", w.session_idle_s, 60, 30 * 86400);
    s.get_uint("max_sessions", w.max_sessions, 1, 1000000);
    s.get_uint("login_max_failures", w.login_max_failures, 1, 1000);
    s.get_seconds("login_window", w.login_window_s, 1, 86400);
    s.get_uint("max_login_tracked", w.max_login_tracked, 10, 10000000);
    s.get_uint("max_request_size", w.max_request_size, 1024, 1ull << 30);
    s.get_uint("max_header_size", w.max_header_size, 1024, 1u << 20);
    s.get_uint("max_form_fields", w.max_form_fields, 1, 1000000);
    s.get_seconds("read_timeout", w.read_timeout_s, 1, 3600);
    s.get_uint("max_connections", w.max_connections, 1, 100000);
    s.get_uint("metrics_timeout_ms", w.metrics_timeout_ms, 10, 60000);
    s.get("time_zone", w.time_zone);
    if (auto* v = s.raw("time_zone"); v && !w.time_zone.empty())
      if (std::string why = time_zone_problem(w.time_zone); !why.empty()) s.fail(*v, "time_zone", why);
    const bool tls = !w.certificate.empty() || !w.private_key.empty();
    if (auto* v = s.raw("certificate"); v && w.certificate.empty() != w.private_key.empty())
      s.fail(*v, "certificate", "certificate and private_key go together");
    if (auto* v = s.raw("private_key"); v && w.certificate.empty() != w.private_key.empty())
      s.fail(*v, "private_key", "certificate and private_key go together");
    if (auto* v = s.raw("listen")) {
      if (std::string why = listen_problem(w.listen, false); !why.empty()) s.fail(*v, "listen", why);
      if (std::string why = listen_problem(w.listen, true); !why.empty() && !tls)
        s.fail(*v, "listen", why + " without TLS (set certificate and private_key: passwords and sessions "
                                   "must not cross the network in clear)");
    }
    if (auto* v = s.raw("trusted_proxies"))
      for (const std::string& n : w.trusted_proxies)
        if (!outbound::parse_network(n)) s.fail(*v, "trusted_proxies", "'" + n + "' is not an address or CIDR network");
    if (auto* v = s.raw("proxy_user_header")) {
      for (char ch : w.proxy_user_header)
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
          s.fail(*v, "proxy_user_header", "expected a header name (letters, digits, '-')");
      if (!w.proxy_user_header.empty() && w.trusted_proxies.empty())
        s.fail(*v, "proxy_user_header", "needs trusted_proxies (the addresses the header is believed from)");
    }
    s.finish();
  }
  for (const RuleSetSettings& r : c.rules.sets)
    if (r.max_action) c.actions.rule_set_caps[r.name] = *r.max_action;
  if (c.limits.max_object_size > c.limits.max_extracted_bytes)
    c.limits.max_object_size = c.limits.max_extracted_bytes;
  return c;
}

// toml11 parses arrays and inline tables recursively (thousands of nested
// brackets overflow the stack) and dotted keys in quadratic time (a key of
// 300,000 parts takes minutes). This pass bounds both, outside strings and
// comments, before toml11 sees the text.
void check_nesting(const std::string& text, const std::string& file) {
  constexpr std::size_t kMaxNesting = 64;
  std::string open;    // the brackets open at this point
  bool in_key = true;  // between a line start / '{' / ',' in an inline table and '='
  std::size_t key_parts = 0;
  int line = 1;
  std::size_t i = 0, n = text.size();
  auto starts = [&](const char* p) { return text.compare(i, std::strlen(p), p) == 0; };
  auto key_start = [&] {
    in_key = open.empty() || open.back() == '{';
    key_parts = 0;
  };
  while (i < n) {
    char c = text[i];
    if (c == '\n') {
      ++line, ++i;
      key_start();
    } else if (c == '#') {
      while (i < n && text[i] != '\n') ++i;
    } else if (starts("\"\"\"") || starts("'''")) {
      const std::string q = text.substr(i, 3);
      const bool basic = c == '"';
      for (i += 3; i < n && !starts(q.c_str()); ++i) {
        if (basic && text[i] == '\\' && i + 1 < n) ++i;  // the escaped character
        if (text[i] == '\n') ++line;
      }
      i += 3;
      while (i < n && text[i] == c) ++i;  // up to two quotes may end the content
    } else if (c == '"' || c == '\'') {
      for (++i; i < n && text[i] != c && text[i] != '\n'; ++i)
        if (c == '"' && text[i] == '\\') ++i;
      ++i;
    } else {
      if (c == '[' || c == '{') {
        open.push_back(c);
        if (open.size() > kMaxNesting)
          throw ConfigError(file, line, "arrays or tables nested deeper than " + std::to_string(kMaxNesting));
        if (c == '{') key_start();
      } else if ((c == ']' || c == '}') && !open.empty()) {
        open.pop_back();
      } else if (c == ',' && !open.empty() && open.back() == '{') {
        key_start();
      } else if (c == '=') {
        in_key = false;
      } else if (c == '.' && in_key && ++key_parts > kMaxNesting) {
        throw ConfigError(file, line, "dotted key of more than " + std::to_string(kMaxNesting) + " parts");
      }
      ++i;
    }
  }
}

}  // namespace

Config parse_config(const std::string& text, const std::string& source_name) {
  check_nesting(text, source_name);
  std::istringstream in(text);
  toml::value root;
  try {
    root = toml::parse(in, source_name);
  } catch (const toml::syntax_error& e) {
    throw ConfigError(source_name, static_cast<int>(e.location().line()),
                      std::string("TOML syntax error: ") + e.what());
  } catch (const std::exception& e) {
    throw ConfigError(source_name, 0, std::string("TOML error: ") + e.what());
  }
  if (!root.is_table()) throw ConfigError(source_name, 0, "not a TOML table");
  try {
    return from_toml(root, source_name);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError(source_name, 0, e.what());
  }
}

std::vector<ConfigKey> describe_config() {
  std::vector<ConfigKey> keys;
  g_describe = &keys;
  try {
    from_toml(toml::value(toml::table{}), "");
  } catch (...) {
    g_describe = nullptr;
    throw;
  }
  g_describe = nullptr;
  return keys;
}

Config load_config(const std::string& path) {
  if (path.empty()) return Config{};
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ConfigError(path, 0, "cannot read the file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace emogate

namespace emogate {

namespace {

// The nearest existing ancestor of `p` (p itself when it exists).
fs::path existing_ancestor(fs::path p) {
  std::error_code ec;
  while (!p.empty() && !fs::exists(p, ec)) {
    fs::path up = p.parent_path();
    if (up == p) break;
    p = up;
  }
  return p;
}

}  // namespace

std::vector<ConfigError> check_environment(const Config& c) {
  std::vector<ConfigError> out;
  auto problem = [&](const std::string& key, const std::string& why) {
    auto it = c.lines.find(key);
    out.emplace_back(c.source, it == c.lines.end() ? 0 : it->second, key + ": " + why);
  };
  struct stat st;
  const std::string& tmp = c.limits.temp_dir;
  if (::stat(tmp.c_str(), &st) != 0) problem("limits.temp_dir", "'" + tmp + "' does not exist");
  else if (!S_ISDIR(st.st_mode)) problem("limits.temp_dir", "'" + tmp + "' is not a directory");
  else if (::access(tmp.c_str(), W_OK | X_OK) != 0) problem("limits.temp_dir", "'" + tmp + "' is not writable");

  // The daemon creates a missing store (and its parents) at start.
  const std::string& q = c.quarantine.dir;
  if (::lstat(q.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) problem("quarantine.dir", "'" + q + "' is a symbolic link");
    else if (!S_ISDIR(st.st_mode)) problem("quarantine.dir", "'" + q + "' is not a directory");
  } else {
    fs::path up = existing_ancestor(fs::path(q).parent_path());
    std::error_code ec;
    if (up.empty() || !fs::is_directory(up, ec))
      problem("quarantine.dir", "'" + q + "' does not exist and cannot be created ('" + up.string() +
                                    "' is not a directory)");
    else if (::access(up.c_str(), W_OK | X_OK) != 0)
      problem("quarantine.dir", "'" + q + "' does not exist and this user cannot create it in '" +
                                    up.string() + "'");
  }

  const std::string& sm = c.quarantine.sendmail;
  if (::stat(sm.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    problem("quarantine.sendmail", "'" + sm + "' does not exist or is not a file");
  else if (::access(sm.c_str(), X_OK) != 0)
    problem("quarantine.sendmail", "'" + sm + "' is not executable");

  if (!c.milter.user.empty() && ::getpwnam(c.milter.user.c_str()) == nullptr)
    problem("milter.user", "no user '" + c.milter.user + "' on this system");
  if (!c.milter.group.empty() && ::getgrnam(c.milter.group.c_str()) == nullptr)
    problem("milter.group", "no group '" + c.milter.group + "' on this system");
  return out;
}

}  // namespace emogate
