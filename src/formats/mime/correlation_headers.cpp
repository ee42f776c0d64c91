// From, To/Cc and Date of a parsed message (correlation_headers.h).
// Trusted input: none.
#include "formats/mime/correlation_headers.h"

#include "common/text.h"

namespace emogate {
namespace {

// Mailboxes of one address list, groups flattened, up to `max` in `out`.
void add_mailboxes(InternetAddressList* list, std::vector<std::string>& out, std::size_t max) {
  if (!list) return;
  const int n = internet_address_list_length(list);
  for (int i = 0; i < n && out.size() < max; ++i) {
    InternetAddress* a = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(a)) {
      add_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), out, max);
    } else if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
      if (addr && *addr) out.push_back(ascii_lower(addr));
    }
  }
}

}  // namespace

CorrelationHeaders correlation_headers(GMimeMessage* message, std::size_t max_addresses) {
  CorrelationHeaders h;
  if (!message) return h;
  std::vector<std::string> from;
  add_mailboxes(g_mime_message_get_from(message), from, 1);
  if (!from.empty()) h.from = std::move(from.front());
  add_mailboxes(g_mime_message_get_to(message), h.to, max_addresses);
  add_mailboxes(g_mime_message_get_cc(message), h.to, max_addresses);
  if (GDateTime* d = g_mime_message_get_date(message)) h.date = g_date_time_to_unix(d);
  return h;
}

}  // namespace emogate
