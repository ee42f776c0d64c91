// libFuzzer target: delivery-report parsing (formats/dsn) on arbitrary
// bytes, with small limits so the cut paths run. Checks that every bound
// holds and that each recipient and sender is a normalised address.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/dsn/dsn.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  emogate::DsnLimits lim;
  lim.max_parts = 16;
  lim.max_recipients = 8;
  lim.max_message_ids = 4;
  lim.max_text = 64 << 10;
  lim.guard.max_headers = 200;
  lim.guard.max_boundaries = 64;
  for (bool null_sender : {false, true}) {
    emogate::DeliveryReport r = emogate::parse_delivery_report(in, lim, null_sender);
    if (r.recipients.size() > lim.max_recipients || r.message_ids.size() > lim.max_message_ids) std::abort();
    if (r.kind == emogate::BounceKind::none && !r.recipients.empty()) std::abort();
    for (const auto& rc : r.recipients)
      if (rc.final_recipient.find('@') == std::string::npos || rc.diagnostic.size() > 200) std::abort();
    for (const auto& s : r.senders)
      if (s.find('@') == std::string::npos) std::abort();
    (void)emogate::local_sender(r, {"example.co.jp"});
  }
  return 0;
}
