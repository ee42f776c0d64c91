// Small helpers of Object and Module.
// Trusted input: none.
#include "engine/object.h"

#include <algorithm>

#include "common/text.h"
#include "engine/module.h"
#include "engine/types.h"

namespace emogate {

std::string Object::extension() const {
  const std::string base = base_name(name);
  auto dot = base.rfind('.');
  if (dot == std::string::npos || dot + 1 >= base.size()) return {};
  return ascii_lower(std::string_view(base).substr(dot + 1));
}

bool Module::accepts(const Object& obj) const {
  for (const std::string& t : types())
    if (t == tag::any || t == obj.type) return true;
  return false;
}

}  // namespace emogate
