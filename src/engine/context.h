// ScanContext: everything a module may see or do while one message is
// scanned. Read-only: config, envelope, message text, shared services (rule
// sets, lists). Write: findings, child objects, URLs, per-scan scratch state.
// Limits (depth, objects, bytes, ratio, time) are enforced here, not in the
// modules, so that no module can forget them.
// Trusted input: the configuration (its limits are the bounds); none in objects.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"
#include "common/kdf_budget.h"
#include "engine/object.h"
#include "engine/services.h"
#include "formats/mime/text_part.h"

namespace emogate {

struct ChildSpec {
  std::string name;           // last path component
  std::string declared_type;  // what the container claims, if anything
  std::string type;           // force the true type (derived text); empty = identify
  std::string provenance;
  bool derived = false;
  bool from_encrypted = false;
  bool body = false;  // a text body of the message (Object::body)
  std::uint64_t compressed_size = 0;  // for the ratio limit; 0 = not compressed
  std::uint64_t declared_size = 0;    // what the container says (a hint only)
};

// The compression-ratio limit: true when `expanded` bytes are past [limits]
// ratio_floor_bytes and more than max_compression_ratio times `compressed`.
// Callers decide what a compressed size of 0 (unknown) means.
inline bool exceeds_compression_ratio(const Limits& l, std::uint64_t expanded, std::uint64_t compressed) {
  return expanded > l.ratio_floor_bytes &&
         static_cast<double>(expanded) > static_cast<double>(compressed) * l.max_compression_ratio;
}
// "expands more than 250x (1234 bytes compressed)", the wording of that limit.
inline std::string compression_ratio_detail(const Limits& l, std::uint64_t compressed) {
  return "expands more than " + std::to_string(static_cast<long long>(l.max_compression_ratio)) + "x (" +
         std::to_string(compressed) + " bytes compressed)";
}

class ScanContext;

// Streams one child's bytes in. write() returns false once a limit stops the
// child (the finding is already recorded): stop feeding and commit or drop.
class ChildWriter {
 public:
  ChildWriter(ChildWriter&&) noexcept = default;
  ChildWriter& operator=(ChildWriter&&) noexcept = default;
  bool write(const void* data, std::size_t n);
  bool write(std::string_view s) { return write(s.data(), s.size()); }
  // In-place writing (BlobWriter::room), under the same limits as write():
  // room() for up to n bytes or null (then write()), and commit() of the
  // bytes written there, false when a limit refused them as write() would.
  char* room(std::size_t n) { return stopped_ ? nullptr : writer_.room(n); }
  bool commit(std::size_t n);
  std::uint64_t size() const { return writer_.size(); }
  bool stopped() const { return stopped_; }
  // Expected size, when the container knows it (never trusted as a bound).
  void expect(std::uint64_t n) { writer_.expect(n); }
  // A size the container declares: reserves memory within the limits and
  // within the ratio limit, so a lie can cost no more than the truth would.
  void reserve(std::uint64_t n) { writer_.reserve(n); }
  // The extractor stopped reading at a limit it enforces itself (zero
  // padding, engine/child_stream.h): the object is marked truncated like
  // one the writer cut short.
  void mark_truncated() { stopped_ = true; }

 private:
  friend class ScanContext;
  ChildWriter(ScanContext* ctx, const Object* parent, ChildSpec spec, BlobWriter w)
      : ctx_(ctx), parent_(parent), spec_(std::move(spec)), writer_(std::move(w)) {}
  ScanContext* ctx_;
  const Object* parent_;
  ChildSpec spec_;
  BlobWriter writer_;
  bool stopped_ = false;
  bool rejected_ = false;  // refused before the first byte (depth/count)
};

class ScanContext {
 public:
  using Clock = std::chrono::steady_clock;

  ScanContext(const Config& cfg, const ServiceSet& services, const Envelope& env,
              Report& report, Clock::time_point deadline);
  ~ScanContext();

  const Config& config() const { return cfg_; }
  const Limits& limits() const { return cfg_.limits; }
  const Envelope& envelope() const { return env_; }
  // The caller's per-scan choices (defaults until the engine sets them).
  const ScanOptions& options() const { return options_ ? *options_ : kDefaultOptions; }
  void set_options(const ScanOptions& o) { options_ = &o; }
  template <class T>
  const T* service() const { return services_.get<T>(); }

  // Message text, filled by the MIME stage before any attachment is handled.
  const std::vector<TextPart>& text() const { return text_; }
  void add_text(TextPart part) { text_.push_back(std::move(part)); }

  bool expired() const { return Clock::now() >= deadline_; }
  Clock::time_point deadline() const { return deadline_; }

  // Findings. Without `verdict`, the config's baseline for the type applies.
  void add_finding(FindingType type, const Object& obj, std::string detail,
                   std::optional<Verdict> verdict = std::nullopt);
  // `limit` fills Finding::limit (limit_exceeded findings name what stopped them).
  void add_finding_at(FindingType type, std::string path, std::string detail,
                      std::optional<Verdict> verdict = std::nullopt, std::string limit = {});
  // limit_exceeded naming the limit (in Finding::limit and at the head of
  // the detail), once per (object, limit).
  void limit_hit(const Object& obj, std::string_view limit, std::string detail = {});
  // A yara finding of rule set `rule_set` whose hits on `obj` scored
  // `score` together (Finding::rule_set, Finding::score).
  void add_rule_finding(const Object& obj, std::string detail, Verdict verdict, std::string rule_set, int score);
  // The scan's running account of a rule set (Report::rule_sets), made at first use.
  RuleSetUse& rule_set_use(const std::string& name);
  void add_url(std::string url);
  // A vba_macro finding for one VBA project, with the project's SHA-256
  // kept beside it for the engine's [macros] allow-list
  // (engine/allow_list.h), which may lower the verdict once the scan ends.
  void add_macro_project(const Object& obj, std::string detail, std::optional<Verdict> verdict,
                         std::string sha256);
  // The scan could not inspect something (not a policy limit): `resource`
  // names what failed ("temp_dir", "memory", a module). Records a finding
  // (limit_exceeded with Finding::limit = `resource`, or `type`), at least
  // suspicious, an error line, and
  // marks the report incomplete, which makes the milter apply on_error.
  void scan_incomplete(const std::string& path, std::string_view resource, const std::string& detail,
                       FindingType type = FindingType::limit_exceeded);
  // "path: what failed", from modules that do not name a resource: the same
  // as scan_incomplete at the message level (never a silent error line).
  void add_error(const std::string& error) { scan_incomplete({}, "analysis", error); }

  // Children. can_add_child() lets an extractor skip work the engine would
  // refuse anyway (depth or object count reached).
  bool can_add_child(const Object& parent);
  ChildWriter begin_child(const Object& parent, ChildSpec spec);
  void commit(ChildWriter&& child);
  void add_child(const Object& parent, ChildSpec spec, std::string_view bytes);
  void add_child(const Object& parent, ChildSpec spec, Blob bytes);

  // Password key-derivation work left for this message ([limits]
  // max_kdf_rounds, common/kdf_budget.h).
  KdfBudget& kdf_budget() { return kdf_budget_; }

  // Per-scan scratch state shared between modules (password candidates,
  // per-thread scanners...). Created on first use.
  template <class T>
  T& scratch() {
    auto& slot = scratch_[std::type_index(typeid(T))];
    if (!slot) slot = std::shared_ptr<void>(new T(), [](void* p) { delete static_cast<T*>(p); });
    return *static_cast<T*>(slot.get());
  }

  // Engine side.
  std::vector<std::unique_ptr<Object>>& pending() { return pending_; }
  std::uint64_t extracted_bytes() const { return extracted_bytes_; }
  std::uint64_t object_count() const { return object_count_; }
  void count_root() { ++object_count_; }
  Report& report() { return report_; }
  struct MacroProject {
    std::size_t finding;  // index into report().findings
    std::string sha256;
  };
  const std::vector<MacroProject>& macro_projects() const { return macro_projects_; }

 private:
  friend class ChildWriter;
  bool admit(ChildWriter& w, std::size_t n);
  void refused(ChildWriter& w);
  void stop_child(ChildWriter& w, std::string_view limit, const std::string& detail);
  void storage_failed(ChildWriter& w, std::uint64_t kept);
  std::string child_path(const ChildWriter& w) const;
  std::unique_ptr<Object> make_child(const Object& parent, ChildSpec spec, Blob data,
                                     bool truncated);
  std::string unique_path(const Object& parent, const std::string& name);

  const Config& cfg_;
  const ServiceSet& services_;
  const Envelope& env_;
  static inline const ScanOptions kDefaultOptions{};
  const ScanOptions* options_ = nullptr;
  Report& report_;
  Clock::time_point deadline_;
  std::vector<TextPart> text_;
  std::vector<std::unique_ptr<Object>> pending_;
  std::uint64_t extracted_bytes_ = 0;
  std::uint64_t object_count_ = 0;
  std::uint32_t next_id_ = 1;
  std::unordered_map<std::string, int> path_uses_;
  std::unordered_map<std::string, bool> limits_reported_;
  std::unordered_map<std::string, bool> urls_seen_;
  std::unordered_map<std::type_index, std::shared_ptr<void>> scratch_;
  std::vector<MacroProject> macro_projects_;
  KdfBudget kdf_budget_{cfg_.limits.max_kdf_rounds};
};

}  // namespace emogate
