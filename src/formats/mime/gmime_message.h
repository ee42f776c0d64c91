// A message parsed by GMime 3, and the engine-free reading of its parts:
// parser warnings sorted into the problems worth reporting, a leaf part's
// classification (text body or attachment) and file name, and its content
// transfer encoding decoded chunk by chunk. Nothing here knows the engine:
// limits come in as numbers, a deadline as a callback, problems go out as
// strings in a caller's set.
// Trusted input: none; the message is the sender's.
#pragma once

#include <gmime/gmime.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace emogate {

void gmime_init_once();

struct GObjectUnref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using GRef = std::unique_ptr<T, GObjectUnref>;

// One message parsed in place: the parser borrows `raw`, which must outlive
// this object. Parser warnings that signal evasion or breakage go into
// `problems` (which must outlive the parse too), so does a message GMime
// could not build or one without a body. Destruction frees GMime's objects
// in the order they depend on each other.
class ParsedMessage {
 public:
  ParsedMessage(std::string_view raw, std::set<std::string>& problems);
  ~ParsedMessage();
  ParsedMessage(const ParsedMessage&) = delete;
  ParsedMessage& operator=(const ParsedMessage&) = delete;
  GMimeMessage* message() const { return message_.get(); }
  GMimeObject* body() const;  // null without a message or a body

 private:
  GByteArray borrowed_;
  GMimeParserOptions* opts_ = nullptr;
  GRef<GMimeStream> stream_;
  GRef<GMimeParser> parser_;
  GRef<GMimeMessage> message_;
};

// A header's raw value as the sender wrote it (folds kept, nothing
// decoded); empty when the header is absent.
std::string header_value(GMimeObject* obj, const char* name);

// The Subject with its RFC 2047 words decoded; none when the header is
// absent or empty.
std::optional<std::string> message_subject(GMimeMessage* message);

// A leaf part as the MIME stage treats it: its lower-cased MIME type, its
// file name (parameter encoded words decoded) and whether it is a text body
// (text/plain or text/html, not a named attachment) rather than an attachment.
struct LeafPart {
  std::string mime_type;
  std::string filename;
  bool text_body = false;
};
LeafPart classify_part(GMimePart* part);

// The charset parameter of a part's Content-Type, empty without one.
std::string part_charset(GMimePart* part);

// An embedded message/rfc822 part written back out as bytes (valid while
// `stream` lives), with its file name or the caller's fallback name.
struct EmbeddedMessage {
  GRef<GMimeStream> stream;
  std::string_view bytes;
  std::string name;
};
// None when the part holds no message.
std::optional<EmbeddedMessage> embedded_message(GMimeMessagePart* mp, std::string fallback_name);

// Upper bound of a part's decoded size, from its encoded length.
std::uint64_t decoded_size_hint(GMimePart* part);

// Decodes a part's content transfer encoding chunk by chunk into `sink`
// (base64 with our one-pass decoder, quoted-printable with GMime's, an
// x-uuencode body from its first block, of at most `max_object_size` bytes).
// `expired` is asked between steps. Invalid base64 and broken uuencode are
// added to `problems`, naming `where`. Returns false when the sink stopped
// taking bytes or the deadline passed.
// `direct`, when given, lets base64 be decoded in place: `room(n)` gives
// space for up to n decoded bytes (or null: the sink then), `commit(m)`
// takes the m written there (false stops, as the sink's false does).
using ChunkSink = std::function<bool(std::string_view)>;
struct DirectSink {
  std::function<char*(std::size_t)> room;
  std::function<bool(std::size_t)> commit;
};
bool decode_content(GMimePart* part, std::uint64_t max_object_size, const std::function<bool()>& expired,
                    const std::string& where, std::set<std::string>& problems, const ChunkSink& sink,
                    const DirectSink* direct = nullptr);

}  // namespace emogate
