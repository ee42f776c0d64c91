// Sender module (type "email", the message itself only): the sender tricks
// a message shows without the state store, when ScanOptions::sender_checks
// asks for them. A display name that carries another address than From,
// and, given ScanOptions::local_domains and local_names, a colleague's name
// on an outside address; each is a `spoofed_sender` finding on the From
// header. It also reads, for the checks the milter makes with the state
// store after the scan (Report::sender), the From address, the newest
// In-Reply-To and References Message-IDs ([outbound] max_thread_lookups),
// and for a bounce (null sender, multipart/report, or a mailer-daemon
// From) what formats/dsn reads from it. Only the header block is parsed
// (through the header guard and GMime), so the cost does not grow with the
// attachments; a bounce is parsed whole once more. Off by default: which
// mail is inbound, and which names are colleagues', is the caller's
// knowledge.
// Trusted input: none; the headers are the sender's.
#include <set>

#include "common/text.h"
#include "engine/context.h"
#include "engine/module.h"
#include "engine/sender_findings.h"
#include "formats/dsn/dsn.h"
#include "formats/mime/gmime_message.h"
#include "formats/mime/header_guard.h"
#include "formats/sender/sender.h"

namespace emogate {

namespace {

// The header block of a message: up to and including the blank line.
std::string_view header_block(std::string_view raw) {
  for (std::size_t nl = raw.find('\n'); nl != std::string_view::npos; nl = raw.find('\n', nl + 1)) {
    std::size_t next = nl + 1;
    if (next < raw.size() && raw[next] == '\r') ++next;
    if (next < raw.size() && raw[next] == '\n') return raw.substr(0, next + 1);
  }
  return raw;
}

// Worth the bounce parser: a null envelope sender, a multipart/report, or
// mail from a mailer daemon (the parser decides what it is).
bool bounce_candidate(GMimeMessage* m, const SenderHeaders& h, const Envelope& env) {
  if (env.sender.empty()) return true;
  if (m && ascii_lower(header_value(GMIME_OBJECT(m), "Content-Type")).find("multipart/report") != std::string::npos)
    return true;
  const std::string local = h.address.substr(0, h.address.find('@'));
  return local == "mailer-daemon" || local == "postmaster" || local == "mail-daemon";
}

void read_bounce(const Object& msg, ScanContext& ctx, const SenderHeaders& h, GMimeMessage* head) {
  if (!bounce_candidate(head, h, ctx.envelope())) return;
  const Limits& lim = ctx.limits();
  DsnLimits dl;
  dl.max_parts = lim.max_mime_parts;
  dl.max_recipients = ctx.config().outbound.max_bounce_recipients;
  dl.max_message_ids = ctx.config().outbound.max_bounce_message_ids;
  dl.max_text = lim.max_object_size;
  dl.guard = HeaderGuardLimits{lim.max_headers, lim.max_header_size, lim.max_mime_parts * 2 + 16};
  DeliveryReport d = parse_delivery_report(msg.bytes(), dl, ctx.envelope().sender.empty());
  if (d.kind == BounceKind::none) return;
  SenderFacts& f = ctx.report().sender;
  f.bounce = true;
  f.bounced_ids = std::move(d.message_ids);
  f.bounced_for = local_sender(d, ctx.options().local_domains).value_or("");
  f.bounce_problems = std::move(d.problems);
}

class SenderModule : public Module {
 public:
  std::string_view name() const override { return "sender"; }
  Phase phase() const override { return Phase::inspect; }
  std::vector<std::string> types() const override { return {tag::email}; }

  void run(const Object& msg, ScanContext& ctx) const override {
    const ScanOptions& opts = ctx.options();
    if (msg.depth != 0 || !opts.sender_checks) return;
    const Limits& lim = ctx.limits();
    // The MIME module reports what the guard cuts; here it only bounds GMime.
    HeaderGuardLimits hg{lim.max_headers, lim.max_header_size, lim.max_mime_parts * 2 + 16};
    std::string_view head = header_block(msg.bytes());
    HeaderGuardResult guard = guard_headers(head, hg);
    std::string text(guard.rewritten ? std::string_view(guard.text) : head);
    text += "\r\n";
    std::set<std::string> problems;  // the MIME module reports the message's problems
    ParsedMessage parsed(text, problems);
    SenderHeaders h = read_sender_headers(parsed.message(), ctx.config().outbound.max_thread_lookups);
    SenderFacts& facts = ctx.report().sender;
    facts.from = h.address;
    facts.in_reply_to = h.in_reply_to;
    facts.references = h.references;
    read_bounce(msg, ctx, h, parsed.message());
    const Verdict v = ctx.config().baseline(FindingType::spoofed_sender);
    if (auto t = display_name_address(h)) ctx.report().findings.push_back(sender_finding(*t, v));
    if (!opts.local_names.empty() && !opts.local_domains.empty())
      if (auto t = colleague_name(h, opts.local_domains, name_list_lookup(opts.local_names)))
        ctx.report().findings.push_back(sender_finding(*t, v));
  }
};

}  // namespace

std::unique_ptr<Module> make_sender_module() { return std::make_unique<SenderModule>(); }

}  // namespace emogate
