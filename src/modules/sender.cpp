// Sender module (type "email", the message itself only): the sender tricks
// a message shows without the state store, when ScanOptions::sender_checks
// asks for them. A display name that carries another address than From,
// and, given ScanOptions::local_domains and local_names, a colleague's name
// on an outside address; each is a `spoofed_sender` finding on the From
// header. Only the header block is parsed (through the header guard and
// GMime), so the cost does not grow with the attachments. Off by default:
// which mail is inbound, and which names are colleagues', is the caller's
// knowledge.
// Trusted input: none; the headers are the sender's.
#include <set>

#include "engine/context.h"
#include "engine/module.h"
#include "engine/sender_findings.h"
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
    SenderHeaders h = read_sender_headers(parsed.message(), 0);
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
