// What both state-store backends share: names of codes and states, the
// checks a record passes before it is written, the freeze rule, the recipient list's stored
// form, and the factory that picks the backend [state] names.
// Trusted input: none (records come from mail); the settings are trusted.
#include "state/store.h"

#include <algorithm>
#include <array>
#include <unordered_set>

#include "state/redis_store.h"
#include "state/sqlite_store.h"

namespace emogate::state {

std::string_view to_string(Code c) {
  static constexpr std::array<std::string_view, 7> names = {"ok",        "unavailable", "limit",  "invalid",
                                                            "exists",    "not_found",   "corrupt"};
  return names[static_cast<std::size_t>(c)];
}

namespace {
constexpr std::array<std::string_view, 4> kStateNames = {"awaiting", "matched", "released", "timed_out"};
}

std::string_view to_string(PendingState s) { return kStateNames[static_cast<std::size_t>(s)]; }

std::optional<PendingState> parse_pending_state(std::string_view s) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == s) return static_cast<PendingState>(i);
  return std::nullopt;
}

bool valid_name(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '@' || c == '+' || c == '-';
  });
}

bool valid_record_id(std::string_view id) { return valid_name(id); }

Status check_record(const PendingRecord& r, std::string_view message, const PutBounds& b) {
  if (!valid_record_id(r.id)) return {Code::invalid, "record id must be 1-128 characters of [A-Za-z0-9._:@+-]"};
  if (r.sender_key.empty()) return {Code::invalid, "empty sender key"};
  if (r.recipients.empty()) return {Code::invalid, "no recipients"};
  for (const std::string& rc : r.recipients)
    if (rc.empty() || rc.find('\n') != std::string::npos)
      return {Code::invalid, "a recipient is empty or holds a newline"};
  if (r.expires_at < r.created_at) return {Code::invalid, "expires_at before created_at"};
  if (r.purge_at < r.expires_at) return {Code::invalid, "purge_at before expires_at"};
  if (b.max_message_bytes && message.size() > b.max_message_bytes)
    return {Code::limit, "held message of " + std::to_string(message.size()) + " bytes is over the bound of " +
                             std::to_string(b.max_message_bytes)};
  return {};
}

bool shares_recipient(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (const std::string& x : a)
    if (std::find(b.begin(), b.end(), x) != b.end()) return true;
  return false;
}

std::string join_recipients(const std::vector<std::string>& r) {
  std::string out;
  for (const std::string& x : r) {
    if (!out.empty()) out += '\n';
    out += x;
  }
  return out;
}

std::vector<std::string> split_recipients(std::string_view joined) {
  std::vector<std::string> out;
  while (!joined.empty()) {
    auto nl = joined.find('\n');
    out.emplace_back(joined.substr(0, nl));
    if (nl == std::string_view::npos) break;
    joined.remove_prefix(nl + 1);
  }
  return out;
}

std::string_view to_string(AddressEvent e) { return e == AddressEvent::backscatter ? "backscatter" : "spoofed_sender"; }

FreezeDecision decide_freeze(const FlagCounts& c, const OutboundSettings& s) {
  const std::string within = " within " + std::to_string(s.freeze_window_s) + "s";
  if (s.freeze_after_malicious && c.malicious >= s.freeze_after_malicious)
    return {true, std::to_string(c.malicious) + " malicious outbound message(s)" + within};
  if (s.freeze_after_suspicious && c.malicious + c.suspicious >= s.freeze_after_suspicious)
    return {true, std::to_string(c.malicious + c.suspicious) + " flagged outbound message(s)" + within};
  return {};
}

namespace {
bool line_list(const std::vector<std::string>& v, bool allow_empty_list) {
  if (v.empty()) return allow_empty_list;
  return std::none_of(v.begin(), v.end(), [](const std::string& x) { return x.empty() || x.find('\n') != std::string::npos; });
}
}  // namespace

Status check_account(std::string_view account) {
  if (account.empty() || account.find('\n') != std::string_view::npos) return {Code::invalid, "empty account or a newline in it"};
  return {};
}

Status check_outbound(const OutboundRecord& r) {
  if (r.message_id.empty() || r.message_id.size() > 998 || r.message_id.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
    return {Code::invalid, "Message-ID must be 1-998 bytes without CR, LF or NUL"};
  if (Status s = check_account(r.account); !s.ok()) return s;
  if (!line_list(r.recipients, false)) return {Code::invalid, "no recipients, or one empty or holding a newline"};
  if (!line_list(r.attachment_hashes, true) || r.queue_id.find('\n') != std::string::npos)
    return {Code::invalid, "an attachment hash is empty or holds a newline"};
  return {};
}

std::string logged_recipients(const OutboundRecord& r, const OutboundSettings& s) {
  const std::size_t n = std::min<std::size_t>(r.recipients.size(), s.max_log_recipients);
  return join_recipients(std::vector<std::string>(r.recipients.begin(), r.recipients.begin() + static_cast<std::ptrdiff_t>(n)));
}

std::uint64_t volume_recipient_cap(const OutboundSettings& s) { return std::uint64_t{s.max_recipients_per_hour} + 1; }

std::uint64_t volume_hash_rows(const OutboundSettings& s) {
  return std::uint64_t{std::max(s.max_recipients_per_hour, s.max_same_attachment_per_hour)} + 1;
}

std::uint64_t volume_thread_stop(const OutboundSettings& s) {
  return std::uint64_t{s.max_same_attachment_per_hour} + 1;
}

UnrelatedThreads::UnrelatedThreads(const std::vector<std::string>& recipients, std::uint64_t stop)
    : seen_(recipients.begin(), recipients.end()), stop_(std::max<std::uint64_t>(stop, 1)) {}

void UnrelatedThreads::add(const std::vector<std::string>& earlier) {
  if (done() || std::any_of(earlier.begin(), earlier.end(), [&](const std::string& x) { return seen_.count(x) != 0; }))
    return;
  ++threads_;
  seen_.insert(earlier.begin(), earlier.end());
}

Status check_flagged(const FlaggedMessage& m) {
  if (Status s = check_account(m.account); !s.ok()) return s;
  if (!line_list(m.recipients, true) || !line_list(m.findings, true) || !line_list(m.attachment_hashes, true) ||
      m.queue_id.find('\n') != std::string::npos)
    return {Code::invalid, "a recipient, finding or hash is empty or holds a newline"};
  return {};
}

Result<std::unique_ptr<StateStore>> open_state_store(const StateSettings& settings) {
  if (settings.backend == "sqlite") return open_sqlite_store(settings);
  if (settings.backend == "redis") return open_redis_store(settings);
  return Status{Code::invalid, "unknown state backend '" + settings.backend + "'"};
}

std::vector<std::string> check_state_store(const StateSettings& settings) {
  if (settings.backend == "sqlite") return check_sqlite_store(settings);
  if (settings.backend == "redis") return check_redis_store(settings);
  return {"unknown state backend '" + settings.backend + "'"};
}

}  // namespace emogate::state
