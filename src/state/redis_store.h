// The Redis backend of the state store, shared by several mail hosts:
// records as hashes with TTLs, held messages as strings, sorted-set indexes,
// and every multi-key change as one Lua script so it is atomic.
// Trusted input: the settings; record values travel as binary-safe
// arguments, never as command text.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "state/store.h"

namespace emogate::state {

Result<std::unique_ptr<StateStore>> open_redis_store(const StateSettings& settings);
std::vector<std::string> check_redis_store(const StateSettings& settings);

}  // namespace emogate::state
