// The engine: walks one message's object tree breadth-first, identifying
// each object's true type, dispatching it to the registered modules (inspect
// phase, then expand phase), and turning their findings into a verdict. Time and size
// limits are enforced here and in ScanContext.
// Trusted input: the configuration; none in objects.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "emogate/report.h"
#include "emogate/scanner.h"
#include "engine/object.h"
#include "engine/registry.h"
#include "engine/services.h"

namespace emogate {

// Everything a scan needs that is built once per configuration.
struct ScannerState {
  Config config;
  ServiceSet services;
  std::vector<std::string> warnings;
  const Registry* registry = nullptr;
};

Report run_scan(const ScannerState& state, std::unique_ptr<Object> root, const Envelope& env,
                std::string input, const ScanOptions& opts = {});

}  // namespace emogate
