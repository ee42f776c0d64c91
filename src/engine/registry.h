// The registry: which modules exist, and which services they need built
// from the config. Adding a format = its row in the type table
// (engine/types.cpp), one module file and one line in registry.cpp.
// Trusted input: the configuration (services are built from it).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "emogate/config.h"
#include "engine/module.h"
#include "engine/services.h"

namespace emogate {

struct Registry {
  std::vector<std::unique_ptr<Module>> modules;
};

// All built-in modules, in dispatch order within each phase.
const Registry& builtin_registry();

// Modules a test binary adds before the registry is first used (see
// tests/hooks); empty in the shipped binary.
using ModuleFactory = std::unique_ptr<Module> (*)();
std::vector<ModuleFactory>& test_modules();

// Builds the shared services for a config. Throws std::runtime_error when a
// required resource cannot load; pushes non-fatal problems to `warnings`.
void build_services(const Config& cfg, ServiceSet& out, std::vector<std::string>& warnings);

}  // namespace emogate
