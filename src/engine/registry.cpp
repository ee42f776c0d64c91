// The module list. One line per module: the module's file defines the
// factory make_<name>_module in namespace emogate. The engine runs the
// inspect-phase modules on an object before the expand-phase ones, each
// phase in the order listed here (engine/module.h).
// Trusted input: the configuration (services are built from it).
#include "engine/registry.h"

namespace emogate {

#define EMOGATE_MODULE(name)                                \
  {                                                         \
    extern std::unique_ptr<Module> make_##name##_module();  \
    r.modules.push_back(make_##name##_module());            \
  }
#define EMOGATE_SERVICE(name)                                                      \
  {                                                                                \
    extern void build_##name(const Config&, ServiceSet&, std::vector<std::string>&); \
    build_##name(cfg, out, warnings);                                              \
  }

std::vector<ModuleFactory>& test_modules() {
  static std::vector<ModuleFactory> v;
  return v;
}

const Registry& builtin_registry() {
  static const Registry reg = [] {
    Registry r;
    // Inspect: the object as it is -> findings (and derived text).
    EMOGATE_MODULE(type)
    EMOGATE_MODULE(xlm)
    EMOGATE_MODULE(ooxml)
    EMOGATE_MODULE(lnk)
    EMOGATE_MODULE(equation)
    EMOGATE_MODULE(yara)
    EMOGATE_MODULE(url)
    EMOGATE_MODULE(sender)
    // Expand: a container -> its parts (and findings about them).
    EMOGATE_MODULE(mime)
    EMOGATE_MODULE(zip)
    EMOGATE_MODULE(libarchive)
    EMOGATE_MODULE(tnef)
    EMOGATE_MODULE(ole2)
    EMOGATE_MODULE(vba)
    EMOGATE_MODULE(ole2_encrypted)
    EMOGATE_MODULE(rtf)
    EMOGATE_MODULE(onenote)
    for (ModuleFactory f : test_modules()) r.modules.push_back(f());
    return r;
  }();
  return reg;
}

void build_services(const Config& cfg, ServiceSet& out, std::vector<std::string>& warnings) {
  EMOGATE_SERVICE(yara_rules)
  EMOGATE_SERVICE(url_intel)
}

}  // namespace emogate
