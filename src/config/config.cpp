// Loads the TOML configuration into Config. Every table is read through a
// Section that records which keys it consumed, so any key left over is an
// error with its line number: a typo never silently falls back to a default.
// Relative paths are taken relative to the config file's directory.
#include "emogate/config.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml.hpp>

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

Verdict Config::baseline(FindingType t) const {
  auto it = verdicts.find(t);
  return it == verdicts.end() ? default_baseline(t) : it->second;
}

std::string_view to_string(Action a) {
  static constexpr std::string_view names[] = {"accept", "tag",      "hold",   "quarantine",
                                               "reject", "tempfail", "discard"};
  return names[static_cast<int>(a)];
}

namespace {

std::optional<Action> parse_action(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(Action::discard); ++i)
    if (to_string(static_cast<Action>(i)) == s) return static_cast<Action>(i);
  return std::nullopt;
}

int line_of(const toml::value& v) { return static_cast<int>(v.location().line()); }

class Section {
 public:
  Section(const toml::value& root, std::string name, const std::string& file, const fs::path& base)
      : name_(std::move(name)), file_(file), base_(base) {
    if (root.is_table() && root.contains(name_)) {
      const toml::value& v = root.at(name_);
      if (!v.is_table()) throw ConfigError(file_, line_of(v), "[" + name_ + "] must be a table");
      tbl_ = &v;
    }
  }

  const toml::value* raw(const std::string& key) {
    if (!tbl_ || !tbl_->contains(key)) return nullptr;
    used_.insert(key);
    return &tbl_->at(key);
  }

  [[noreturn]] void fail(const toml::value& v, const std::string& key, const std::string& why) {
    throw ConfigError(file_, line_of(v), name_ + "." + key + ": " + why);
  }

  void get(const std::string& key, bool& out) {
    if (auto* v = raw(key)) {
      if (!v->is_boolean()) fail(*v, key, "expected true or false");
      out = v->as_boolean();
    }
  }
  void get(const std::string& key, std::string& out) {
    if (auto* v = raw(key)) {
      if (!v->is_string()) fail(*v, key, "expected a string");
      out = v->as_string().str;
    }
  }
  void get_path(const std::string& key, std::string& out) {
    get(key, out);
    out = resolve(out);
  }
  std::string resolve(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (base_ / p).lexically_normal().string();
  }
  void get(const std::string& key, double& out) {
    if (auto* v = raw(key)) {
      if (v->is_floating()) out = v->as_floating();
      else if (v->is_integer()) out = static_cast<double>(v->as_integer());
      else fail(*v, key, "expected a number");
      if (out <= 0) fail(*v, key, "must be positive");
    }
  }
  // Sizes and counts: an integer, or a string with a K/M/G suffix ("16M").
  template <class T>
  void get_uint(const std::string& key, T& out, std::uint64_t min = 0,
                std::uint64_t max = UINT64_MAX) {
    auto* v = raw(key);
    if (!v) return;
    std::uint64_t n = 0;
    if (v->is_integer()) {
      if (v->as_integer() < 0) fail(*v, key, "must not be negative");
      n = static_cast<std::uint64_t>(v->as_integer());
    } else if (v->is_string()) {
      const std::string& s = v->as_string().str;
      std::size_t pos = 0;
      try {
        n = std::stoull(s, &pos);
      } catch (...) {
        fail(*v, key, "expected a number or a size like \"16M\"");
      }
      std::string suffix = s.substr(pos);
      if (suffix == "K" || suffix == "k" || suffix == "KiB") n <<= 10;
      else if (suffix == "M" || suffix == "MiB") n <<= 20;
      else if (suffix == "G" || suffix == "GiB") n <<= 30;
      else if (!suffix.empty()) fail(*v, key, "unknown size suffix '" + suffix + "' (use K, M or G)");
    } else {
      fail(*v, key, "expected a number");
    }
    if (n < min || n > max)
      fail(*v, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = static_cast<T>(n);
  }
  void get(const std::string& key, std::vector<std::string>& out, bool paths = false) {
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

  // Any key not consumed is a typo or a setting this version does not know.
  void finish() {
    if (!tbl_) return;
    for (const auto& [k, v] : tbl_->as_table())
      if (!used_.count(k)) throw ConfigError(file_, line_of(v), "unknown key '" + k + "' in [" + name_ + "]");
  }

 private:
  std::string name_;
  const std::string& file_;
  fs::path base_;
  const toml::value* tbl_ = nullptr;
  std::set<std::string> used_;
};

void read_verdicts(const toml::value& root, Config& c, const std::string& file, const fs::path& base) {
  Section s(root, "verdicts", file, base);
  for (FindingType t : kAllFindingTypes) {
    std::string key(to_string(t));
    if (s.raw(key)) s.get(key, c.verdicts[t]);
  }
  s.finish();
}

Config from_toml(const toml::value& root, const std::string& file) {
  Config c;
  c.source = file;
  fs::path base = file.empty() ? fs::current_path() : fs::absolute(file).parent_path();
  static const std::set<std::string> sections = {"limits", "verdicts", "passwords", "macros",
                                                 "rules",  "intel",    "actions",   "milter",
                                                 "quarantine", "log",  "metrics"};
  for (const auto& [k, v] : root.as_table())
    if (!sections.count(k)) throw ConfigError(file, line_of(v), "unknown section or key '" + k + "'");

  {
    Section s(root, "limits", file, base);
    Limits& l = c.limits;
    s.get_uint("max_depth", l.max_depth, 1, 64);
    s.get_uint("max_objects", l.max_objects, 1, 1000000);
    s.get_uint("max_extracted_bytes", l.max_extracted_bytes, 1 << 20, 64ull << 30);
    s.get_uint("max_object_memory", l.max_object_memory, 64 << 10, 4ull << 30);
    s.get_uint("max_object_size", l.max_object_size, 1 << 10, 64ull << 30);
    s.get("max_compression_ratio", l.max_compression_ratio);
    s.get_uint("ratio_floor_bytes", l.ratio_floor_bytes);
    s.get_uint("scan_timeout_ms", l.scan_timeout_ms, 100, 3600 * 1000);
    s.get_uint("max_mime_parts", l.max_mime_parts, 1, 100000);
    s.get_uint("max_mime_depth", l.max_mime_depth, 1, 200);
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
    Section s(root, "passwords", file, base);
    s.get("static_list", c.passwords.static_list);
    s.get_uint("max_candidates", c.passwords.max_candidates, 0, 10000);
    s.get("show_in_reports", c.passwords.show_in_reports);
    s.get("opened_archive_verdict", c.passwords.opened_archive_verdict);
    s.get_uint("max_document_candidates", c.passwords.max_document_candidates, 0, 100);
    s.finish();
  }
  {
    Section s(root, "macros", file, base);
    s.get("allow_project_sha256", c.macros.allow_project_sha256);
    s.get("allow_sender_domains", c.macros.allow_sender_domains);
    s.finish();
  }
  {
    Section s(root, "rules", file, base);
    s.get("paths", c.rules.paths, /*paths=*/true);
    s.get("strict", c.rules.strict);
    s.get_uint("timeout_ms", c.rules.timeout_ms, 1, 600000);
    s.finish();
  }
  {
    Section s(root, "intel", file, base);
    s.get_path("urlhaus_path", c.intel.urlhaus_path);
    s.get_path("feodo_path", c.intel.feodo_path);
    s.finish();
  }
  {
    Section s(root, "actions", file, base);
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
    Section s(root, "milter", file, base);
    MilterSettings& m = c.milter;
    s.get("socket", m.socket);
    s.get("user", m.user);
    s.get("group", m.group);
    s.get_uint("socket_mode", m.socket_mode, 0, 0777);
    s.get_uint("max_message_size", m.max_message_size, 1 << 10, 4ull << 30);
    s.get_uint("memory_buffer", m.memory_buffer, 0, 4ull << 30);
    s.get_uint("workers", m.workers, 0, 256);
    s.get_uint("queue_size", m.queue_size, 1, 100000);
    s.get_uint("timeout_s", m.timeout_s, 1, 3600);
    s.get("hash_all_objects", m.hash_all_objects);
    s.get_path("pid_file", m.pid_file);
    s.finish();
  }
  {
    Section s(root, "quarantine", file, base);
    s.get_path("dir", c.quarantine.dir);
    s.get("after", c.quarantine.after);
    if (c.quarantine.after != Action::discard && c.quarantine.after != Action::hold)
      throw ConfigError(file, 0, "quarantine.after must be \"discard\" or \"hold\"");
    s.get("sendmail", c.quarantine.sendmail);
    s.finish();
  }
  {
    Section s(root, "log", file, base);
    s.get("facility", c.log.facility);
    s.get("to_stderr", c.log.to_stderr);
    s.get_path("json_path", c.log.json_path);
    s.finish();
  }
  {
    Section s(root, "metrics", file, base);
    s.get("listen", c.metrics.listen);
    s.finish();
  }
  if (c.limits.max_object_size > c.limits.max_extracted_bytes)
    c.limits.max_object_size = c.limits.max_extracted_bytes;
  return c;
}

}  // namespace

Config parse_config(const std::string& text, const std::string& source_name) {
  std::istringstream in(text);
  toml::value root;
  try {
    root = toml::parse(in, source_name);
  } catch (const toml::syntax_error& e) {
    throw ConfigError(source_name, static_cast<int>(e.location().line()),
                      std::string("TOML syntax error: ") + e.what());
  }
  try {
    return from_toml(root, source_name);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError(source_name, 0, e.what());
  }
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
