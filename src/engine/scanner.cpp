// Scanner: builds the per-configuration state and runs scans against it.
// Reload builds a complete new state before swapping it in, so a broken
// rule file or list never leaves the daemon without rules.
// Trusted input: the configuration; none in what is scanned.
#include "emogate/scanner.h"

#include <mutex>

#include "common/text.h"
#include "engine/engine.h"
#include "engine/types.h"
#include "services/yara_sets.h"

namespace emogate {

namespace {

std::shared_ptr<const ScannerState> build_state(Config config) {
  auto st = std::make_shared<ScannerState>();
  st->config = std::move(config);
  st->registry = &builtin_registry();
  build_services(st->config, st->services, st->warnings);
  return st;
}

}  // namespace

struct Scanner::Impl {
  mutable std::mutex mu;
  std::shared_ptr<const ScannerState> state;
};

Scanner::Scanner(Config config) : impl_(std::make_unique<Impl>()) {
  impl_->state = build_state(std::move(config));
}

Scanner::~Scanner() = default;

std::shared_ptr<const ScannerState> Scanner::state() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->state;
}

void Scanner::reload(Config config) {
  auto fresh = build_state(std::move(config));
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->state = std::move(fresh);
}

const Config& Scanner::config() const { return state()->config; }
std::vector<std::string> Scanner::warnings() const { return state()->warnings; }

std::vector<RuleSetInfo> Scanner::rule_sets() const {
  auto st = state();
  std::vector<RuleSetInfo> out;
  const auto* all = st->services.get<YaraRules>();
  if (!all) return out;
  for (const auto& s : all->sets()) {
    RuleSetInfo i;
    i.name = s->settings.name;
    i.scope = std::string(to_string(s->settings.scope));
    if (s->settings.max_action) i.max_action = std::string(to_string(*s->settings.max_action));
    i.files = s->files;
    i.rules = s->rules_count;
    i.skipped = s->skipped;
    i.warnings = s->warnings;
    i.compile_ms = s->compile_ms;
    i.cache_hits = s->cache.hits();
    i.cache_misses = s->cache.misses();
    i.scans = s->scans;
    out.push_back(std::move(i));
  }
  return out;
}

Report Scanner::scan_message(std::string_view raw, const Envelope& env, const ScanOptions& opts) const {
  auto st = state();
  auto root = std::make_unique<Object>();
  root->type = tag::email;
  root->mime = "message/rfc822";
  root->data = Blob::borrow(raw);
  return run_scan(*st, std::move(root), env, env.queue_id, opts);
}

Report Scanner::scan_file(std::string_view bytes, const std::string& name, const ScanOptions& opts) const {
  auto st = state();
  auto root = std::make_unique<Object>();
  root->name = base_name(name, "/");
  root->path = root->name.empty() ? "(file)" : root->name;
  root->data = Blob::borrow(bytes);
  return run_scan(*st, std::move(root), {}, name, opts);
}

}  // namespace emogate
