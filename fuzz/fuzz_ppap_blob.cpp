// libFuzzer target: the PPAP pending blob parser (formats/passwords/ppap_blob.h)
// and the kind-tagged password checks it carries (lock_check.h: ZIP member
// checks, Office EncryptionInfo checks), which read bytes that come back
// from a shared store. Whatever parses must encode again to a blob that
// parses to the same thing (to the same bytes for the current version),
// and its checks must be tryable within a small key-derivation budget.
// Trusted input: none.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/passwords/ppap_blob.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate::ppap;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // One encoded lock alone (Report::ppap.locked carries these).
  if (auto lock = decode_lock(in)) {
    if (encode_lock(*lock) != in) std::abort();
    emogate::KdfBudget small(2000);
    (void)check_password(*lock, "x", small);
  }
  std::string error;
  auto blob = parse_ppap_blob(in, &error);
  if (!blob) return 0;
  auto again = encode_ppap_blob(*blob);
  if (!again) std::abort();
  if (in.size() > 3 && static_cast<std::uint8_t>(in[3]) == kPpapBlobVersion && *again != in) std::abort();
  auto back = parse_ppap_blob(*again);
  if (!back || !(*back == *blob)) std::abort();
  // AES and Office checks cost key-derivation rounds: a small budget bounds them.
  emogate::KdfBudget budget(2000);
  for (const auto& a : blob->archives)
    for (const auto& m : a.members) (void)check_password(m.check, "x", budget);
  return 0;
}
