// Sender-trick checks on a message's sender headers (sender.h).
// Trusted input: none for the headers; the caller's lists and lookups.
#include "formats/sender/sender.h"

#include <algorithm>
#include <set>

#include "common/text.h"
#include "formats/mime/charset.h"
#include "formats/mime/gmime_message.h"
#include "formats/passwords/miner.h"

namespace emogate {

namespace {

// Relays name the original sender and then themselves: "taro via Dev",
// "'taro@example.com' via Group", "Taro (via Google Docs)".
bool says_via(std::string_view folded) {
  const std::string l = ascii_lower(folded);
  for (std::size_t at = l.find("via"); at != std::string::npos; at = l.find("via", at + 1)) {
    const bool before = at == 0 || l[at - 1] == ' ' || l[at - 1] == '(' || l[at - 1] == '\'' || l[at - 1] == '"';
    const bool after = at + 3 == l.size() || l[at + 3] == ' ';
    if (before && after) return true;
  }
  return false;
}

bool atext(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&*+/=?^_`{|}~.-").find(static_cast<char>(c)) != std::string_view::npos;
}
bool domain_ascii(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
// A domain worth calling an address: two labels or more, none empty.
bool plausible_domain(std::string_view d) {
  if (d.size() < 3 || d.find('.') == std::string_view::npos || d.find("..") != std::string_view::npos) return false;
  return d.front() != '.' && d.back() != '.';
}
std::string_view trim_domain(std::string_view d) {
  while (!d.empty() && (d.back() == '.' || d.back() == '-')) d.remove_suffix(1);
  return d;
}

// An address written in a display name, in the forms it could be compared
// in: the ASCII run after '@', and the run that continues into non-ASCII
// (an IDN domain, or Japanese text right after the address).
struct NamedAddress {
  std::vector<std::string> forms;  // normalised, most likely first
  std::string shown;               // as written (folded), for the finding
};

std::vector<NamedAddress> addresses_in(std::string_view folded, std::size_t max) {
  std::vector<NamedAddress> out;
  for (std::size_t at = folded.find('@'); at != std::string_view::npos && out.size() < max;
       at = folded.find('@', at + 1)) {
    std::size_t b = at;
    while (b > 0 && atext(static_cast<unsigned char>(folded[b - 1]))) --b;
    std::string_view local = folded.substr(b, at - b);
    while (!local.empty() && local.front() == '.') local.remove_prefix(1);
    if (local.empty()) continue;
    std::size_t e = at + 1;
    while (e < folded.size() && domain_ascii(static_cast<unsigned char>(folded[e]))) ++e;
    std::size_t wide = e;
    while (wide < folded.size() && (domain_ascii(static_cast<unsigned char>(folded[wide])) ||
                                    static_cast<unsigned char>(folded[wide]) >= 0x80))
      ++wide;
    NamedAddress a;
    for (std::size_t end : {e, wide}) {
      std::string_view dom = trim_domain(folded.substr(at + 1, end - at - 1));
      if (!plausible_domain(dom)) continue;
      std::string n = normalize_address(std::string(local) + "@" + std::string(dom));
      if (!n.empty() && std::find(a.forms.begin(), a.forms.end(), n) == a.forms.end()) a.forms.push_back(n);
      if (a.shown.empty()) a.shown = std::string(local) + "@" + std::string(dom);
    }
    if (a.forms.empty()) continue;
    // "ADDRESS via LIST": a relay naming whom it relays.
    std::string_view rest = folded.substr(wide);
    while (!rest.empty() && std::string_view(" '\")").find(rest.front()) != std::string_view::npos)
      rest.remove_prefix(1);
    if (istarts_with(rest, "via ")) continue;
    out.push_back(std::move(a));
  }
  return out;
}

std::string domain_of(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

std::string normalize_domain(std::string_view domain) { return domain_of(normalize_address("x@" + std::string(domain))); }

bool in_domain(std::string_view domain, std::string_view local) {
  if (local.empty() || domain.size() < local.size()) return false;
  if (domain == local) return true;
  return domain.size() > local.size() && domain.ends_with(local) && domain[domain.size() - local.size() - 1] == '.';
}

// The decoded display name: GMime decodes RFC 2047 words, but leaves raw
// ISO-2022-JP (7-bit escapes) and words in charsets iconv cannot convert
// (CP50221 extensions) as they are.
std::string display_name(InternetAddress* a) {
  const char* raw = internet_address_get_name(a);
  if (!raw || !*raw) return {};
  std::string name(raw);
  if (name.find('\x1b') != std::string::npos) return to_utf8(name, "iso-2022-jp");
  if (name.find("=?") != std::string::npos || !is_valid_utf8(name)) return decode_rfc2047(name);
  return name;
}

InternetAddressMailbox* first_mailbox(InternetAddressList* list, int depth) {
  if (!list || depth > 4) return nullptr;
  const int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* a = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(a)) return INTERNET_ADDRESS_MAILBOX(a);
    if (INTERNET_ADDRESS_IS_GROUP(a))
      if (auto* m = first_mailbox(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), depth + 1)) return m;
  }
  return nullptr;
}

std::vector<std::string> message_ids(GMimeMessage* message, const char* header, std::size_t max_ids) {
  std::vector<std::string> out;
  const char* text = g_mime_object_get_header(GMIME_OBJECT(message), header);
  if (!text || max_ids == 0) return out;
  GMimeReferences* refs = g_mime_references_parse(nullptr, text);
  if (!refs) return out;
  const int n = g_mime_references_length(refs);
  const int first = n > static_cast<int>(max_ids) ? n - static_cast<int>(max_ids) : 0;
  for (int i = first; i < n; ++i)
    if (const char* id = g_mime_references_get_message_id(refs, i); id && *id) out.emplace_back(id);
  g_mime_references_free(refs);
  return out;
}

SenderTrick trick(const char* kind, const char* header, const SenderHeaders& h, std::string claimed,
                  std::string detail) {
  return SenderTrick{kind, header, h.address, std::move(claimed), std::move(detail)};
}

}  // namespace

std::string normalize_address(std::string_view address) {
  gmime_init_once();
  const std::string a(address);
  if (a.find('@') == std::string::npos) return {};
  InternetAddress* box = internet_address_mailbox_new(nullptr, a.c_str());
  const char* idn = box ? internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(box)) : nullptr;
  std::string out = idn ? ascii_lower(idn) : std::string();
  if (box) g_object_unref(box);
  return out.find('@') == std::string::npos ? std::string() : out;
}

std::string normalize_display_name(std::string_view name) {
  std::string out;
  for (char c : fold_width(name))
    if (c != ' ' && c != '\t' && c != '"' && c != '\'') out += ascii_lower(c);
  return out;
}

bool is_local_address(std::string_view address, const std::vector<std::string>& local_domains) {
  const std::string d = domain_of(normalize_address(address));
  if (d.empty()) return false;
  return std::any_of(local_domains.begin(), local_domains.end(),
                     [&](const std::string& l) { return in_domain(d, normalize_domain(l)); });
}

SenderHeaders read_sender_headers(GMimeMessage* message, std::size_t max_ids) {
  SenderHeaders h;
  if (!message) return h;
  // A raw ISO-2022-JP name (escape sequences, no encoded word) confuses
  // GMime's address parser: such a From is decoded first, then parsed.
  InternetAddressList* decoded = nullptr;
  InternetAddressList* from = g_mime_message_get_from(message);
  if (std::string raw = header_value(GMIME_OBJECT(message), "From"); raw.find('\x1b') != std::string::npos)
    from = decoded = internet_address_list_parse(nullptr, to_utf8(raw, "iso-2022-jp").c_str());
  if (InternetAddressMailbox* m = first_mailbox(from, 0)) {
    h.display_name = display_name(INTERNET_ADDRESS(m));
    if (const char* addr = internet_address_mailbox_get_addr(m)) h.address = normalize_address(addr);
  }
  if (decoded) g_object_unref(decoded);
  h.in_reply_to = message_ids(message, "In-Reply-To", max_ids);
  h.references = message_ids(message, "References", max_ids);
  return h;
}

std::optional<SenderTrick> display_name_address(const SenderHeaders& h) {
  if (h.address.empty() || h.display_name.empty()) return std::nullopt;
  const std::string folded = fold_width(h.display_name);
  for (const NamedAddress& a : addresses_in(folded, 8)) {
    if (std::find(a.forms.begin(), a.forms.end(), h.address) != a.forms.end()) continue;
    return trick("display_name_address", "From", h, a.forms.front(),
                 "display name \"" + h.display_name + "\" shows " + a.shown + " but the mail is from " + h.address);
  }
  return std::nullopt;
}

NameLookup name_list_lookup(const std::vector<std::string>& names) {
  std::set<std::string, std::less<>> set;
  for (const std::string& n : names)
    if (std::string k = normalize_display_name(n); !k.empty()) set.insert(std::move(k));
  return [set = std::move(set)](std::string_view n) { return set.find(n) != set.end(); };
}

std::optional<SenderTrick> colleague_name(const SenderHeaders& h, const std::vector<std::string>& local_domains,
                                          const NameLookup& is_colleague) {
  if (!is_colleague || h.address.empty() || h.display_name.empty()) return std::nullopt;
  if (is_local_address(h.address, local_domains)) return std::nullopt;
  const std::string folded = fold_width(h.display_name);
  if (says_via(folded)) return std::nullopt;
  const std::string key = normalize_display_name(h.display_name);
  if (key.empty() || !is_colleague(key)) return std::nullopt;
  return trick("colleague_name", "From", h, h.display_name,
               "display name \"" + h.display_name + "\" is a colleague's, but the mail is from outside address " +
                   h.address);
}

std::optional<SenderTrick> own_domain_from_outside(const SenderHeaders& h,
                                                   const std::vector<std::string>& local_domains,
                                                   const Arrival& arrival) {
  if (arrival.authenticated || arrival.trusted_network) return std::nullopt;
  if (!is_local_address(h.address, local_domains)) return std::nullopt;
  return trick("own_domain_unauthenticated", "From", h, domain_of(h.address),
               "From " + h.address + " is in our domain " + domain_of(h.address) +
                   " but the mail came from outside without authentication");
}

std::optional<SenderTrick> thread_hijack(const SenderHeaders& h, const SentLookup& sent, const ThreadCheck& check) {
  if (!sent || h.address.empty() || !check.carries_attachment_or_link) return std::nullopt;
  if (is_local_address(h.address, check.local_domains)) return std::nullopt;
  // In-Reply-To first, then References newest first, each ID once.
  std::vector<std::pair<std::string, const char*>> ids;
  for (const std::string& id : h.in_reply_to) ids.emplace_back(id, "In-Reply-To");
  for (auto it = h.references.rbegin(); it != h.references.rend(); ++it) ids.emplace_back(*it, "References");
  std::set<std::string> asked;
  for (const auto& [id, header] : ids) {
    if (asked.size() >= check.max_lookups) break;
    if (!asked.insert(id).second) continue;
    std::optional<SentMessage> m = sent(id);
    if (!m) continue;
    if (m->recipients.empty()) return std::nullopt;  // nothing to compare with
    const std::string from_domain = domain_of(h.address);
    for (const std::string& r : m->recipients) {
      const std::string n = normalize_address(r);
      if (n == h.address) return std::nullopt;
      if (check.recipient_domain_is_enough && !n.empty() && domain_of(n) == from_domain) return std::nullopt;
    }
    return trick("thread_hijack", header, h, id,
                 "answers our message <" + id + "> (sent by " + m->account + " to " +
                     join_capped(m->recipients, 5) + ") from " + h.address +
                     ", which it was not sent to, and carries an attachment or a link");
  }
  return std::nullopt;
}

}  // namespace emogate
