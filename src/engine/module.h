// The two kinds of module. An Extractor turns an object into child objects;
// a Detector turns an object into findings. Neither recurses: children go
// back to the engine, which enforces depth, count, bytes and time in one
// place. Modules are stateless and shared between threads; per-scan state
// lives in the ScanContext.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "engine/object.h"
#include "engine/types.h"

namespace emogate {

class ScanContext;

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;
  // Default: the object's true type is one of types(); "*" matches all.
  virtual bool accepts(const Object& obj) const;
  virtual std::vector<std::string> types() const = 0;
};

class Extractor : public Module {
 public:
  virtual void extract(const Object& obj, ScanContext& ctx) const = 0;
};

class Detector : public Module {
 public:
  virtual void detect(const Object& obj, ScanContext& ctx) const = 0;
};

}  // namespace emogate
