// Compiles the configured YARA rule files and scans byte ranges with them.
// See yara_rules.h for the contract.
// Trusted input: rule files are admin input that
// may be broken (reported, not fatal unless strict); scanned bytes are
// hostile and only ever handed to libyara as a read-only view.
#include "services/yara_rules.h"

#include "common/text.h"

#include <yara.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <system_error>

namespace emogate {

namespace fs = std::filesystem;

namespace {

void init_libyara() {
  // libyara keeps process-wide tables (modules, thread keys); it is never
  // finalised because scans may run until exit.
  static std::once_flag once;
  static int rc = ERROR_SUCCESS;
  std::call_once(once, [] { rc = yr_initialize(); });
  if (rc != ERROR_SUCCESS) throw std::runtime_error("libyara: initialisation failed (error " + std::to_string(rc) + ")");
}

bool is_rule_file(const fs::path& p) {
  std::string ext = ascii_lower(p.extension().string());
  std::string name = p.filename().string();
  return (ext == ".yar" || ext == ".yara") && !name.empty() && name[0] != '.';
}

// Every rule file under `paths`, in a stable order. Missing paths are
// reported, not fatal, so a fresh install without a rules folder still runs.
std::vector<std::string> collect_files(const std::vector<std::string>& paths,
                                       std::vector<std::string>& problems) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      problems.push_back(p + ":0: rules path does not exist");
      continue;
    }
    if (fs::is_regular_file(st)) {
      out.push_back(p);  // named explicitly: taken whatever its extension
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && is_rule_file(it->path())) found.push_back(it->path().string());
    }
    if (ec) problems.push_back(p + ":0: cannot list rules folder: " + ec.message());
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

constexpr std::size_t kFastModeBytes = 16u << 20;
// Compiles of the whole set (each one dropping the broken file that stopped
// the one before) before the rest are found in a single pass.
constexpr int kMaxCompileRounds = 4;

struct CompileLog {
  const std::string* current = nullptr;  // file being added
  std::vector<std::string> errors, warnings;
};

void on_compile_message(int level, const char* file, int line, const YR_RULE*, const char* msg,
                        void* user) {
  auto* log = static_cast<CompileLog*>(user);
  std::string where = file ? file : (log->current ? *log->current : std::string("?"));
  std::string text = where + ":" + std::to_string(line) + ": " + (msg ? msg : "error");
  (level == YARA_ERROR_LEVEL_ERROR ? log->errors : log->warnings).push_back(std::move(text));
}

// Rules see these as externals; values are replaced per scanned object.
// filepath/filetype/owner are the names other scanners (e.g. LOKI) use, so
// common third-party sets compile unchanged.
int define_externals(YR_COMPILER* c) {
  int rc = 0;
  for (const char* s : {"filename", "extension", "path", "type", "mime", "parent_type", "filepath",
                        "filetype", "owner"})
    rc |= yr_compiler_define_string_variable(c, s, "");
  // Each name also in kYaraExternals (cache keys), checked here at compile time.
  static_assert(std::size(kYaraExternals) == 12);
  rc |= yr_compiler_define_integer_variable(c, "depth", 0);
  rc |= yr_compiler_define_boolean_variable(c, "from_encrypted", 0);
  rc |= yr_compiler_define_boolean_variable(c, "truncated", 0);
  return rc;
}

// In-memory byte sink and source for libyara's rule (de)serialisation.
struct MemStream {
  std::string bytes;
  std::size_t at = 0;
  static std::size_t write(const void* p, std::size_t size, std::size_t count, void* self) {
    auto* m = static_cast<MemStream*>(self);
    m->bytes.append(static_cast<const char*>(p), size * count);
    return count;
  }
  static std::size_t read(void* p, std::size_t size, std::size_t count, void* self) {
    auto* m = static_cast<MemStream*>(self);
    if (size == 0 || (m->bytes.size() - m->at) / size < count) return 0;
    std::memcpy(p, m->bytes.data() + m->at, size * count);
    m->at += size * count;
    return count;
  }
};

// The compiled rules keep the compiler's arena, whose buffers grew by
// doubling, slack included. Saved and loaded again, each buffer is allocated
// at its used size, which lowers the peak RSS of a large set's load. On any
// failure the original rules are kept.
void compact_rules(YR_RULES** rules) {
  MemStream m;
  YR_STREAM out{&m, nullptr, &MemStream::write};
  if (yr_rules_save_stream(*rules, &out) != ERROR_SUCCESS) return;
  YR_STREAM in{&m, &MemStream::read, nullptr};
  YR_RULES* fresh = nullptr;
  if (yr_rules_load_stream(&in, &fresh) != ERROR_SUCCESS || !fresh) return;
  yr_rules_destroy(*rules);
  *rules = fresh;
}

struct CompilerGuard {
  YR_COMPILER* c = nullptr;
  ~CompilerGuard() {
    if (c) yr_compiler_destroy(c);
  }
};

// Adds `files` to one fresh compiler, in order. A file that cannot be opened
// is skipped; a file that does not compile stops the compiler, as libyara
// takes no more input after an error. Returns the indexes of the files that
// failed (a stop is the last one). With `rules` non-null and nothing failed,
// also produces the compiled set. Errors go to `log`, warnings only when
// nothing failed: the good files are compiled again, and warn again, in the
// compile that loads them, and a skipped file's warnings do not matter.
std::vector<std::size_t> compile_files(const std::vector<RuleSource>& files, CompileLog& log,
                                       YR_RULES** rules, const std::string& one_namespace = {}) {
  CompilerGuard g;
  if (yr_compiler_create(&g.c) != ERROR_SUCCESS || define_externals(g.c) != ERROR_SUCCESS)
    throw std::runtime_error("libyara: cannot create a rule compiler");
  yr_compiler_set_callback(g.c, on_compile_message, &log);
  std::vector<std::size_t> failed;
  const std::size_t warnings_before = log.warnings.size();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i].path;
    log.current = &f;
    // Namespace = file path: rule names only need to be unique per file
    // (or the set's one namespace when it asks for that).
    const char* ns = one_namespace.empty() ? f.c_str() : one_namespace.c_str();
    int errs = 0;
    if (files[i].text) {
      errs = yr_compiler_add_string(g.c, files[i].text->c_str(), ns);
    } else {
      FILE* fp = std::fopen(f.c_str(), "rb");
      if (!fp) {
        log.errors.push_back(f + ":0: cannot open rule file");
        failed.push_back(i);
        continue;
      }
      errs = yr_compiler_add_file(g.c, fp, ns, f.c_str());
      std::fclose(fp);
    }
    if (errs > 0) {
      failed.push_back(i);
      break;
    }
  }
  log.current = nullptr;
  if (!failed.empty()) log.warnings.resize(warnings_before);
  if (failed.empty() && rules) {
    if (yr_compiler_get_rules(g.c, rules) != ERROR_SUCCESS)
      throw std::runtime_error("libyara: cannot build the compiled rule set");
    yr_compiler_destroy(g.c);  // its working tables; the rules keep the arena
    g.c = nullptr;
    compact_rules(rules);
  }
  return failed;
}

// Removes the entries at `idx` (ascending) from `files`.
void drop_indexes(std::vector<RuleSource>& files, const std::vector<std::size_t>& idx) {
  for (auto it = idx.rbegin(); it != idx.rend(); ++it)
    files.erase(files.begin() + static_cast<std::ptrdiff_t>(*it));
}

void define_text(YR_SCANNER* s, const char* id, const std::string& v) {
  yr_scanner_define_string_variable(s, id, v.c_str());
}

int on_scan_message(YR_SCAN_CONTEXT*, int message, void* data, void* user) {
  if (message != CALLBACK_MSG_RULE_MATCHING) return CALLBACK_CONTINUE;
  auto* out = static_cast<YaraScanResult*>(user);
  const auto* rule = static_cast<const YR_RULE*>(data);
  YaraMatch m;
  m.rule = rule->identifier;
  m.ns = rule->ns && rule->ns->name ? rule->ns->name : "";
  const char* tag;
  yr_rule_tags_foreach(rule, tag) { m.tags.emplace_back(tag); }
  const YR_META* meta;
  yr_rule_metas_foreach(rule, meta) {
    std::string v;
    if (meta->type == META_TYPE_STRING)
      v = meta->string ? meta->string : "";
    else if (meta->type == META_TYPE_BOOLEAN)
      v = meta->integer ? "true" : "false";
    else
      v = std::to_string(meta->integer);
    m.meta.emplace_back(meta->identifier, std::move(v));
  }
  out->matches.push_back(std::move(m));
  return CALLBACK_CONTINUE;
}

}  // namespace

std::string YaraVars::value(std::size_t i) const {
  switch (i) {
    case 0: return filename;
    case 1: return filepath;
    case 2: return extension;
    case 3: return filetype;
    case 4: return {};  // owner
    case 5: return path;
    case 6: return type;
    case 7: return mime;
    case 8: return std::to_string(depth);
    case 9: return parent_type;
    case 10: return from_encrypted ? "1" : "0";
    case 11: return truncated ? "1" : "0";
  }
  return {};
}

std::string YaraMatch::meta_value(std::string_view key) const {
  for (const auto& [k, v] : meta)
    if (k == key) return v;
  return {};
}

struct YaraRuleSet::Impl {
  YR_RULES* rules = nullptr;
  std::vector<std::string> files;
  std::size_t rule_count = 0;
  // Scanners hold per-scan state, so each concurrent scan needs its own.
  // Keeping them here (not thread_local) ties their lifetime to the rules,
  // so a reload can never leave a thread holding a scanner of freed rules.
  mutable std::mutex pool_mu;
  mutable std::vector<YR_SCANNER*> pool;

  ~Impl() {
    for (auto* s : pool) yr_scanner_destroy(s);
    if (rules) yr_rules_destroy(rules);
  }
  YR_SCANNER* acquire() const {
    {
      std::lock_guard<std::mutex> lk(pool_mu);
      if (!pool.empty()) {
        auto* s = pool.back();
        pool.pop_back();
        return s;
      }
    }
    YR_SCANNER* s = nullptr;
    if (yr_scanner_create(rules, &s) != ERROR_SUCCESS) return nullptr;
    return s;
  }
  // keep = false after a big scan: a scanner may hold on to the memory its
  // last scan's matches took, so it is not worth keeping.
  void release(YR_SCANNER* s, bool keep) const {
    std::lock_guard<std::mutex> lk(pool_mu);
    if (keep && pool.size() < 256) {
      pool.push_back(s);
      return;
    }
    yr_scanner_destroy(s);
  }
};

YaraRuleSet::YaraRuleSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
YaraRuleSet::~YaraRuleSet() = default;

std::shared_ptr<const YaraRuleSet> YaraRuleSet::compile(const RuleSettings& settings,
                                                        std::vector<std::string>& warnings,
                                                        const std::string& one_namespace) {
  std::vector<std::string> problems;
  std::vector<RuleSource> files;
  for (auto& f : collect_files(settings.paths, problems)) files.push_back({std::move(f), nullptr});
  return compile_sources(std::move(files), std::move(problems), settings.strict, warnings, one_namespace);
}

std::shared_ptr<const YaraRuleSet> YaraRuleSet::compile_sources(std::vector<RuleSource> files,
                                                                std::vector<std::string> problems, bool strict,
                                                                std::vector<std::string>& warnings,
                                                                const std::string& one_namespace) {
  init_libyara();
  // The whole set compiles at once, or stops at the first broken file, which
  // libyara names: drop it and compile the rest again. Never one compiler per
  // file: each new libyara compiler zero-fills megabytes of fresh arena
  // buffers before it parses anything, so a per-file pass over a large
  // folder costs many times the whole set (bench/yara_load_repro.cpp).
  CompileLog log;
  YR_RULES* rules = nullptr;
  std::vector<RuleSource> good = std::move(files);
  std::vector<std::size_t> failed = compile_files(good, log, &rules, one_namespace);
  for (int round = 1; !failed.empty() && round < kMaxCompileRounds; ++round) {
    drop_indexes(good, failed);
    failed = compile_files(good, log, &rules, one_namespace);
  }
  if (!failed.empty()) {
    // Many broken files: find the rest in one pass, a fresh compiler
    // starting after each failure (the files before it compiled together),
    // then build the good ones together.
    std::size_t start = failed.back();
    drop_indexes(good, failed);
    while (start < good.size()) {
      std::vector<RuleSource> rest(good.begin() + static_cast<std::ptrdiff_t>(start), good.end());
      auto bad = compile_files(rest, log, nullptr, one_namespace);
      if (bad.empty()) {
        log.warnings.clear();  // the compile below gives them again
        break;
      }
      for (auto& i : bad) i += start;
      start = bad.back();
      drop_indexes(good, bad);
    }
    if (!compile_files(good, log, &rules, one_namespace).empty()) {
      // Files that compile in turn but not together (should not happen with
      // one namespace per file): report rather than guess.
      good.clear();
      CompileLog empty;
      compile_files({}, empty, &rules);
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->rules = rules;
  for (auto& f : good) impl->files.push_back(std::move(f.path));
  const YR_RULE* r;
  yr_rules_foreach(rules, r) { ++impl->rule_count; }
  auto set = std::shared_ptr<const YaraRuleSet>(new YaraRuleSet(std::move(impl)));

  for (auto& e : log.errors) problems.push_back("rule file skipped: " + e);
  if (strict && !(problems.empty() && log.warnings.empty())) {
    std::string all = "YARA rules failed to load (strict):";
    for (const auto& p : problems) all += "\n  " + p;
    for (const auto& w : log.warnings) all += "\n  warning: " + w;
    throw std::runtime_error(all);
  }
  for (auto& p : problems) warnings.push_back("yara: " + p);
  for (auto& w : log.warnings) warnings.push_back(std::string(kYaraWarningPrefix) + w);
  return set;
}

YaraScanResult YaraRuleSet::scan(std::string_view data, const YaraVars& vars,
                                 std::uint32_t timeout_ms) const {
  YaraScanResult out;
  if (impl_->rule_count == 0) return out;
  YR_SCANNER* s = impl_->acquire();
  if (!s) {
    out.error = "cannot create a YARA scanner";
    return out;
  }
  define_text(s, "filename", vars.filename);
  define_text(s, "extension", vars.extension);
  define_text(s, "path", vars.path);
  define_text(s, "filepath", vars.filepath);
  define_text(s, "type", vars.type);
  define_text(s, "filetype", vars.filetype);
  define_text(s, "mime", vars.mime);
  define_text(s, "parent_type", vars.parent_type);
  yr_scanner_define_integer_variable(s, "depth", vars.depth);
  yr_scanner_define_boolean_variable(s, "from_encrypted", vars.from_encrypted ? 1 : 0);
  yr_scanner_define_boolean_variable(s, "truncated", vars.truncated ? 1 : 0);
  yr_scanner_set_callback(s, on_scan_message, &out);
  // libyara keeps up to a million matches per string; on a large hostile
  // object (256 MB of "http://") that is GBs. Past kFastModeBytes only each
  // string's first match is recorded, which bounds memory; counts (#s) and
  // later offsets (@s[2]) in rules are then not reliable for such objects.
  // No try/catch: libyara would install and restore SIGSEGV/SIGBUS handlers
  // (four sigaction calls) around every scan, to survive a mapped file that
  // shrinks underneath it. Ours are heap buffers or private unlinked temp
  // files that nothing truncates, and every other reader trusts them too.
  yr_scanner_set_flags(s, (data.size() > kFastModeBytes ? SCAN_FLAGS_FAST_MODE : 0) | SCAN_FLAGS_NO_TRYCATCH);
  // The public setter takes whole seconds; the field is nanoseconds.
  s->timeout = static_cast<std::uint64_t>(timeout_ms) * 1000000ull;

  static const std::uint8_t empty = 0;
  const auto* p = data.empty() ? &empty : reinterpret_cast<const std::uint8_t*>(data.data());
  int rc = yr_scanner_scan_mem(s, p, data.size());
  impl_->release(s, data.size() <= kFastModeBytes);
  if (rc == ERROR_SCAN_TIMEOUT) {
    out.timed_out = true;
    out.error = "YARA scan timed out after " + std::to_string(timeout_ms) + " ms";
  } else if (rc != ERROR_SUCCESS) {
    out.error = "YARA scan failed (libyara error " + std::to_string(rc) + ")";
  }
  return out;
}

std::size_t YaraRuleSet::rule_count() const { return impl_->rule_count; }
const std::vector<std::string>& YaraRuleSet::files() const { return impl_->files; }

std::vector<std::string> collect_rule_files(const std::vector<std::string>& paths,
                                            std::vector<std::string>& problems) {
  return collect_files(paths, problems);
}

}  // namespace emogate
