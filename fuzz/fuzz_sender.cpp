// libFuzzer target: sender headers read from arbitrary bytes (GMime, the
// display-name decoding) and every sender-trick check on them. Checks that
// the Message-ID lists stay bounded and a trick always names its sender.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "formats/mime/gmime_message.h"
#include "formats/sender/sender.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string raw(reinterpret_cast<const char*>(data), size > (64u << 10) ? (64u << 10) : size);
  std::set<std::string> problems;
  emogate::ParsedMessage m(raw, problems);
  emogate::SenderHeaders h = emogate::read_sender_headers(m.message(), 8);
  if (h.in_reply_to.size() > 8 || h.references.size() > 8) std::abort();
  const std::vector<std::string> local = {"example.co.jp"};
  auto check = [&](const std::optional<emogate::SenderTrick>& t) {
    if (t && (t->sender != h.address || t->trick.empty() || t->header.empty())) std::abort();
  };
  check(emogate::display_name_address(h));
  check(emogate::colleague_name(h, local, [](std::string_view n) { return n.size() % 2 == 0; }));
  check(emogate::own_domain_from_outside(h, local, emogate::Arrival{}));
  emogate::ThreadCheck tc{local, true};
  tc.max_lookups = 4;
  check(emogate::thread_hijack(h, [](std::string_view id) -> std::optional<emogate::SentMessage> {
    if (id.size() % 3 != 0) return std::nullopt;
    return emogate::SentMessage{"u", {"partner@customer.example"}, 0};
  }, tc));
  return 0;
}
