// The header facts that tie two mails of one sender together (PPAP: an
// encrypted archive in one mail, its password in the next): the From
// address, the To and Cc addresses, and the Date, read from a message GMime
// parsed. Addresses are lower-cased addr-specs; a header GMime cannot read
// gives nothing rather than a guess.
// Trusted input: none; the headers are the sender's.
#pragma once

#include <gmime/gmime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace emogate {

struct CorrelationHeaders {
  std::string from;             // first From mailbox
  std::vector<std::string> to;  // To and Cc mailboxes, at most max_addresses
  std::int64_t date = 0;        // Unix seconds; 0 = absent or unreadable
};

CorrelationHeaders correlation_headers(GMimeMessage* message, std::size_t max_addresses);

}  // namespace emogate
