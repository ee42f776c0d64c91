// Delivery-report parsing (dsn.h).
// Trusted input: none; the bounce is from anyone.
#include "formats/dsn/dsn.h"

#include <algorithm>
#include <set>

#include "common/text.h"
#include "formats/mime/base64.h"
#include "formats/mime/gmime_message.h"
#include "formats/sender/sender.h"

namespace emogate {

namespace {

constexpr std::size_t kMaxDiagnostic = 200;
constexpr std::size_t kMaxSenders = 8;
constexpr std::size_t kMaxQuotedBlocks = 4;  // quoted header blocks read per text part

struct Reader {
  const DsnLimits& lim;
  DeliveryReport& out;
  std::set<std::string> problems{};
  std::size_t parts = 0;
  bool report_type_dsn = false;      // multipart/report; report-type=delivery-status
  bool delivery_status = false;      // a delivery-status part was read
  bool original = false;             // the original (or its headers) is attached
  bool recipients_cut = false;
  bool ids_cut = false;
  std::vector<std::string> texts{};   // decoded text parts, for quoted headers
};

bool is_type(GMimeObject* obj, const char* type, const char* subtype) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  return ct && g_mime_content_type_is_type(ct, type, subtype);
}

void add_id(Reader& r, const char* id) {
  if (!id || !*id) return;
  auto& ids = r.out.message_ids;
  if (std::find(ids.begin(), ids.end(), id) != ids.end()) return;
  if (ids.size() >= r.lim.max_message_ids) {
    r.ids_cut = true;
    return;
  }
  ids.emplace_back(id);
}

void add_sender(Reader& r, const std::string& address) {
  std::string a = normalize_address(address);
  auto& s = r.out.senders;
  if (a.empty() || s.size() >= kMaxSenders || std::find(s.begin(), s.end(), a) != s.end()) return;
  s.push_back(std::move(a));
}

// The mailboxes of an address header's value ("<a@b>", "Name <a@b>, c@d").
void add_senders_from(Reader& r, const char* value) {
  if (!value || !*value) return;
  InternetAddressList* list = internet_address_list_parse(nullptr, value);
  if (!list) return;
  const int n = std::min(internet_address_list_length(list), static_cast<int>(kMaxSenders));
  for (int i = 0; i < n; ++i) {
    InternetAddress* a = internet_address_list_get_address(list, i);
    if (!INTERNET_ADDRESS_IS_MAILBOX(a)) continue;
    if (const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a))) add_sender(r, addr);
  }
  g_object_unref(list);
}

// The original message (attached whole, or only its headers).
void read_original(Reader& r, GMimeMessage* m) {
  if (!m) return;
  r.original = true;
  add_id(r, g_mime_message_get_message_id(m));
  GMimeObject* obj = GMIME_OBJECT(m);
  for (const char* h : {"From", "Sender", "Return-Path"}) add_senders_from(r, g_mime_object_get_header(obj, h));
}

// A block of header fields read by GMime's header parser: the fields with
// an empty body after them. `fn` gets the message GMime built.
template <class Fn>
void with_header_block(std::string_view block, Fn fn) {
  std::string text(block);
  text += "\r\n\r\n";
  std::set<std::string> ignored;  // "message without body" is what a block is
  ParsedMessage m(text, ignored);
  if (m.message()) fn(m.message());
}

std::string header(GMimeMessage* m, const char* name) {
  const char* v = g_mime_object_get_header(GMIME_OBJECT(m), name);
  if (!v) return {};
  std::string s(v);
  const std::size_t b = s.find_first_not_of(" \t\r\n");
  const std::size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// "rfc822; user@example.com" (or "dns; mx.example.com"): the part after the type.
std::string typed_value(const std::string& v) {
  const std::size_t semi = v.find(';');
  std::string s = semi == std::string::npos ? v : v.substr(semi + 1);
  s.erase(0, std::min(s.size(), s.find_first_not_of(" \t<")));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '>')) s.pop_back();
  return s;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

void add_recipient(Reader& r, DsnRecipient rcpt) {
  if (rcpt.final_recipient.empty()) return;
  if (r.out.recipients.size() >= r.lim.max_recipients) {
    r.recipients_cut = true;
    return;
  }
  r.out.recipients.push_back(std::move(rcpt));
}

// A header line ("Name: value") or the folded rest of one, once a quote
// prefix ("> ") is taken off.
std::string_view unquote(std::string_view line) {
  while (!line.empty() && line.front() == '>') {
    line.remove_prefix(1);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  }
  return line;
}
bool header_like(std::string_view line) {
  if (line.empty()) return false;
  if (line.front() == ' ' || line.front() == '\t') return line.find_first_not_of(" \t") != std::string_view::npos;
  const std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > 76) return false;
  return std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// The blocks of a delivery-status body, separated by blank lines, at most
// max_recipients + 1 (the per-message block, then one per recipient).
std::vector<std::string> status_blocks(Reader& r, std::string_view text) {
  std::vector<std::string> blocks(1);
  for (std::string_view line : lines_of(text)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      if (!blocks.back().empty()) {
        if (blocks.size() > r.lim.max_recipients + 1) {
          r.recipients_cut = true;
          break;
        }
        blocks.emplace_back();
      }
      continue;
    }
    blocks.back().append(line).append("\r\n");
  }
  if (blocks.back().empty()) blocks.pop_back();
  return blocks;
}

// Some gateways re-encode the per-recipient blocks and leave the part's
// own Content-Transfer-Encoding inside the per-message block: the next
// block is then base64 text, decoded here and split again.
std::string decode_base64_block(std::string_view block) {
  std::string out(Base64Decoder::max_output(block.size()), '\0');
  Base64Decoder d;
  std::size_t n = d.step(block, out.data());
  n += d.flush(out.data() + n);
  out.resize(n);
  return out;
}

void read_status_block(Reader& r, GMimeMessage* m, bool first) {
  if (first) r.out.reporting_mta = typed_value(header(m, "Reporting-MTA"));
  DsnRecipient rcpt;
  rcpt.final_recipient = normalize_address(typed_value(header(m, "Final-Recipient")));
  rcpt.original_recipient = normalize_address(typed_value(header(m, "Original-Recipient")));
  rcpt.action = ascii_lower(header(m, "Action"));
  rcpt.status = header(m, "Status").substr(0, 16);
  rcpt.diagnostic = header(m, "Diagnostic-Code").substr(0, kMaxDiagnostic);
  add_recipient(r, std::move(rcpt));
}

void read_delivery_status(Reader& r, std::string_view text) {
  r.delivery_status = true;
  std::vector<std::string> blocks = status_blocks(r, text);
  bool base64_next = false;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    std::vector<std::string> parts{blocks[i]};
    if (base64_next && !header_like(lines_of(blocks[i]).front())) parts = status_blocks(r, decode_base64_block(blocks[i]));
    base64_next = false;
    for (const std::string& b : parts)
      with_header_block(b, [&](GMimeMessage* m) {
        read_status_block(r, m, i == 0);
        // GMime files Content-* fields under the message's body part.
        GMimeObject* body = g_mime_message_get_mime_part(m);
        const char* cte = body ? g_mime_object_get_header(body, "Content-Transfer-Encoding") : nullptr;
        base64_next = cte && ascii_lower(cte).find("base64") != std::string::npos;
      });
  }
}

std::string read_leaf(Reader& r, GMimePart* part, const std::string& where) {
  std::string bytes;
  bool cut = false;
  decode_content(part, r.lim.max_text, [] { return false; }, where, r.problems, [&](std::string_view chunk) {
    if (bytes.size() + chunk.size() > r.lim.max_text) {
      bytes.append(chunk.substr(0, r.lim.max_text - bytes.size()));
      cut = true;
      return false;
    }
    bytes.append(chunk);
    return true;
  });
  if (cut) r.problems.insert(where + " is larger than max_text; read the first " + std::to_string(r.lim.max_text) + " bytes");
  return bytes;
}

void walk(GMimeObject* obj, Reader& r) {
  if (!obj) return;
  if (++r.parts > r.lim.max_parts) {
    if (r.parts == r.lim.max_parts + 1) r.problems.insert("more than " + std::to_string(r.lim.max_parts) + " MIME parts");
    return;
  }
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n && r.parts <= r.lim.max_parts; ++i) walk(g_mime_multipart_get_part(mp, i), r);
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    // The returned original; a bounce of a bounce is not followed further.
    read_original(r, g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj)));
  } else if (GMIME_IS_PART(obj)) {
    GMimePart* part = GMIME_PART(obj);
    if (is_type(obj, "message", "delivery-status") || is_type(obj, "message", "global-delivery-status")) {
      read_delivery_status(r, read_leaf(r, part, "delivery-status part"));
    } else if (is_type(obj, "text", "rfc822-headers") || is_type(obj, "message", "global-headers")) {
      std::string text = read_leaf(r, part, "rfc822-headers part");
      with_header_block(text, [&](GMimeMessage* m) { read_original(r, m); });
    } else if (is_type(obj, "text", "plain") || is_type(obj, "text", "*") || !g_mime_object_get_content_type(obj)) {
      if (r.texts.size() < 4) r.texts.push_back(read_leaf(r, part, "text part"));
    }
  }
}

// Header blocks quoted in a bounce's text: each around a "Message-ID:" line,
// from the first header-like line before it to the first line that is not.
void read_quoted_headers(Reader& r, std::string_view text) {
  std::vector<std::string_view> lines = lines_of(text);
  std::size_t blocks = 0;
  for (std::size_t i = 0; i < lines.size() && blocks < kMaxQuotedBlocks; ++i) {
    std::string_view l = unquote(lines[i]);
    l.remove_prefix(std::min(l.size(), l.find_first_not_of(" \t")));
    if (!istarts_with(l, "message-id:")) continue;
    std::size_t b = i, e = i + 1;
    while (b > 0 && header_like(unquote(lines[b - 1]))) --b;
    while (e < lines.size() && header_like(unquote(lines[e]))) ++e;
    std::string block;
    for (std::size_t k = b; k < e; ++k) {
      std::string_view u = unquote(lines[k]);
      if (k == i) u = l;  // the Message-ID line, indented in some bounces
      else if (k == b && (u.front() == ' ' || u.front() == '\t')) continue;  // a fold without its field
      block.append(u).append("\r\n");
    }
    with_header_block(block, [&](GMimeMessage* m) { read_original(r, m); });
    ++blocks;
    i = e;
  }
}

// qmail's "<user@example.com>:" lines name the failed recipients.
void read_qmail_recipients(Reader& r, std::string_view text) {
  for (std::string_view line : lines_of(text)) {
    if (line.size() < 5 || line.front() != '<' || !line.ends_with(">:")) continue;
    DsnRecipient rcpt;
    rcpt.final_recipient = normalize_address(line.substr(1, line.size() - 3));
    rcpt.action = "failed";
    add_recipient(r, std::move(rcpt));
  }
}

bool mailer_daemon(GMimeMessage* m) {
  InternetAddressList* from = g_mime_message_get_from(m);
  if (!from || internet_address_list_length(from) < 1) return false;
  InternetAddress* a = internet_address_list_get_address(from, 0);
  if (!INTERNET_ADDRESS_IS_MAILBOX(a)) return false;
  const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
  if (!addr) return false;
  std::string local = ascii_lower(addr);
  local = local.substr(0, local.find('@'));
  return local == "mailer-daemon" || local == "postmaster" || local == "mail-daemon";
}

// Subjects bounces carry, for a null-sender mail that is not from a mailer
// daemon address (an auto-reply also comes from the null sender).
bool bounce_subject(GMimeMessage* m) {
  const std::string s = ascii_lower(message_subject(m).value_or(""));
  for (const char* k : {"undeliver", "delivery status notification", "delivery failure", "failure notice",
                        "returned mail", "delivery failed", "delivery has failed", "non-delivery",
                        "could not be delivered", "配信不能", "配送不能", "配信エラー", "配送エラー",
                        "配信できません", "配送できません", "送信できませんでした"})
    if (s.find(k) != std::string::npos) return true;
  return false;
}

}  // namespace

DeliveryReport parse_delivery_report(std::string_view raw, const DsnLimits& limits, bool null_sender) {
  DeliveryReport out;
  Reader r{limits, out};
  HeaderGuardResult guarded = guard_headers(raw, limits.guard);
  for (const GuardOverflow& o : guard_overflows(guarded, limits.guard)) out.problems.push_back(o.detail);
  std::string_view text = guarded.rewritten ? std::string_view(guarded.text) : raw;
  ParsedMessage parsed(text, r.problems);
  GMimeMessage* m = parsed.message();
  if (m) {
    GMimeObject* body = parsed.body();
    if (body && is_type(body, "multipart", "report")) {
      const char* rt = g_mime_object_get_content_type_parameter(body, "report-type");
      r.report_type_dsn = rt && ascii_lower(rt) == "delivery-status";
    }
    walk(body, r);
    const char* failed = g_mime_object_get_header(GMIME_OBJECT(m), "X-Failed-Recipients");
    const bool daemon = mailer_daemon(m);
    if (r.report_type_dsn || r.delivery_status) {
      out.kind = BounceKind::dsn;
    } else if ((null_sender || daemon) && (daemon || failed || bounce_subject(m))) {
      out.kind = BounceKind::bounce;
    }
    if (out.kind == BounceKind::bounce) {
      if (failed) {
        InternetAddressList* list = internet_address_list_parse(nullptr, failed);
        const int n = list ? internet_address_list_length(list) : 0;
        for (int i = 0; i < n; ++i) {
          InternetAddress* a = internet_address_list_get_address(list, i);
          if (!INTERNET_ADDRESS_IS_MAILBOX(a)) continue;
          DsnRecipient rcpt;
          rcpt.final_recipient = normalize_address(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
          rcpt.action = "failed";
          add_recipient(r, std::move(rcpt));
        }
        if (list) g_object_unref(list);
      }
      for (const std::string& t : r.texts) {
        if (!r.original) read_quoted_headers(r, t);
        if (out.recipients.empty()) read_qmail_recipients(r, t);
      }
    } else if (out.kind == BounceKind::dsn && !r.original) {
      for (const std::string& t : r.texts) read_quoted_headers(r, t);
    }
    if (out.kind != BounceKind::none) {
      add_senders_from(r, g_mime_object_get_header(GMIME_OBJECT(m), "To"));
      if (out.kind == BounceKind::dsn && !r.delivery_status) r.problems.insert("delivery report without a delivery-status part");
      if (out.message_ids.empty()) r.problems.insert("no original Message-ID in the bounce");
    }
  }
  if (r.recipients_cut) r.problems.insert("more than " + std::to_string(limits.max_recipients) + " recipients");
  if (r.ids_cut) r.problems.insert("more than " + std::to_string(limits.max_message_ids) + " original Message-IDs");
  out.problems.insert(out.problems.end(), r.problems.begin(), r.problems.end());
  return out;
}

std::optional<std::string> local_sender(const DeliveryReport& report, const std::vector<std::string>& local_domains) {
  for (const std::string& s : report.senders)
    if (is_local_address(s, local_domains)) return s;
  return std::nullopt;
}

}  // namespace emogate
