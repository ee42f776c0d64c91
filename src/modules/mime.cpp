// MIME stage (type "email"): parses a message with GMime 3 (through
// formats/mime) and turns it into child objects — each attachment, each text
// body (decoded to UTF-8), HTML reduced to text, uuencoded blocks found in
// bodies, and embedded message/rfc822 parts (which come back here as objects
// of their own, so nesting is bounded by the engine's depth limit). Text
// bodies and the Subject also go into the message text that later stages
// (the password miner) read. Input is hostile: parser warnings that signal
// evasion or breakage become one `malformed` finding; everything readable is
// still extracted.
// Trusted input: none.
#include <malloc.h>

#include <set>

#include "common/text.h"
#include "engine/context.h"
#include "engine/module.h"
#include "formats/mime/correlation_headers.h"
#include "formats/mime/gmime_message.h"
#include "formats/mime/header_guard.h"
#include "formats/mime/text_body.h"

namespace emogate {

namespace {

struct Walk {
  const Object& msg;
  ScanContext& ctx;
  std::uint64_t parts = 0;
  int body_no = 0;
  std::set<std::string> problems;
  bool stopped = false;

  bool decode(GMimePart* part, const std::string& where, const ChunkSink& sink,
              const DirectSink* direct = nullptr) {
    return decode_content(part, ctx.limits().max_object_size, [this] { return ctx.expired(); }, where, problems,
                          sink, direct);
  }
};

void handle_text_body(GMimePart* part, const std::string& mime_type, Walk& w) {
  ScanContext& ctx = w.ctx;
  const Limits& lim = ctx.limits();
  int no = ++w.body_no;
  bool html = mime_type == "text/html";
  std::string where = std::string(html ? "text/html" : "text/plain") + " part " + std::to_string(no);
  std::string bytes;
  bool complete = w.decode(part, where, [&](std::string_view chunk) {
    if (bytes.size() + chunk.size() > lim.max_object_size) return false;
    bytes.append(chunk);
    return true;
  });
  if (!complete && !ctx.expired())
    ctx.limit_hit(w.msg, "max_object_size", where + " is larger than the object size limit");
  TextBody body = read_text_body(bytes, part_charset(part), html, lim.max_object_size);

  ChildSpec spec;
  spec.declared_type = mime_type;
  spec.name = "body-" + std::to_string(no) + (html ? ".html" : ".txt");
  spec.type = html ? tag::html : tag::text;
  spec.provenance = where + " decoded to UTF-8";
  spec.body = true;
  ctx.add_text(TextPart{where, html ? body.html_text : body.utf8, html});
  ctx.add_child(w.msg, spec, body.utf8);
  if (html) {
    ChildSpec derived;
    derived.name = spec.name + ".txt";
    derived.type = tag::text;
    derived.derived = true;
    derived.provenance = where + " reduced to text";
    ctx.add_child(w.msg, std::move(derived), body.html_text);
  }
  for (UuBlock& b : body.uu) {
    if (!b.complete) w.problems.insert("unterminated uuencoded block in " + where);
    ChildSpec uu;
    uu.name = std::move(b.name);
    uu.declared_type = "application/octet-stream";
    uu.provenance = "uuencoded block in " + where;
    ctx.add_child(w.msg, std::move(uu), b.data);
  }
}

void handle_attachment(GMimePart* part, const LeafPart& leaf, Walk& w) {
  ChildSpec spec;
  spec.name = leaf.filename.empty() ? "part-" + std::to_string(w.parts) : leaf.filename;
  spec.declared_type = leaf.mime_type;
  ChildWriter child = w.ctx.begin_child(w.msg, spec);
  if (child.stopped()) return;
  child.expect(decoded_size_hint(part));
  // Base64 decodes straight into the attachment's buffer when it has room.
  const DirectSink direct{[&](std::size_t n) { return child.room(n); },
                          [&](std::size_t n) { return child.commit(n); }};
  w.decode(part, spec.name, [&](std::string_view chunk) { return child.write(chunk); }, &direct);
  w.ctx.commit(std::move(child));
}

void handle_message_part(GMimeMessagePart* mp, Walk& w) {
  auto inner = embedded_message(mp, "message-" + std::to_string(w.parts) + ".eml");
  if (!inner) return;
  ChildSpec spec;
  spec.name = std::move(inner->name);
  spec.declared_type = "message/rfc822";
  spec.type = tag::email;
  w.ctx.add_child(w.msg, std::move(spec), inner->bytes);
}

void walk(GMimeObject* obj, int depth, Walk& w) {
  if (!obj || w.stopped) return;
  const Limits& lim = w.ctx.limits();
  if (w.ctx.expired()) {
    w.stopped = true;
    return;
  }
  if (++w.parts > lim.max_mime_parts) {
    w.ctx.limit_hit(w.msg, "max_mime_parts", "more than " + std::to_string(lim.max_mime_parts) + " MIME parts");
    w.stopped = true;
    return;
  }
  if (depth > lim.max_mime_depth) {
    w.ctx.limit_hit(w.msg, "max_mime_depth", "multiparts nested deeper than " + std::to_string(lim.max_mime_depth));
    return;
  }
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n && !w.stopped; ++i) walk(g_mime_multipart_get_part(mp, i), depth + 1, w);
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    handle_message_part(GMIME_MESSAGE_PART(obj), w);
  } else if (GMIME_IS_PART(obj)) {
    LeafPart leaf = classify_part(GMIME_PART(obj));
    if (leaf.text_body) handle_text_body(GMIME_PART(obj), leaf.mime_type, w);
    else handle_attachment(GMIME_PART(obj), leaf, w);
  }
}

// The root message's From, Subject, To/Cc and Date, for correlating it
// with a later mail of the same sender (PPAP).
void record_correlation_headers(GMimeMessage* message, ScanContext& ctx) {
  CorrelationHeaders h = correlation_headers(message, ctx.limits().max_headers);
  PpapFacts& p = ctx.report().ppap;
  p.from = std::move(h.from);
  p.to = std::move(h.to);
  p.date = h.date;
  p.subject = message_subject(message).value_or("");
  const std::size_t lead = p.subject.find_first_not_of(" \t");
  p.subject.erase(0, lead == std::string::npos ? p.subject.size() : lead);
}

// When the parse was large enough that freeing it is worth a malloc_trim
// (which walks the heap: about a millisecond for a few hundred MB).
constexpr std::uint64_t kTrimAfterObjects = 20000;
constexpr std::size_t kTrimAfterBytes = 8u << 20;

class MimeExtractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "mime"; }
  std::vector<std::string> types() const override { return {tag::email}; }

  void run(const Object& msg, ScanContext& ctx) const override {
    const Limits& lim = ctx.limits();
    // GMime allocates per header and per part: bound both before it parses.
    HeaderGuardLimits hg{lim.max_headers, lim.max_header_size, lim.max_mime_parts * 2 + 16};
    HeaderGuardResult guard = guard_headers(msg.bytes(), hg);
    for (GuardOverflow& o : guard_overflows(guard, hg)) ctx.limit_hit(msg, o.setting, std::move(o.detail));
    std::string_view raw = guard.rewritten ? std::string_view(guard.text) : msg.bytes();

    Walk w{msg, ctx, 0, 0, {}, false};
    {
      ParsedMessage parsed(raw, w.problems);
      if (parsed.message()) {
        if (auto subject = message_subject(parsed.message())) ctx.add_text(TextPart{"Subject", *subject, false});
        if (msg.depth == 0) record_correlation_headers(parsed.message(), ctx);
        if (GMimeObject* body = parsed.body()) walk(body, 0, w);
      }
    }
    // GMime's objects for a large message are many small blocks that glibc
    // keeps in its free lists; hand the pages back so one such message does
    // not raise the daemon's footprint for good.
    if (w.parts + guard.fields > kTrimAfterObjects || raw.size() > kTrimAfterBytes) malloc_trim(0);

    if (!w.problems.empty()) ctx.add_finding(FindingType::malformed, msg, "MIME: " + join(w.problems, "; "));
  }
};

}  // namespace

std::unique_ptr<Module> make_mime_module() { return std::make_unique<MimeExtractor>(); }

}  // namespace emogate
