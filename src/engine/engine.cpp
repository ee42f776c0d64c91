// The scan loop. Modules are trusted to be bounded but not to be correct:
// an exception from one module is recorded and the scan goes on.
// Trusted input: the configuration and the registered modules; none in objects.
#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <deque>

#include "engine/allow_list.h"
#include "engine/context.h"
#include "engine/hash.h"
#include "engine/passwords.h"
#include "engine/types.h"
#include "engine/typing.h"

namespace emogate {

namespace {

ObjectSummary summarize(const Object& o) {
  ObjectSummary s;
  s.path = o.path.empty() ? "(message)" : o.path;
  s.name = o.name;
  s.declared_type = o.declared_type;
  s.type = o.type;
  s.mime = o.mime;
  s.size = o.size();
  s.sha256 = o.sha256;
  s.depth = o.depth;
  s.truncated = o.truncated;
  s.derived = o.derived;
  s.provenance = o.provenance;
  s.body = o.body;
  return s;
}

void dispatch(const std::vector<std::unique_ptr<Module>>& modules, Phase phase, const Object& obj,
              ScanContext& ctx) {
  for (const auto& m : modules) {
    if (ctx.expired()) return;
    if (m->phase() != phase || !m->accepts(obj)) continue;
    try {
      m->run(obj, ctx);
    } catch (const std::exception& e) {
      // Modules return their problems; one that throws gave up on the
      // object part way, so the object was not fully inspected.
      ctx.scan_incomplete(obj.path, m->name(), std::string("analysis failed: ") + e.what(), FindingType::malformed);
    }
  }
}

}  // namespace

Report run_scan(const ScannerState& state, std::unique_ptr<Object> root, const Envelope& env,
                std::string input, const ScanOptions& opts) {
  const auto start = std::chrono::steady_clock::now();
  Report report;
  report.input = std::move(input);
  report.size = root->size();
  const Config& cfg = state.config;
  ScanContext ctx(cfg, state.services, env, report,
                  start + std::chrono::milliseconds(cfg.limits.scan_timeout_ms));

  // Objects stay alive to the end (children point at parents); their bytes
  // are released as soon as they have been processed.
  set_external_passwords(ctx, opts.extra_passwords);
  ctx.set_options(opts);
  std::vector<std::unique_ptr<Object>> all;
  std::deque<Object*> queue;
  ctx.count_root();
  queue.push_back(root.get());
  all.push_back(std::move(root));
  const Registry& reg = *state.registry;

  while (!queue.empty()) {
    Object* obj = queue.front();
    if (ctx.expired()) {
      ctx.limit_hit(*all.front(), "scan_timeout_ms",
                    "scan stopped after " + std::to_string(cfg.limits.scan_timeout_ms) + " ms; " +
                        std::to_string(queue.size()) + " objects not analysed");
      break;
    }
    queue.pop_front();
    if (obj->type.empty()) {
      TypeInfo t = identify(obj->bytes());
      obj->type = std::move(t.type);
      obj->mime = std::move(t.mime);
      obj->magic = std::move(t.magic);
    }
    // The whole message is not an attachment: hashing it would cost more
    // than parsing it, and the MTA already identifies it by queue id.
    // Archives are hashed first because expand modules compare an archive with
    // its ancestors (a ZIP quine); other objects, when not all are wanted,
    // only once a finding makes the hash worth reporting.
    const bool hashable = obj->depth > 0 || obj->type != tag::email;
    const bool attachment = opts.hash_attachments && obj->depth == 1 && !obj->body && !obj->derived;
    if (hashable && (opts.hash_all_objects || attachment || is_archive_type(obj->type)))
      obj->sha256 = sha256_hex(obj->bytes());
    const std::size_t findings_before = report.findings.size();

    dispatch(reg.modules, Phase::inspect, *obj, ctx);
    dispatch(reg.modules, Phase::expand, *obj, ctx);

    if (hashable && obj->sha256.empty()) {
      const std::string& where = obj->path.empty() ? std::string("(message)") : obj->path;
      for (std::size_t i = findings_before; i < report.findings.size(); ++i)
        if (report.findings[i].path == where) {
          obj->sha256 = sha256_hex(obj->bytes());
          break;
        }
    }

    report.objects.push_back(summarize(*obj));
    obj->data = Blob();
    for (auto& child : ctx.pending()) {
      queue.push_back(child.get());
      all.push_back(std::move(child));
    }
    ctx.pending().clear();
  }

  // Modules stop quietly when the deadline passes; if that happened on the
  // last object, the loop above never saw an unprocessed one to report.
  if (ctx.expired())
    ctx.limit_hit(*all.front(), "scan_timeout_ms",
                  "scan time ran out after " + std::to_string(cfg.limits.scan_timeout_ms) +
                      " ms; the last objects were not fully analysed");
  apply_macro_allow_list(cfg.macros, env, ctx.macro_projects(), report.findings);
  // A password for a message of this sender that waits for one (PPAP).
  if (opts.mine_follow_up_passwords)
    for (PasswordCandidate& c : mine_follow_up_passwords(ctx.text(), cfg.ppap.max_candidates_per_entry))
      report.ppap.passwords.push_back({std::move(c.password), std::move(c.source)});
  for (const Finding& f : report.findings)
    if (f.verdict > report.verdict) report.verdict = f.verdict;
  // Most severe first, tree order within a verdict: headers, log lines and
  // hold reasons are cut after a number of findings, and a reader looks at
  // the top.
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.verdict > b.verdict; });
  report.scan_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace emogate
