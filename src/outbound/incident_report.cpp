// Gathering the outbound incident report and unfreezing an account; see
// incident_report.h.
// Trusted input: the settings; the records are only copied here.
#include "outbound/incident_report.h"

#include "outbound/direction.h"

namespace emogate::outbound {

namespace {
constexpr std::int64_t kHour = 3600;
}

state::Result<IncidentReport> gather_incidents(state::StateStore& store, const OutboundSettings& set,
                                               std::int64_t now, std::int64_t since, const std::string& account) {
  IncidentReport r;
  r.now = now;
  r.since = since;
  std::vector<state::Incident> incidents;
  if (!account.empty()) {
    auto one = store.incidents().get(account_of(account, ""));
    if (!one.ok() && one.status().code() != state::Code::not_found) return one.status();
    if (one.ok()) incidents.push_back(std::move(*one));
  } else {
    auto all = store.incidents().list(since, set.max_incidents);
    if (!all.ok()) return all.status();
    incidents = std::move(*all);
  }
  for (state::Incident& i : incidents) {
    AccountReport a;
    auto frozen = store.freezes().is_frozen(i.account);
    if (!frozen.ok()) return frozen.status();
    a.frozen = *frozen;
    auto recent = store.outbound_log().by_account(i.account, now - kHour, set.max_log_entries);
    if (!recent.ok()) return recent.status();
    a.sent_last_hour = recent->size();
    r.flagged += i.messages;
    r.frozen_now += a.frozen ? 1 : 0;
    r.still_sending += a.sent_last_hour ? 1 : 0;
    a.incident = std::move(i);
    r.accounts.push_back(std::move(a));
  }
  // Per event: the addresses counted, and one "@domain" row per domain folded into.
  auto counts =
      store.incidents().counts(since, 2 * (std::size_t{set.max_counter_addresses} + set.local_domains.size()));
  if (!counts.ok()) return counts.status();
  r.addresses = std::move(*counts);
  for (const state::AddressCount& c : r.addresses) {
    DomainCounts& d = r.domains[domain_of(c.address)];
    (c.event == state::AddressEvent::backscatter ? d.backscatter : d.spoofed_sender) += c.count;
  }
  return r;
}

state::Result<bool> unfreeze_account(state::StateStore& store, std::string_view user, std::string_view by,
                                     std::int64_t now, std::string* account) {
  const std::string a = account_of(user, "");
  if (account) *account = a;
  return store.freezes().unfreeze(a, by, now);
}

}  // namespace emogate::outbound
