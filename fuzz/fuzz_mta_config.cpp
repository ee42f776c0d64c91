// libFuzzer target for the MTA configuration `emogate check` reads
// (config/postfix.h, config/sendmail.h): the input is split at the first
// NUL byte into main.cf and master.cf, and read whole as a sendmail.cf;
// parsing, `$name` expansion, milter lists, time values and the checks
// themselves must stay bounded and never crash.
#include <cstdint>
#include <string_view>

#include "config/postfix.h"
#include "config/sendmail.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = in.find('\0');
  const std::string_view main_cf = in.substr(0, nul);
  const std::string_view master_cf = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  for (const char* socket : {"unix:/var/spool/postfix/emogate/emogate.sock", "inet:7357@127.0.0.1", "inet:7357"}) {
    const mta::Milter ours{socket, 90500, 64u << 20};
    const mta::Report p = postfix::check_texts(main_cf, master_cf, "/etc/postfix", ours);
    if (p.reaching > p.candidates) __builtin_trap();
    const mta::Report s = sendmail::check_text(in, "/etc/mail/sendmail.cf", ours);
    if (s.reaching > s.candidates) __builtin_trap();
  }
  const postfix::MainCf params = postfix::parse_main_cf(main_cf);
  for (const auto& [name, s] : params) {
    if (postfix::expand(s.value, params).size() > postfix::kMaxValueBytes) __builtin_trap();
    for (const postfix::MilterEntry& e : postfix::parse_milter_list(s.value)) {
      (void)postfix::same_endpoint("unix:/x", e.address, true, s.value);
      (void)postfix::parse_seconds(e.address);
      (void)sendmail::parse_seconds(e.address, 's');
      (void)mta::parse_bytes(e.address);
    }
  }
  return 0;
}
