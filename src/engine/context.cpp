// ScanContext: limits, findings and child creation for one scan.
// Trusted input: the configuration; none in objects.
#include "engine/context.h"
#include "engine/types.h"

#include <algorithm>

namespace emogate {

namespace {

// Names come from hostile containers: drop control bytes, keep UTF-8, cap
// the length on a character boundary so paths stay printable and bounded.
std::string clean_name(std::string_view name) {
  std::string out;
  out.reserve(std::min<std::size_t>(name.size(), 256));
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) continue;
    out.push_back(c);
  }
  while (!out.empty() && (out.front() == '/' || out.front() == '\\')) out.erase(0, 1);
  constexpr std::size_t kMax = 200;
  if (out.size() > kMax) {
    std::size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "…";
  }
  return out;
}

}  // namespace

ScanContext::ScanContext(const Config& cfg, const ServiceSet& services, const Envelope& env,
                         Report& report, Clock::time_point deadline)
    : cfg_(cfg), services_(services), env_(env), report_(report), deadline_(deadline) {}

ScanContext::~ScanContext() = default;

void ScanContext::add_finding_at(FindingType type, std::string path, std::string detail,
                                 std::optional<Verdict> verdict, std::string limit) {
  if (path.empty()) path = "(message)";
  report_.findings.push_back(Finding{type, std::move(path), std::move(detail),
                                     verdict.value_or(cfg_.baseline(type)), std::move(limit)});
}

void ScanContext::add_finding(FindingType type, const Object& obj, std::string detail,
                              std::optional<Verdict> verdict) {
  add_finding_at(type, obj.path, std::move(detail), verdict);
}

RuleSetUse& ScanContext::rule_set_use(const std::string& name) {
  for (RuleSetUse& u : report_.rule_sets)
    if (u.name == name) return u;
  report_.rule_sets.push_back({.name = name});
  return report_.rule_sets.back();
}

void ScanContext::add_rule_finding(const Object& obj, std::string detail, Verdict verdict, std::string rule_set,
                                   int score) {
  add_finding(FindingType::yara, obj, std::move(detail), verdict);
  report_.findings.back().rule_set = std::move(rule_set);
  report_.findings.back().score = score;
}

void ScanContext::limit_hit(const Object& obj, std::string_view limit, std::string detail) {
  std::string key = obj.path + '\0' + std::string(limit);
  if (limits_reported_[key]) return;
  limits_reported_[key] = true;
  std::string d(limit);
  if (!detail.empty()) d += ": " + detail;
  add_finding_at(FindingType::limit_exceeded, obj.path, std::move(d), std::nullopt, std::string(limit));
}

void ScanContext::add_macro_project(const Object& obj, std::string detail, std::optional<Verdict> verdict,
                                    std::string sha256) {
  macro_projects_.push_back({report_.findings.size(), std::move(sha256)});
  add_finding(FindingType::vba_macro, obj, std::move(detail), verdict);
}

void ScanContext::add_url(std::string url) {
  if (url.empty() || urls_seen_[url]) return;
  urls_seen_[url] = true;
  if (report_.urls.size() < 10000) report_.urls.push_back(std::move(url));
}

void ScanContext::scan_incomplete(const std::string& path, std::string_view resource, const std::string& detail,
                                  FindingType type) {
  const std::string where = path.empty() ? "(message)" : path;
  std::string line = std::string(resource) + ": " + detail;
  add_finding_at(type, where, line, std::max(cfg_.baseline(type), Verdict::suspicious),
                 type == FindingType::limit_exceeded ? std::string(resource) : std::string());
  report_.errors.push_back(where + ": " + line);
  report_.incomplete.push_back(where + ": " + line);
}

bool ScanContext::can_add_child(const Object& parent) {
  if (parent.depth + 1 > cfg_.limits.max_depth) {
    limit_hit(parent, "max_depth", "nesting deeper than " + std::to_string(cfg_.limits.max_depth));
    return false;
  }
  if (object_count_ >= cfg_.limits.max_objects) {
    limit_hit(parent, "max_objects",
              "more than " + std::to_string(cfg_.limits.max_objects) + " objects in the message");
    return false;
  }
  if (extracted_bytes_ >= cfg_.limits.max_extracted_bytes) {
    limit_hit(parent, "max_extracted_bytes",
              "more than " + std::to_string(cfg_.limits.max_extracted_bytes) + " bytes extracted");
    return false;
  }
  return true;
}

ChildWriter ScanContext::begin_child(const Object& parent, ChildSpec spec) {
  const Limits& l = cfg_.limits;
  std::uint64_t budget = l.max_extracted_bytes > extracted_bytes_ ? l.max_extracted_bytes - extracted_bytes_ : 0;
  ChildWriter w(this, &parent, std::move(spec),
                BlobWriter(l.temp_dir, l.max_object_memory, std::min(budget, l.max_object_size)));
  if (!can_add_child(parent)) w.stopped_ = w.rejected_ = true;
  else ++object_count_;
  return w;
}

bool ChildWriter::write(const void* data, std::size_t n) {
  if (stopped_ || !ctx_->admit(*this, n)) return false;
  if (writer_.write(data, n)) return true;
  ctx_->refused(*this);
  return false;
}

bool ChildWriter::commit(std::size_t n) {
  if (stopped_ || !ctx_->admit(*this, n)) return false;
  writer_.commit(n);  // room() kept the bytes within the cap
  return true;
}

std::string ScanContext::child_path(const ChildWriter& w) const {
  return w.parent_->path.empty() ? w.spec_.name : w.parent_->path + "/" + w.spec_.name;
}

void ScanContext::stop_child(ChildWriter& w, std::string_view limit, const std::string& detail) {
  w.stopped_ = true;
  std::string path = child_path(w);
  std::string key = path + '\0' + std::string(limit);
  if (limits_reported_[key]) return;
  limits_reported_[key] = true;
  add_finding_at(FindingType::limit_exceeded, path, std::string(limit) + ": " + detail, std::nullopt,
                 std::string(limit));
}

// Runs before each write: the ratio and time limits, and byte accounting
// (the writer itself keeps what fits under its cap).
bool ScanContext::admit(ChildWriter& w, std::size_t n) {
  const Limits& l = cfg_.limits;
  std::uint64_t after = w.writer_.size() + n;
  if (w.spec_.compressed_size > 0 && exceeds_compression_ratio(l, after, w.spec_.compressed_size)) {
    stop_child(w, "max_compression_ratio", compression_ratio_detail(l, w.spec_.compressed_size));
    return false;
  }
  if (expired()) {
    stop_child(w, "scan_timeout_ms", "scan time limit reached while extracting");
    return false;
  }
  std::uint64_t room = w.writer_.cap() > w.writer_.size() ? w.writer_.cap() - w.writer_.size() : 0;
  extracted_bytes_ += std::min<std::uint64_t>(n, room);
  return true;
}

// The writer could not keep an object's bytes (temp file not created,
// written or mapped; memory not grown): the part kept is still analysed.
void ScanContext::storage_failed(ChildWriter& w, std::uint64_t kept) {
  const Limits& l = cfg_.limits;
  scan_incomplete(child_path(w), w.writer_.error_resource(),
                  "object could not be stored (" + w.writer_.error() + "; objects over max_object_memory = " +
                      std::to_string(l.max_object_memory) + " bytes go to temp_dir " + l.temp_dir + "); " +
                      (kept > 0 ? "only the first " + std::to_string(kept) + " bytes are analysed"
                                : "nothing of it is analysed"));
}

// Runs after the writer refused bytes: name the limit (or the I/O error).
void ScanContext::refused(ChildWriter& w) {
  const Limits& l = cfg_.limits;
  if (!w.writer_.error().empty()) {
    w.stopped_ = true;
    storage_failed(w, w.writer_.size());
  } else if (extracted_bytes_ >= l.max_extracted_bytes) {
    stop_child(w, "max_extracted_bytes",
               "more than " + std::to_string(l.max_extracted_bytes) + " bytes extracted from the message");
  } else {
    stop_child(w, "max_object_size", "object larger than " + std::to_string(l.max_object_size) + " bytes");
  }
}

void ScanContext::commit(ChildWriter&& w) {
  if (w.ctx_ != this || w.rejected_) return;
  const bool failed_before = !w.writer_.error().empty();
  Blob blob = w.writer_.finish();
  if (!failed_before && !w.writer_.error().empty()) storage_failed(w, blob.size());
  if (!w.writer_.error().empty() && blob.size() == 0) return;
  pending_.push_back(make_child(*w.parent_, std::move(w.spec_), std::move(blob), w.stopped_));
}

void ScanContext::add_child(const Object& parent, ChildSpec spec, std::string_view bytes) {
  ChildWriter w = begin_child(parent, std::move(spec));
  if (w.stopped()) return;
  w.write(bytes);
  commit(std::move(w));
}

void ScanContext::add_child(const Object& parent, ChildSpec spec, Blob bytes) {
  if (bytes.size() <= cfg_.limits.max_object_memory || bytes.spilled()) {
    if (!can_add_child(parent)) return;
    const Limits& l = cfg_.limits;
    std::uint64_t budget = l.max_extracted_bytes > extracted_bytes_ ? l.max_extracted_bytes - extracted_bytes_ : 0;
    if (bytes.size() <= std::min(budget, l.max_object_size)) {
      ++object_count_;
      extracted_bytes_ += bytes.size();
      pending_.push_back(make_child(parent, std::move(spec), std::move(bytes), false));
      return;
    }
  }
  add_child(parent, std::move(spec), bytes.view());
}

std::string ScanContext::unique_path(const Object& parent, const std::string& name) {
  std::string base = parent.path.empty() ? name : parent.path + "/" + name;
  int& uses = path_uses_[base];
  ++uses;
  if (uses == 1) return base;
  return base + "~" + std::to_string(uses);
}

namespace {

// The MIME type of an object whose module set its type (text bodies,
// derived text, embedded messages), which the engine then does not identify.
std::string set_type_mime(const std::string& type) {
  if (const TypeSpec* t = find_type(type); t && !t->mime.empty()) return std::string(t->mime);
  if (type == tag::html) return "text/html";
  if (type == tag::email) return "message/rfc822";
  if (type == tag::text || type == tag::vba_source || type == tag::xlm_formulas) return "text/plain";
  if (type == tag::binary) return "application/octet-stream";
  return {};
}

}  // namespace

std::unique_ptr<Object> ScanContext::make_child(const Object& parent, ChildSpec spec, Blob data,
                                                bool truncated) {
  auto obj = std::make_unique<Object>();
  obj->id = next_id_++;
  obj->parent = &parent;
  obj->name = clean_name(spec.name);
  if (obj->name.empty()) obj->name = "part-" + std::to_string(obj->id);
  obj->path = unique_path(parent, obj->name);
  obj->declared_type = std::move(spec.declared_type);
  obj->type = std::move(spec.type);
  if (!obj->type.empty()) obj->mime = set_type_mime(obj->type);
  obj->provenance = std::move(spec.provenance);
  obj->derived = spec.derived;
  obj->body = spec.body;
  obj->from_encrypted = spec.from_encrypted || parent.from_encrypted;
  obj->depth = parent.depth + 1;
  obj->truncated = truncated;
  obj->data = std::move(data);
  return obj;
}

}  // namespace emogate
