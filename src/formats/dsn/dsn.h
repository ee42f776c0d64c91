// Delivery reports: what a bounce says about the message it returns. Reads
// RFC 3464 delivery-status notifications (multipart/report;
// report-type=delivery-status, as Postfix, Sendmail, Exchange and Gmail send
// them) and the common bounces that are not RFC 3464 (qmail, Exim, old
// gateways: a null-sender mail from MAILER-DAEMON or postmaster with the
// original attached as message/rfc822 or text/rfc822-headers, or quoted in
// the body). It gives the original Message-ID(s), the recipients that
// failed (or were delayed), and the addresses the bounce names as the
// original sender (the original's From, Sender and Return-Path, then the
// bounce's own To), so a caller can ask "did we send this, and for whom is
// this backscatter". The message is read through GMime after the header
// guard has bounded it; fields of the delivery-status part and quoted
// header blocks are read by GMime's header parser too. Everything is
// bounded by DsnLimits; the parser never throws and returns its problems.
// Trusted input: none; the bounce is from anyone.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/mime/header_guard.h"

namespace emogate {

struct DsnRecipient {
  std::string final_recipient;     // addr-spec, lower-cased
  std::string original_recipient;  // addr-spec, lower-cased; often empty
  std::string action;              // "failed", "delayed", "delivered", "relayed", "expanded"; lower-cased
  std::string status;              // "5.1.1"
  std::string diagnostic;          // Diagnostic-Code, at most 200 bytes
};

enum class BounceKind {
  none,    // not a bounce
  dsn,     // multipart/report; report-type=delivery-status
  bounce,  // a bounce in another shape (null sender or mailer daemon, and a bounce marker)
};

struct DeliveryReport {
  BounceKind kind = BounceKind::none;
  std::string reporting_mta;               // Reporting-MTA without its "dns;" type
  std::vector<std::string> message_ids;    // the original's Message-IDs, without <>
  std::vector<DsnRecipient> recipients;    // per-recipient blocks, or X-Failed-Recipients / qmail lines
  std::vector<std::string> senders;        // addresses named as the original sender, lower-cased
  std::vector<std::string> problems;       // what could not be read, and limits that cut the reading
};

// The bounds of one parse. The caller passes its configured [limits]
// (max_mime_parts, max_headers, max_header_size, max_object_size) and
// [outbound] max_bounce_recipients and max_bounce_message_ids.
struct DsnLimits {
  std::size_t max_parts = 64;           // MIME parts walked
  std::size_t max_recipients = 100;     // recipients kept
  std::size_t max_message_ids = 16;     // original Message-IDs kept
  std::size_t max_text = 1 << 20;       // bytes of one decoded part read
  HeaderGuardLimits guard;              // the header guard before GMime
};

// `null_sender`: the envelope sender was <> (the MTA knows; a file does not).
DeliveryReport parse_delivery_report(std::string_view raw, const DsnLimits& limits, bool null_sender);

// The first of report.senders whose domain is one of `local_domains`: the
// local address this bounce is backscatter for. None when it names none.
std::optional<std::string> local_sender(const DeliveryReport& report, const std::vector<std::string>& local_domains);

}  // namespace emogate
