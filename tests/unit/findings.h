// The one way tests look up findings and objects in a Report: a finding of
// a type, optionally at an exact path, stopped by an exact limit
// (Finding::limit) and/or with a piece of human-readable detail text.
// Trusted input: the Report under test.
#pragma once

#include <string>
#include <string_view>

#include "emogate/report.h"

namespace emogate::test {

// What a test asks of a finding besides its type. Every member given must
// match; an empty member matches anything. Prefer path and limit (structured
// facts) to detail (human text).
struct FindingQuery {
  std::string_view path = {};    // exactly Finding::path
  std::string_view limit = {};   // exactly Finding::limit
  std::string_view detail = {};  // a substring of Finding::detail
};

// The first finding of type `t` that matches `q`, or null.
inline const Finding* find_finding(const Report& r, FindingType t, const FindingQuery& q = {}) {
  for (const Finding& f : r.findings)
    if (f.type == t && (q.path.empty() || f.path == q.path) && (q.limit.empty() || f.limit == q.limit) &&
        f.detail.find(q.detail) != std::string::npos)
      return &f;
  return nullptr;
}

inline bool has_finding(const Report& r, FindingType t, const FindingQuery& q = {}) {
  return find_finding(r, t, q) != nullptr;
}

inline const ObjectSummary* find_object(const Report& r, std::string_view path) {
  for (const ObjectSummary& o : r.objects)
    if (o.path == path) return &o;
  return nullptr;
}

inline std::string dump(const Report& r) { return to_json(r); }

}  // namespace emogate::test
