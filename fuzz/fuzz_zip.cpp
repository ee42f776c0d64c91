// Fuzz target: the ZIP walker. Our central-directory reader, the
// whole-member inflate and the password checks and search on the raw
// input, then the whole ZIP extractor (libzip, password
// search with a mail text taken from the input's tail, streaming, limits).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "formats/zip/directory.h"
#include "formats/zip/members.h"
#include "formats/zip/password.h"
#include "formats/zip/password_search.h"
#include "extractor_harness.h"

namespace emogate {
std::unique_ptr<Module> make_zip_module();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto dir = emogate::zip::read_directory(in, 1000);
  static const std::vector<emogate::PasswordCandidate> candidates = {{"infected", "fuzz", 0}, {"パス", "fuzz", 0}};
  emogate::KdfBudget budget(20000);
  emogate::zip::PasswordSearch search;
  for (const auto& e : dir.entries) {
    if (!e.encrypted()) {
      emogate::zip::inflate_whole(e, in, 1u << 20);
      continue;
    }
    bool in_vain = false;
    emogate::zip::Unlock u = search.find(
        e, in, [&]() -> const auto& { return candidates; }, budget, [] { return false; }, in_vain);
    if (u.candidate) search.record_open(u, e.name);
    if (!e.data_offset) continue;
    std::string_view body = in.substr(e.data_offset, e.compressed_size);
    emogate::zip::password_ok(e, body, "infected");
    emogate::zip::zipcrypto_password_ok(e, body, "1234", 1u << 16);
  }
  search.opened_details(false);
  static const auto zip = emogate::make_zip_module();
  std::string_view tail = in.substr(size > 64 ? size - 64 : 0);
  emogate::fuzz::run_module(*zip, in, emogate::tag::zip, tail);
  return 0;
}
