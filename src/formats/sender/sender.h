// Sender tricks of Emotet-style mail, as pure checks on a message's sender
// headers: a display name that carries another address than the From
// address, a colleague's name on an outside address, our own domain arriving
// from outside without authentication, and a reply inside one of our threads
// from an address the thread never went to (thread hijack). The checks take
// plain facts (local domains, lookups, arrival facts) and never know the
// configuration or the state store; the caller turns a SenderTrick into a
// `spoofed_sender` finding. Display names are read through GMime (RFC 2047
// words, raw ISO-2022-JP and CP932 decoded) and folded like the password
// miner folds text (full-width ASCII, ideographic spaces).
// Trusted input: the local domains, names and lookups are the caller's; the
// headers are the sender's.
#pragma once

#include <gmime/gmime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emogate {

struct SenderHeaders {
  std::string display_name;              // first From mailbox's name, UTF-8; empty without one
  std::string address;                   // its addr-spec, IDN domain in ASCII, lower-cased
  std::vector<std::string> in_reply_to;  // Message-IDs without <>
  std::vector<std::string> references;   // the newest `max_ids`, in header order
};

// The sender headers of a parsed message; at most `max_ids` Message-IDs per
// header (the last ones of a long References).
SenderHeaders read_sender_headers(GMimeMessage* message, std::size_t max_ids);

// An addr-spec as the checks compare it: the domain IDN-encoded (through
// GMime), everything ASCII lower-cased. Empty when it is not an address.
std::string normalize_address(std::string_view address);

// A display name as colleague names are compared: width-folded, quotes and
// every space removed, ASCII lower-cased ("山田 太郎" and "山田　太郎" agree).
std::string normalize_display_name(std::string_view name);

// Whether the address's domain is one of `local_domains` or below one.
bool is_local_address(std::string_view address, const std::vector<std::string>& local_domains);

struct SenderTrick {
  std::string trick;    // "display_name_address", "colleague_name", "own_domain_unauthenticated", "thread_hijack"
  std::string header;   // where the evidence is: "From", "In-Reply-To" or "References"
  std::string sender;   // the From address
  std::string claimed;  // the display name's address, the colleague name, our domain, our Message-ID
  std::string detail;   // for people
};

// (a) The display name holds an address (ASCII or full-width, IDN or not)
// that is not the From address. A display name holding the From address
// itself, in any case, is not a trick, nor is a relay's "ADDRESS via LIST".
std::optional<SenderTrick> display_name_address(const SenderHeaders& h);

// (b) The From address is outside `local_domains` but its display name is a
// colleague's: `is_colleague` gets normalize_display_name's form. Names
// with "via" in them (Google Docs, mailing lists) are relays, not tricks.
using NameLookup = std::function<bool(std::string_view normalized_name)>;
std::optional<SenderTrick> colleague_name(const SenderHeaders& h, const std::vector<std::string>& local_domains,
                                          const NameLookup& is_colleague);
// A NameLookup over a fixed list of display names.
NameLookup name_list_lookup(const std::vector<std::string>& names);

// (c) The From address is in one of `local_domains` but the mail came from
// outside: neither an authenticated session nor a trusted client network.
struct Arrival {
  bool authenticated = false;    // SMTP AUTH (the milter's {auth_authen})
  bool trusted_network = false;  // client address in our networks
};
std::optional<SenderTrick> own_domain_from_outside(const SenderHeaders& h,
                                                   const std::vector<std::string>& local_domains,
                                                   const Arrival& arrival);

// (d) Thread hijack: In-Reply-To or References names a message we sent
// (`sent` answers for a Message-ID without <>), the From address was not
// one of its recipients, and the mail carries an attachment or a link.
// In-Reply-To is asked first, then References newest first, at most
// `max_lookups` IDs; the first one we sent decides. A From in our own
// domains is a colleague, not a hijack. With `recipient_domain_is_enough`,
// a From in the domain of one of the recipients also passes (a colleague of
// the partner joining the thread).
struct SentMessage {
  std::string account;                  // who sent it (SASL user or envelope sender)
  std::vector<std::string> recipients;  // envelope recipients
  std::int64_t time = 0;                // Unix seconds
};
using SentLookup = std::function<std::optional<SentMessage>(std::string_view message_id)>;
struct ThreadCheck {
  std::vector<std::string> local_domains;
  bool carries_attachment_or_link = false;
  bool recipient_domain_is_enough = false;
  std::size_t max_lookups = 20;
};
std::optional<SenderTrick> thread_hijack(const SenderHeaders& h, const SentLookup& sent, const ThreadCheck& check);

}  // namespace emogate
