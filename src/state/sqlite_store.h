// The SQLite backend of the state store: one database file on this host
// (WAL mode, synchronous=FULL, 0600), for a single mail host.
// Trusted input: the settings; record values are bound as parameters.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "state/store.h"

namespace emogate::state {

Result<std::unique_ptr<StateStore>> open_sqlite_store(const StateSettings& settings);
std::vector<std::string> check_sqlite_store(const StateSettings& settings);

}  // namespace emogate::state
