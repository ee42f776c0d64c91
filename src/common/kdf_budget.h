// Per-message budget of password key-derivation work, counted in hash
// rounds (one round = one iteration of the KDF's hash or HMAC: an Office
// spinCount step, a PBKDF2 iteration). Every password try that runs a KDF
// reserves its rounds here first; a try that does not fit is not made.
// ScanContext owns one per message, sized by [limits] max_kdf_rounds, so
// no mix of documents, archives and candidates can cost more. A future KDF
// must take its rounds from the same budget before it runs.
// Trusted input: none (the callers pass counts read from hostile files).
#pragma once

#include <cstdint>

namespace emogate {

class KdfBudget {
 public:
  explicit KdfBudget(std::uint64_t max_rounds = 0) : max_(max_rounds) {}
  // Reserves `rounds` for one try. False, with nothing taken, when they do
  // not fit in what is left; exhausted() then stays true.
  bool take(std::uint64_t rounds) {
    if (rounds > max_ - used_) {
      refused_ = true;
      return false;
    }
    used_ += rounds;
    return true;
  }
  bool exhausted() const { return refused_; }
  std::uint64_t used() const { return used_; }
  std::uint64_t max() const { return max_; }

 private:
  std::uint64_t max_;
  std::uint64_t used_ = 0;
  bool refused_ = false;
};

}  // namespace emogate
