// The outbound incident report's data, gathered from the state store once
// and shown by `emogate incident report` (text, JSON) and by the web
// view's incidents page; and the unfreeze of an account, shared by
// `emogate account unfreeze` and the web view.
// Trusted input: the settings. Accounts, addresses, findings and hashes in
// the records came from mail: the callers escape them for their output.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emogate/config.h"
#include "state/store.h"

namespace emogate::outbound {

struct AccountReport {
  state::Incident incident;
  std::optional<state::FreezeRecord> frozen;  // frozen now
  std::uint64_t sent_last_hour = 0;
};

struct DomainCounts {
  std::uint64_t backscatter = 0, spoofed_sender = 0;
};

struct IncidentReport {
  std::int64_t now = 0, since = 0;
  std::vector<AccountReport> accounts;
  std::vector<state::AddressCount> addresses;
  std::map<std::string, DomainCounts> domains;  // by our domain
  std::uint64_t flagged = 0, frozen_now = 0, still_sending = 0;
};

// The incidents active since `since` (or the one of `account` when not
// empty), each with its freeze and its sending in the last hour, and the
// address counts; bounded by [outbound]. The store's status on failure.
state::Result<IncidentReport> gather_incidents(state::StateStore& store, const OutboundSettings& set,
                                               std::int64_t now, std::int64_t since, const std::string& account);

// Unfreezes `user` (normalised as account_of does) on behalf of `by`.
// True when it was frozen, false when it was not; the store's status on
// failure. `account` gets the normalised name.
state::Result<bool> unfreeze_account(state::StateStore& store, std::string_view user, std::string_view by,
                                     std::int64_t now, std::string* account = nullptr);

}  // namespace emogate::outbound
