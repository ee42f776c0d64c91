// message_passwords; see passwords.h.
// Trusted input: none.
#include "engine/passwords.h"

namespace emogate {

namespace {
struct MinedPasswords {
  bool ready = false;
  std::vector<PasswordCandidate> list;
};
}  // namespace

const std::vector<PasswordCandidate>& message_passwords(ScanContext& ctx) {
  auto& m = ctx.scratch<MinedPasswords>();
  if (!m.ready) {
    m.list = mine_passwords(ctx.text(), ctx.config().passwords.static_list, ctx.config().passwords.max_candidates);
    m.ready = true;
  }
  return m.list;
}

}  // namespace emogate
