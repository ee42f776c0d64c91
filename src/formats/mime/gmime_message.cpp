// GMime 3 message parsing and the engine-free reading of its parts.
// Trusted input: none; the message is the sender's.
#include "formats/mime/gmime_message.h"

#include <algorithm>
#include <mutex>

#include "common/text.h"
#include "formats/mime/base64.h"
#include "formats/mime/charset.h"
#include "formats/mime/uuencode.h"

namespace emogate {

namespace {

template <class T>
struct GFree {
  void operator()(T* p) const { g_free(p); }
};
using GStr = std::unique_ptr<char, GFree<char>>;

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

bool is_content_header(const char* name) {
  for (const char* h : {"Content-Type", "Content-Transfer-Encoding", "Content-Disposition"})
    if (g_ascii_strcasecmp(name, h) == 0) return true;
  return false;
}

void on_warning(gint64 offset, GMimeParserWarning code, const gchar* item, gpointer user) {
  auto* problems = static_cast<std::set<std::string>*>(user);
  // An mbox "From " separator line is harmless noise, not a header attack.
  if (code == GMIME_CRIT_INVALID_HEADER_NAME && item && g_str_has_prefix(item, "From ")) return;
  // A repeated To/Cc/Subject is common and harmless: GMime joins address
  // lists as most MUAs do, and nothing emogate decides reads them. Only a
  // repeated header that changes how the content is parsed is reported.
  if (code == GMIME_CRIT_CONFLICTING_HEADER) {
    if (!item || !is_content_header(item)) return;
    if (problems->size() < 20) problems->insert(std::string("conflicting ") + item + " headers");
    return;
  }
  if (const char* name = warning_name(code)) {
    if (problems->size() < 20) problems->insert(name);
  }
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

std::string part_filename(GMimePart* part) {
  const char* fn = g_mime_part_get_filename(part);
  if (!fn || !*fn) return {};
  std::string name(fn);
  // GMime leaves encoded words in parameters (a common RFC violation) and
  // cannot convert CP50221 extensions: decode those ourselves.
  if (name.find("=?") != std::string::npos || !is_valid_utf8(name)) name = decode_rfc2047(name);
  return name;
}

}  // namespace

std::string header_value(GMimeObject* obj, const char* name) {
  GMimeHeaderList* list = g_mime_object_get_header_list(obj);
  if (!list) return {};
  GMimeHeader* h = g_mime_header_list_get_header(list, name);
  if (!h) return {};
  const char* raw = g_mime_header_get_raw_value(h);
  return raw ? std::string(raw) : std::string();
}

void gmime_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

ParsedMessage::ParsedMessage(std::string_view raw, std::set<std::string>& problems)
    : borrowed_{reinterpret_cast<guint8*>(const_cast<char*>(raw.data())), static_cast<guint>(raw.size())} {
  gmime_init_once();
  // GMime reads the caller's bytes in place: the stream borrows them.
  stream_.reset(g_mime_stream_mem_new());
  g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(stream_.get()), &borrowed_);
  g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream_.get()), FALSE);
  opts_ = g_mime_parser_options_new();
  const char* fallback[] = {"UTF-8", "CP932", "EUC-JP-MS", "CP1252", nullptr};
  g_mime_parser_options_set_fallback_charsets(opts_, fallback);
  g_mime_parser_options_set_rfc2047_compliance_mode(opts_, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(opts_, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_warning_callback(opts_, on_warning, &problems);
  parser_.reset(g_mime_parser_new_with_stream(stream_.get()));
  g_mime_parser_set_format(parser_.get(), GMIME_FORMAT_MESSAGE);
  message_.reset(g_mime_parser_construct_message(parser_.get(), opts_));
  if (!message_) problems.insert("no message could be parsed");
  else if (!g_mime_message_get_mime_part(message_.get())) problems.insert("message without body");
}

ParsedMessage::~ParsedMessage() {
  message_.reset();
  parser_.reset();
  stream_.reset();
  g_mime_parser_options_free(opts_);
}

GMimeObject* ParsedMessage::body() const {
  return message_ ? g_mime_message_get_mime_part(message_.get()) : nullptr;
}

std::optional<std::string> message_subject(GMimeMessage* message) {
  std::string subject = header_value(GMIME_OBJECT(message), "Subject");
  if (subject.empty()) return std::nullopt;
  return decode_rfc2047(subject);
}

LeafPart classify_part(GMimePart* part) {
  GMimeObject* obj = GMIME_OBJECT(part);
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  GStr type(ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain"));
  LeafPart leaf{ascii_lower(type.get()), part_filename(part), false};
  const char* disp = g_mime_object_get_disposition(obj);
  bool attachment = disp && g_ascii_strcasecmp(disp, "attachment") == 0;
  bool text = leaf.mime_type == "text/plain" || leaf.mime_type == "text/html";
  leaf.text_body = text && !attachment && leaf.filename.empty();
  return leaf;
}

std::string part_charset(GMimePart* part) {
  GMimeContentType* ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
  const char* cs = ct ? g_mime_content_type_get_parameter(ct, "charset") : nullptr;
  return cs ? cs : "";
}

std::optional<EmbeddedMessage> embedded_message(GMimeMessagePart* mp, std::string fallback_name) {
  GMimeMessage* inner = g_mime_message_part_get_message(mp);
  if (!inner) return std::nullopt;
  EmbeddedMessage out;
  out.stream.reset(g_mime_stream_mem_new());
  g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, out.stream.get());
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.stream.get()));
  out.bytes = std::string_view(reinterpret_cast<const char*>(arr->data), arr->len);
  const char* fn = g_mime_object_get_content_disposition_parameter(GMIME_OBJECT(mp), "filename");
  out.name = fn && *fn ? decode_rfc2047(fn) : std::move(fallback_name);
  return out;
}

std::uint64_t decoded_size_hint(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  GMimeStream* raw = content ? g_mime_data_wrapper_get_stream(content) : nullptr;
  if (!raw) return 0;
  gint64 len = g_mime_stream_length(raw);
  if (len <= 0) return 0;
  auto n = static_cast<std::uint64_t>(len);
  return g_mime_data_wrapper_get_encoding(content) == GMIME_CONTENT_ENCODING_BASE64 ? n / 4 * 3 : n;
}

bool decode_content(GMimePart* part, std::uint64_t max_object_size, const std::function<bool()>& expired,
                    const std::string& where, std::set<std::string>& problems, const ChunkSink& sink,
                    const DirectSink* direct) {
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
    std::uint64_t cap = max_object_size * 2;
    char buf[65536];
    ssize_t n;
    while (all.size() < cap && (n = g_mime_stream_read(raw, buf, sizeof(buf))) > 0) all.append(buf, static_cast<size_t>(n));
    auto blocks = find_uuencoded(all, 1, max_object_size);
    if (blocks.empty()) {
      problems.insert("x-uuencode part without begin line in " + where);
      return true;
    }
    if (!blocks[0].complete) problems.insert("unterminated uuencoded block in " + where);
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
    if (expired()) return false;
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
      const std::size_t most = Base64Decoder::max_output(chunk.size());
      if (char* at = direct ? direct->room(most) : nullptr) {
        if (!direct->commit(b64.step(chunk, at))) return false;
        continue;
      }
      out.resize(most);
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
  if (b64.invalid() > 0) problems.insert("invalid base64 in " + where);
  return true;
}

}  // namespace emogate
