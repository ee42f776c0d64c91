// True-type identification: the signature checks of the type table
// (types.cpp) first, libmagic for the rest. Input is hostile: every check is bounds-checked and cheap (it runs
// on every object, including 600 MB padded files).
// Trusted input: none.
#include "engine/typing.h"

#include <magic.h>

#include <algorithm>

#include "common/bytes.h"
#include "common/text.h"
#include "engine/types.h"

namespace emogate {

namespace {

bool looks_like_html(std::string_view b) {
  std::string_view head = b.substr(0, std::min<std::size_t>(b.size(), 1024));
  std::string lower = ascii_lower(head);
  std::size_t i = lower.find_first_not_of(" \t\r\n\xef\xbb\xbf");
  if (i == std::string::npos) return false;
  std::string_view s = std::string_view(lower).substr(i);
  for (std::string_view tag : {"<!doctype html", "<html", "<head", "<body", "<meta", "<div", "<table",
                                "<p>", "<hta:", "<title", "<script", "<style", "<iframe", "<form"})
    if (s.starts_with(tag)) return true;
  return false;
}

// A saved message (.eml) sent as a file: a header block, ended by a blank
// line in the first 8 KB, whose lines are all fields or continuations and
// which names at least one field only mail has.
bool looks_like_email(std::string_view b) {
  std::string_view head = b.substr(0, std::min<std::size_t>(b.size(), 8 * 1024));
  int fields = 0;
  bool mail_field = false;
  std::size_t pos = 0;
  while (pos < head.size()) {
    std::size_t end = head.find('\n', pos);
    if (end == std::string_view::npos) break;
    std::string_view line = head.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.empty()) return fields >= 2 && mail_field;
    if (line[0] == ' ' || line[0] == '\t') {
      if (fields == 0) return false;
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    for (char c : line.substr(0, colon))
      if (c <= ' ' || c > '~') return false;
    ++fields;
    const std::string name = ascii_lower(line.substr(0, colon));
    for (std::string_view f : {"from", "received", "return-path", "message-id", "mime-version", "delivered-to"})
      if (name == f) mail_field = true;
  }
  return false;
}

struct MagicHandle {
  magic_t m = nullptr;
  MagicHandle() {
    m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF |
                   MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_CDF | MAGIC_ERROR);
    if (m && magic_load(m, nullptr) != 0) {
      magic_close(m);
      m = nullptr;
    }
  }
  ~MagicHandle() {
    if (m) magic_close(m);
  }
};

// libmagic handles are not thread-safe: one per thread.
std::string magic_of(std::string_view b, bool mime, bool soft = true) {
  thread_local MagicHandle mime_h;
  // Without the soft (database) tests libmagic still tells text encodings,
  // JSON and CSV apart, at a fiftieth of the cost on binary data.
  thread_local MagicHandle builtin_h = [] {
    MagicHandle h;
    if (h.m) magic_setflags(h.m, MAGIC_MIME_TYPE | MAGIC_NO_CHECK_SOFT | MAGIC_ERROR);
    return h;
  }();
  if (mime && !soft) {
    if (!builtin_h.m) return {};
    const char* r = magic_buffer(builtin_h.m, b.data(), std::min<std::size_t>(b.size(), 16 * 1024));
    return r ? std::string(r) : std::string();
  }
  thread_local MagicHandle desc_h = [] {
    MagicHandle h;
    if (h.m) magic_setflags(h.m, MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_TAR |
                                     MAGIC_NO_CHECK_CDF | MAGIC_ERROR);
    return h;
  }();
  magic_t m = mime ? mime_h.m : desc_h.m;
  if (!m) return {};
  // The first 16 KB are enough for every rule we rely on; scanning more
  // would make a padded file expensive.
  std::size_t n = std::min<std::size_t>(b.size(), 16 * 1024);
  const char* r = magic_buffer(m, b.data(), n);
  return r ? std::string(r) : std::string();
}

const char* image_mime(std::string_view b) {
  if (b.starts_with("\x89PNG")) return "image/png";
  if (b.starts_with("\xFF\xD8\xFF")) return "image/jpeg";
  if (b.starts_with("GIF8")) return "image/gif";
  if (b.starts_with("RIFF")) return "image/webp";
  return "image/tiff";
}

}  // namespace

TypeInfo identify(std::string_view bytes) {
  TypeInfo info;
  info.type = signature_type(bytes);
  if (!info.type.empty()) {
    if (info.type == tag::image) {
      info.mime = image_mime(bytes);
      return info;
    }
    if (const TypeSpec* spec = find_type(info.type); spec && !spec->mime.empty()) {
      info.mime = spec->mime;
      return info;
    }
    // Executables and disk images: libmagic's description names the
    // platform and subsystem, which the dangerous_type finding shows.
    info.mime = magic_of(bytes, true);
    info.magic = magic_of(bytes, false);
    return info;
  }
  // XML (OOXML parts, SVG, ...) is text to every detector; libmagic would
  // spend its regex tests to say the same.
  if (bytes.starts_with("<?xml ") || bytes.starts_with("\xEF\xBB\xBF<?xml ")) {
    info.type = tag::text;
    info.mime = "text/xml";
    return info;
  }
  // libmagic's built-in tests tell text (and its encoding, JSON, CSV) from
  // binary cheaply. Its rule database costs far more per object (regex
  // rules; figures in the README's Benchmarks) and would decide nothing the
  // engine acts on: the formats we parse or flag have signatures above, and
  // HTML and saved messages are recognised here.
  info.mime = magic_of(bytes, true, false);
  const bool html = looks_like_html(bytes);
  if (info.mime.starts_with("text/")) {
    if (html) info.mime = "text/html";
    else if (looks_like_email(bytes)) info.mime = "message/rfc822";
  }
  const std::string& m = info.mime;
  if (bytes.empty()) info.type = tag::empty;
  else if (html) info.type = tag::html;
  else if (m == "message/rfc822" || m == "message/news") info.type = tag::email;
  else if (m.starts_with("text/") || m == "application/json" || m == "application/javascript")
    info.type = tag::text;
  else if (m.starts_with("image/")) info.type = tag::image;
  else if (m == "application/x-iso9660-image") info.type = tag::iso;
  else info.type = tag::binary;
  return info;
}

}  // namespace emogate
