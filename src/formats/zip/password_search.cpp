// The password search over one ZIP's encrypted members (password_search.h).
// Trusted input: none.
#include "formats/zip/password_search.h"

#include "common/text.h"
#include "formats/zip/password.h"

namespace emogate::zip {

namespace {
// Candidates that failed for this many members are not tried on the rest:
// an archive normally has one password, and a thousand locked AES members
// must not cost a thousand candidate searches.
constexpr int kMaxFailedSearches = 2;
}  // namespace

Unlock PasswordSearch::find(const Entry& e, std::string_view archive, const Candidates& candidates,
                            KdfBudget& budget, const std::function<bool()>& stop, bool& searched_in_vain) {
  searched_in_vain = false;
  if (e.data_offset == 0 || e.data_offset > archive.size() || failed_searches_ >= kMaxFailedSearches) return {};
  std::string_view data = archive.substr(e.data_offset, e.compressed_size);
  // WinZip AES's 2-byte verifier lets one wrong password in 65,536
  // through (a candidate list of hundreds meets one in a few hundred
  // archives): one that passes it is taken only when the member's
  // authentication code agrees, or, for a deflated member whose code is
  // damaged, when its key decrypts a stream that inflates (libzip then
  // reports the damage). A stored member with a damaged code stays locked.
  const bool whole_aes = e.aes_strength != 0 && data.size() == e.compressed_size;
  const auto confirmed = [&](const std::string& bytes) {
    return !whole_aes || aes_authentication_ok(e, data, bytes, &budget) ||
           aes_prefix_inflates(e, data, bytes, &budget);
  };
  for (const auto& [u, members] : opened_)
    if (password_ok(e, data, u.bytes, &budget) && confirmed(u.bytes)) return u;
  for (const auto& c : candidates()) {
    if (stop() || budget.exhausted()) break;
    for (auto& enc : password_encodings(c.password))
      if (password_ok(e, data, enc, &budget) && confirmed(enc)) return Unlock{&c, std::move(enc)};
  }
  searched_in_vain = true;
  ++failed_searches_;
  return {};
}

void PasswordSearch::record_open(const Unlock& u, const std::string& member) {
  for (auto& [known, members] : opened_)
    if (known.bytes == u.bytes) {
      members.push_back(member);
      return;
    }
  opened_.push_back({u, {member}});
}

std::size_t PasswordSearch::opened_count() const {
  std::size_t n = 0;
  for (const auto& [u, members] : opened_) n += members.size();
  return n;
}

std::vector<std::string> PasswordSearch::opened_details(bool clear) const {
  std::vector<std::string> out;
  for (const auto& [u, members] : opened_) {
    const bool cp932 = u.bytes != u.candidate->password;
    out.push_back(std::to_string(members.size()) + " member(s) decrypted (" + join_capped(members, 20) +
                  ") with password " + (clear ? u.candidate->password : mask_password(u.candidate->password)) +
                  (cp932 ? " (as CP932 bytes)" : "") + " from " + u.candidate->source);
  }
  return out;
}

}  // namespace emogate::zip
