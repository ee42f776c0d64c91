// Small helpers of Object and Module.
#include "engine/object.h"

#include <algorithm>

#include "engine/module.h"
#include "engine/types.h"

namespace emogate {

std::string Object::extension() const {
  auto slash = name.find_last_of("/\\");
  std::string_view base = slash == std::string::npos ? std::string_view(name)
                                                     : std::string_view(name).substr(slash + 1);
  auto dot = base.rfind('.');
  if (dot == std::string_view::npos || dot + 1 >= base.size()) return {};
  std::string ext(base.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool Module::accepts(const Object& obj) const {
  for (const std::string& t : types())
    if (t == tag::any || t == obj.type) return true;
  return false;
}

}  // namespace emogate
