// message_passwords; see passwords.h.
// Trusted input: none.
#include "engine/passwords.h"

#include <unordered_set>

namespace emogate {

namespace {
struct MinedPasswords {
  bool ready = false;
  std::vector<PasswordCandidate> external;
  std::vector<PasswordCandidate> list;
};
}  // namespace

const std::vector<PasswordCandidate>& message_passwords(ScanContext& ctx) {
  auto& m = ctx.scratch<MinedPasswords>();
  if (!m.ready) {
    m.list = mine_passwords(ctx.text(), ctx.config().passwords.static_list, ctx.config().passwords.max_candidates);
    if (!m.external.empty()) {
      std::unordered_set<std::string> seen;
      for (const auto& c : m.external) seen.insert(c.password);
      std::erase_if(m.list, [&](const PasswordCandidate& c) { return seen.count(c.password) > 0; });
      m.list.insert(m.list.begin(), m.external.begin(), m.external.end());
    }
    m.ready = true;
  }
  return m.list;
}

void set_external_passwords(ScanContext& ctx, const std::vector<SourcedPassword>& passwords) {
  auto& m = ctx.scratch<MinedPasswords>();
  for (const SourcedPassword& p : passwords)
    if (!p.password.empty()) m.external.push_back({p.password, p.source, 0});
}

}  // namespace emogate
