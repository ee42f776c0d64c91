// The password search over one ZIP's encrypted members: the password that
// opened an earlier member is tried first, then the message's candidates in
// rank order, each in its byte encodings, screened by the fast checks in
// password.h. After a few members no candidate opened, the rest are not
// searched (an archive normally has one password). Remembers which password
// opened which members, for the archive_decrypted details.
// Trusted input: none. Entries come from read_directory; candidates are
// the sender's text.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/kdf_budget.h"
#include "formats/passwords/miner.h"
#include "formats/zip/directory.h"

namespace emogate::zip {

struct Unlock {
  const PasswordCandidate* candidate = nullptr;  // null = not opened
  std::string bytes;  // the encoding that worked (UTF-8 or CP932)
};

class PasswordSearch {
 public:
  using Candidates = std::function<const std::vector<PasswordCandidate>&()>;

  // The password that opens `e` (data at e.data_offset in `archive`), or
  // none. `candidates` is asked only when a search runs; `stop` is polled
  // before each candidate. `searched_in_vain` is set when a search ran and
  // found nothing (budget.exhausted() then tells whether the key-derivation
  // budget cut it short).
  Unlock find(const Entry& e, std::string_view archive, const Candidates& candidates, KdfBudget& budget,
              const std::function<bool()>& stop, bool& searched_in_vain);

  // `member` was opened with `u`.
  void record_open(const Unlock& u, const std::string& member);

  std::size_t opened_count() const;

  // One line per password that opened members: "2 member(s) decrypted (a,
  // b) with password Ab***** from <source>"; the password in clear when
  // `clear`, else masked.
  std::vector<std::string> opened_details(bool clear) const;

 private:
  std::vector<std::pair<Unlock, std::vector<std::string>>> opened_;
  int failed_searches_ = 0;
};

}  // namespace emogate::zip
