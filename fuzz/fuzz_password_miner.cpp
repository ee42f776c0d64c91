// Fuzz target: the password miner over arbitrary (not necessarily UTF-8)
// text, split into a Subject and a body, plus the follow-up-mail shapes,
// the encoders and the mask.
#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/passwords/miner.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::size_t cut = in.find('\n');
  std::vector<emogate::TextPart> parts = {{"Subject", in.substr(0, cut == std::string::npos ? 0 : cut), false},
                                          {"text/plain part 1", in, false}};
  auto cands = emogate::mine_passwords(parts, {"infected"}, 100);
  if (cands.size() > 100) __builtin_trap();
  for (const auto& c : cands) {
    emogate::password_encodings(c.password);
    emogate::mask_password(c.password);
  }
  // The follow-up-mail shapes (PPAP): bounded, and only plausible values.
  auto follow = emogate::mine_follow_up_passwords(parts, 20);
  if (follow.size() > 20) __builtin_trap();
  for (const auto& c : follow)
    if (c.password.size() < 4 || c.password.size() > 64) __builtin_trap();
  emogate::fold_width(in);
  return 0;
}
