// The module interface. A module is one analysis step the engine runs on
// every object it accepts. There is one interface, not an "extractor" and a
// "detector": every module reads the object and may both report findings
// and hand back child objects through the same ScanContext (the VBA module
// reports vba_macro and returns module sources; the shortcut module reports
// dangerous_type and returns the command line as text; the ZIP module
// returns members and reports a damaged directory). Two interfaces would
// differ only in name, so what is declared instead is what really differs:
// when a module runs, its phase.
//  - inspect: judges the object as it is (type, rules, URLs, macro sheets,
//    shortcuts, Equation Editor objects). It may add derived children (a
//    command line, a decrypted stream).
//  - expand: opens a container into its parts (MIME, archives, OLE2
//    streams, VBA sources, RTF and OneNote objects, decrypted packages),
//    reporting what it meets on the way.
// On each object the engine runs every inspect module before any expand
// module, each phase in registry order, so findings on an object come
// before those about its parts and findings keep a stable order.
// No module recurses: children go back to the engine, which enforces depth,
// count, bytes and time in one place. Modules are stateless and shared
// between threads; per-scan state lives in the ScanContext. Verdict policy
// (allow-lists) is the engine's, not a module's.
// Trusted input: none (modules read attachment bytes).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "engine/object.h"
#include "engine/types.h"

namespace emogate {

class ScanContext;

enum class Phase { inspect, expand };

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;
  virtual Phase phase() const = 0;
  // Default: the object's true type is one of types(); "*" matches all.
  virtual bool accepts(const Object& obj) const;
  virtual std::vector<std::string> types() const = 0;
  virtual void run(const Object& obj, ScanContext& ctx) const = 0;
};

}  // namespace emogate
