// MIME stage (type "email"): parses a message with GMime 3 and turns it into
// child objects — each attachment, each text body (decoded to UTF-8), HTML
// reduced to text, uuencoded blocks found in bodies, and embedded
// message/rfc822 parts (which come back here as objects of their own, so
// nesting is bounded by the engine's depth limit). Text bodies and the
// Subject also go into the message text that later stages (the password
// miner) read. Input is hostile: parser warnings that signal evasion or
// breakage become one `malformed` finding; everything readable is still
// extracted.
// Trusted input: none.
#include <gmime/gmime.h>
#include <malloc.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "common/text.h"
#include "engine/context.h"
#include "engine/module.h"
#include "formats/mime/html_text.h"
#include "formats/mime/base64.h"
#include "formats/mime/charset.h"
#include "formats/mime/header_guard.h"
#include "formats/mime/uuencode.h"

namespace emogate {

namespace {

void gmime_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

template <class T>
struct GFree {
  void operator()(T* p) const { g_free(p); }
};
using GStr = std::unique_ptr<char, GFree<char>>;

struct ObjUnref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using GRef = std::unique_ptr<T, ObjUnref>;

// Parser warnings that mean the structure is broken or ambiguous (two
// Content-Type headers, a multipart without boundary...). Benign sloppiness
// common in real mail (duplicated headers, raw 8-bit headers) is not listed.
const char* warning_name(GMimeParserWarning w) {
  switch (w) {
    case GMIME_WARN_MALFORMED_MULTIPART: return "multipart without parts";
    case GMIME_WARN_TRUNCATED_MESSAGE: return "truncated message";
    case GMIME_WARN_MALFORMED_MESSAGE: return "malformed message";
    case GMIME_CRIT_INVALID_HEADER_NAME: return "invalid header name";
    case GMIME_CRIT_CONFLICTING_HEADER: return "conflicting headers";
    case GMIME_CRIT_CONFLICTING_PARAMETER: return "conflicting header parameters";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart without boundary";
    case GMIME_CRIT_NESTING_OVERFLOW: return "MIME nesting overflow";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "part without headers or content";
    case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid content type";
    default: return nullptr;
  }
}

struct Walk {
  const Object& msg;
  ScanContext& ctx;
  std::uint64_t parts = 0;
  int body_no = 0;
  int attach_no = 0;
  std::set<std::string> problems;
  bool stopped = false;
};

bool is_content_header(const char* name) {
  for (const char* h : {"Content-Type", "Content-Transfer-Encoding", "Content-Disposition"})
    if (g_ascii_strcasecmp(name, h) == 0) return true;
  return false;
}

void on_warning(gint64 offset, GMimeParserWarning code, const gchar* item, gpointer user) {
  auto* w = static_cast<Walk*>(user);
  // An mbox "From " separator line is harmless noise, not a header attack.
  if (code == GMIME_CRIT_INVALID_HEADER_NAME && item && g_str_has_prefix(item, "From ")) return;
  // A repeated To/Cc/Subject is common and harmless: GMime joins address
  // lists as most MUAs do, and nothing emogate decides reads them. Only a
  // repeated header that changes how the content is parsed is reported.
  if (code == GMIME_CRIT_CONFLICTING_HEADER) {
    if (!item || !is_content_header(item)) return;
    if (w->problems.size() < 20) w->problems.insert(std::string("conflicting ") + item + " headers");
    return;
  }
  if (const char* name = warning_name(code)) {
    if (w->problems.size() < 20) w->problems.insert(name);
  }
}

// Upper bound of a part's decoded size, from its encoded length.
std::uint64_t decoded_size_hint(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  GMimeStream* raw = content ? g_mime_data_wrapper_get_stream(content) : nullptr;
  if (!raw) return 0;
  gint64 len = g_mime_stream_length(raw);
  if (len <= 0) return 0;
  auto n = static_cast<std::uint64_t>(len);
  return g_mime_data_wrapper_get_encoding(content) == GMIME_CONTENT_ENCODING_BASE64 ? n / 4 * 3 : n;
}

// The bytes of a stream that is a window on memory (GMime's substreams of a
// memory stream share its array); a null view for any other stream.
std::string_view memory_window(GMimeStream* st) {
  if (!GMIME_IS_STREAM_MEM(st)) return {};
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(st));
  if (!arr) return {};
  gint64 start = st->bound_start, end = st->bound_end < 0 ? static_cast<gint64>(arr->len) : st->bound_end;
  if (start < 0 || end < start || end > static_cast<gint64>(arr->len)) return {};
  // In a CRLF message GMime takes two bytes off a part's last line even when
  // that line ends in a bare LF, losing its last character: a window that
  // ends just before "x\n" ends mid-line, so give the character back.
  if (end + 1 < static_cast<gint64>(arr->len) && arr->data[end + 1] == '\n' &&
      arr->data[end] != '\r' && arr->data[end] != '\n')
    ++end;
  if (end == start) return std::string_view("", 0);
  return std::string_view(reinterpret_cast<const char*>(arr->data) + start, static_cast<std::size_t>(end - start));
}

// Decodes a part's content transfer encoding chunk by chunk into `sink`;
// returns false when the sink stopped taking bytes.
template <class Sink>
bool decode_content(GMimePart* part, Walk& w, const std::string& where, Sink&& sink) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return true;
  GMimeStream* raw = g_mime_data_wrapper_get_stream(content);
  if (!raw) return true;
  GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(content);
  g_mime_stream_reset(raw);
  GMimeEncoding state;
  g_mime_encoding_init_decode(&state, enc);
  if (enc == GMIME_CONTENT_ENCODING_UUENCODE) {
    // GMime's uudecoder expects the "begin" line already stripped.
    std::string all;
    std::uint64_t cap = w.ctx.limits().max_object_size * 2;
    char buf[65536];
    ssize_t n;
    while (all.size() < cap && (n = g_mime_stream_read(raw, buf, sizeof(buf))) > 0) all.append(buf, static_cast<size_t>(n));
    auto blocks = find_uuencoded(all, 1, w.ctx.limits().max_object_size);
    if (blocks.empty()) {
      w.problems.insert("x-uuencode part without begin line in " + where);
      return true;
    }
    if (!blocks[0].complete) w.problems.insert("unterminated uuencoded block in " + where);
    return sink(std::string_view(blocks[0].data));
  }
  // Base64 (nearly all attachment bytes) goes through our one-pass decoder,
  // which also finds invalid characters; quoted-printable through GMime's.
  bool base64 = enc == GMIME_CONTENT_ENCODING_BASE64;
  bool qp = enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  Base64Decoder b64;
  std::string in, out;
  // The parser leaves each part's content as a window on the message's
  // memory stream: read it in place rather than copied out in chunks.
  std::string_view whole = memory_window(raw);
  if (whole.data() == nullptr) in.resize(64 * 1024);
  constexpr std::size_t kStep = 256 * 1024;  // the deadline is checked between steps
  while (true) {
    if (w.ctx.expired()) return false;
    std::string_view chunk;
    if (whole.data() != nullptr) {
      if (whole.empty()) break;
      chunk = whole.substr(0, kStep);
      whole.remove_prefix(chunk.size());
    } else {
      ssize_t n = g_mime_stream_read(raw, in.data(), in.size());
      if (n <= 0) break;
      chunk = std::string_view(in.data(), static_cast<size_t>(n));
    }
    if (base64) {
      out.resize(Base64Decoder::max_output(chunk.size()));
      if (!sink(std::string_view(out.data(), b64.step(chunk, out.data())))) return false;
    } else if (qp) {
      out.resize(g_mime_encoding_outlen(&state, chunk.size()) + 16);
      size_t m = g_mime_encoding_step(&state, chunk.data(), chunk.size(), out.data());
      if (!sink(std::string_view(out.data(), m))) return false;
    } else if (!sink(chunk)) {
      return false;
    }
  }
  out.resize(std::max<size_t>(g_mime_encoding_outlen(&state, 0) + 16, 4));
  size_t m = base64 ? b64.flush(out.data()) : qp ? g_mime_encoding_flush(&state, nullptr, 0, out.data()) : 0;
  if (m && !sink(std::string_view(out.data(), m))) return false;
  std::uint64_t bad_b64 = b64.invalid();
  if (bad_b64 > 0) w.problems.insert("invalid base64 in " + where);
  return true;
}

std::string header_value(GMimeObject* obj, const char* name) {
  GMimeHeaderList* list = g_mime_object_get_header_list(obj);
  if (!list) return {};
  GMimeHeader* h = g_mime_header_list_get_header(list, name);
  if (!h) return {};
  const char* raw = g_mime_header_get_raw_value(h);
  return raw ? std::string(raw) : std::string();
}

std::string part_filename(GMimePart* part) {
  const char* fn = g_mime_part_get_filename(part);
  if (!fn || !*fn) return {};
  std::string name(fn);
  // GMime leaves encoded words in parameters (a common RFC violation) and
  // cannot convert CP50221 extensions: decode those ourselves.
  if (name.find("=?") != std::string::npos || !is_valid_utf8(name)) name = decode_rfc2047(name);
  return name;
}

void handle_text_body(GMimePart* part, const std::string& mime_type, Walk& w) {
  ScanContext& ctx = w.ctx;
  const Limits& lim = ctx.limits();
  int no = ++w.body_no;
  bool html = mime_type == "text/html";
  std::string where = std::string(html ? "text/html" : "text/plain") + " part " + std::to_string(no);
  std::string bytes;
  bool complete = decode_content(part, w, where, [&](std::string_view chunk) {
    if (bytes.size() + chunk.size() > lim.max_object_size) return false;
    bytes.append(chunk);
    return true;
  });
  if (!complete && !ctx.expired())
    ctx.limit_hit(w.msg, "max_object_size", where + " is larger than the object size limit");
  GMimeContentType* ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
  const char* cs = ct ? g_mime_content_type_get_parameter(ct, "charset") : nullptr;
  std::string utf8 = to_utf8(bytes, cs ? cs : "");

  ChildSpec spec;
  spec.declared_type = mime_type;
  spec.name = "body-" + std::to_string(no) + (html ? ".html" : ".txt");
  spec.type = html ? tag::html : tag::text;
  spec.provenance = where + " decoded to UTF-8";
  if (html) {
    std::string text = html_to_text(utf8);
    ctx.add_text(TextPart{where, text, true});
    ctx.add_child(w.msg, spec, utf8);
    ChildSpec derived;
    derived.name = spec.name + ".txt";
    derived.type = tag::text;
    derived.derived = true;
    derived.provenance = where + " reduced to text";
    ctx.add_child(w.msg, std::move(derived), text);
  } else {
    ctx.add_text(TextPart{where, utf8, false});
    ctx.add_child(w.msg, spec, utf8);
  }
  if (utf8.find("begin ") != std::string::npos) {
    for (UuBlock& b : find_uuencoded(bytes, 64, lim.max_object_size)) {
      if (!b.complete) w.problems.insert("unterminated uuencoded block in " + where);
      ChildSpec uu;
      uu.name = to_utf8(b.name, cs ? cs : "");
      uu.declared_type = "application/octet-stream";
      uu.provenance = "uuencoded block in " + where;
      ctx.add_child(w.msg, std::move(uu), b.data);
    }
  }
}

void handle_attachment(GMimePart* part, const std::string& mime_type, Walk& w) {
  ScanContext& ctx = w.ctx;
  ++w.attach_no;
  std::string name = part_filename(part);
  ChildSpec spec;
  spec.name = name.empty() ? "part-" + std::to_string(w.parts) : name;
  spec.declared_type = mime_type;
  ChildWriter child = ctx.begin_child(w.msg, spec);
  if (child.stopped()) return;
  child.expect(decoded_size_hint(part));
  decode_content(part, w, spec.name, [&](std::string_view chunk) { return child.write(chunk); });
  ctx.commit(std::move(child));
}

void handle_message_part(GMimeMessagePart* mp, Walk& w) {
  GMimeMessage* inner = g_mime_message_part_get_message(mp);
  if (!inner) return;
  GRef<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, mem.get());
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  ChildSpec spec;
  const char* fn = g_mime_object_get_content_disposition_parameter(GMIME_OBJECT(mp), "filename");
  spec.name = fn && *fn ? decode_rfc2047(fn) : "message-" + std::to_string(w.parts) + ".eml";
  spec.declared_type = "message/rfc822";
  spec.type = tag::email;
  w.ctx.add_child(w.msg, std::move(spec),
                  std::string_view(reinterpret_cast<const char*>(arr->data), arr->len));
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
    return;
  }
  if (GMIME_IS_MESSAGE_PART(obj)) {
    handle_message_part(GMIME_MESSAGE_PART(obj), w);
    return;
  }
  if (!GMIME_IS_PART(obj)) return;
  GMimePart* part = GMIME_PART(obj);
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  GStr type(ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain"));
  const std::string mime_type = ascii_lower(type.get());
  const char* disp = g_mime_object_get_disposition(obj);
  bool attachment = disp && g_ascii_strcasecmp(disp, "attachment") == 0;
  bool text = mime_type == "text/plain" || mime_type == "text/html";
  if (text && !attachment && part_filename(part).empty()) handle_text_body(part, mime_type, w);
  else handle_attachment(part, mime_type, w);
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
    gmime_init_once();
    const Limits& lim = ctx.limits();
    // GMime allocates per header and per part: bound both before it parses.
    HeaderGuardLimits hg{lim.max_headers, lim.max_header_size, lim.max_mime_parts * 2 + 16};
    HeaderGuardResult guard = guard_headers(msg.bytes(), hg);
    if (guard.dropped_fields > 0)
      ctx.limit_hit(msg, "max_headers",
                    "more than " + std::to_string(lim.max_headers) + " header fields; " +
                        std::to_string(guard.dropped_fields) + " not parsed");
    if (guard.cut_fields > 0)
      ctx.limit_hit(msg, "max_header_size",
                    std::to_string(guard.cut_fields) + " header field(s) longer than " +
                        std::to_string(lim.max_header_size) + " bytes cut short");
    if (guard.boundaries_cut)
      ctx.limit_hit(msg, "max_mime_parts",
                    "more than " + std::to_string(hg.max_boundaries) +
                        " boundary lines; the message is parsed up to byte " + std::to_string(guard.cut_at));
    std::string_view raw = guard.rewritten ? std::string_view(guard.text) : msg.bytes();
    // GMime reads the caller's bytes in place: the stream borrows them.
    GByteArray borrowed{reinterpret_cast<guint8*>(const_cast<char*>(raw.data())),
                        static_cast<guint>(raw.size())};
    GRef<GMimeStream> stream(g_mime_stream_mem_new());
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(stream.get()), &borrowed);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream.get()), FALSE);

    Walk w{msg, ctx, 0, 0, 0, {}, false};
    GMimeParserOptions* opts = g_mime_parser_options_new();
    const char* fallback[] = {"UTF-8", "CP932", "EUC-JP-MS", "CP1252", nullptr};
    g_mime_parser_options_set_fallback_charsets(opts, fallback);
    g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_warning_callback(opts, on_warning, &w);
    GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    GRef<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), opts));
    if (!message) {
      w.problems.insert("no message could be parsed");
    } else {
      std::string subject = header_value(GMIME_OBJECT(message.get()), "Subject");
      if (!subject.empty()) ctx.add_text(TextPart{"Subject", decode_rfc2047(subject), false});
      GMimeObject* body = g_mime_message_get_mime_part(message.get());
      if (body) walk(body, 0, w);
      else w.problems.insert("message without body");
    }
    message.reset();
    parser.reset();
    stream.reset();
    g_mime_parser_options_free(opts);
    // GMime's objects for a large message are many small blocks that glibc
    // keeps in its free lists; hand the pages back so one such message does
    // not raise the daemon's footprint for good.
    if (w.parts + guard.fields > kTrimAfterObjects || raw.size() > kTrimAfterBytes) malloc_trim(0);

    if (!w.problems.empty()) {
      std::string detail;
      for (const std::string& p : w.problems) detail += (detail.empty() ? "" : "; ") + p;
      ctx.add_finding(FindingType::malformed, msg, "MIME: " + detail);
    }
  }
};

}  // namespace

std::unique_ptr<Module> make_mime_module() { return std::make_unique<MimeExtractor>(); }

}  // namespace emogate
