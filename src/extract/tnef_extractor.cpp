// TNEF (winmail.dat, application/ms-tnef) through libytnef: each attached
// file becomes a child, and the compressed RTF body becomes "body.rtf"
// (RTF carries exploits and embedded objects too).
// Trusted input: none. libytnef allocates each attribute from its declared
// length and prints to stdout when a length or checksum is wrong, so the
// attribute stream (MS-OXTNEF 2.1.3.1) is walked and checked here first and
// only its valid prefix is handed over. The RTF body's declared size is
// checked against the object size limit before libytnef allocates it.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

extern "C" {  // libytnef's headers are plain C without linkage guards
#include <ytnef.h>
}

#include "engine/context.h"
#include "engine/module.h"
#include "extract/member_name.h"

namespace emogate {
namespace {

std::string_view view(const variableLength* v) {
  if (!v || v == MAPI_UNDEFINED || !v->data || v->size <= 0) return {};
  return {reinterpret_cast<const char*>(v->data), static_cast<std::size_t>(v->size)};
}

std::string attachment_name(Attachment* p) {
  std::string_view n = view(MAPIFindProperty(&p->MAPI, PROP_TAG(PT_STRING8, PR_ATTACH_LONG_FILENAME)));
  if (n.empty()) n = view(&p->Title);
  while (!n.empty() && n.back() == '\0') n.remove_suffix(1);
  return std::string(n);
}

std::uint32_t le(std::string_view d, std::size_t at, int n) {
  std::uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(d[at + static_cast<std::size_t>(i)]);
  return v;
}

std::string hex(std::uint32_t v) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (int shift = 28; shift >= 0; shift -= 4) out += digits[(v >> shift) & 15];
  return out;
}

// The attribute stream (signature, key, then level(1) id(4) length(4) data
// checksum(2) records) rebuilt from its well-formed records only: libytnef
// allocates each record from its declared length, prints to stdout and
// gives up on a bad one, and leaks the first copy of a repeated one. A
// record that runs past the end or fails its checksum (sum of the data
// bytes, modulo 65536) ends the stream; an empty record, a repeat within
// the message or one attachment, or an attachment record before the
// attAttachRendData that opens an attachment (MS-OXTNEF) is dropped.
std::string clean_stream(std::string_view d, std::vector<std::string>& problems) {
  constexpr std::uint32_t kAttachRendData = 0x00069002;
  if (d.size() < 6 || le(d, 0, 4) != 0x223E9F78) {
    problems.push_back("no TNEF signature");
    return {};
  }
  std::string out(d.substr(0, 6));
  std::set<std::pair<int, std::uint32_t>> seen;  // (scope, attribute id)
  int scope = 0;                                 // 0 = message, n = attachment n
  auto drop = [&](const std::string& why, std::size_t at) {
    if (problems.size() < 8) problems.push_back(why + " at offset " + std::to_string(at) + " dropped");
  };
  std::size_t pos = 6;
  while (pos < d.size()) {
    if (d.size() - pos < 11) { problems.push_back("attribute header cut short"); break; }
    std::uint32_t id = le(d, pos + 1, 4), len = le(d, pos + 5, 4);
    int level = static_cast<unsigned char>(d[pos]);
    if (len > d.size() - pos - 11) {
      problems.push_back("attribute at offset " + std::to_string(pos) + " declares " + std::to_string(len) + " bytes");
      break;
    }
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < len; ++i) sum += static_cast<unsigned char>(d[pos + 9 + i]);
    if ((sum & 0xFFFF) != le(d, pos + 9 + len, 2)) {
      problems.push_back("attribute at offset " + std::to_string(pos) + " fails its checksum");
      break;
    }
    std::size_t record = pos;
    pos += 11 + len;
    if (level == 2 && id == kAttachRendData) ++scope;
    if (len == 0) continue;  // legal but empty; libytnef rejects it
    if (level == 2 && scope == 0) { drop("attachment attribute 0x" + hex(id) + " before attAttachRendData", record); continue; }
    if (!seen.insert({level == 2 ? scope : 0, id}).second) { drop("repeated attribute 0x" + hex(id), record); continue; }
    out.append(d.substr(record, 11 + len));
  }
  return out;
}

void add_rtf_body(const Object& obj, ScanContext& ctx, TNEFStruct& t) {
  variableLength* rtf = MAPIFindProperty(&t.MapiProperties, PROP_TAG(PT_BINARY, PR_RTF_COMPRESSED));
  std::string_view packed = view(rtf);
  if (packed.size() < 16 || !ctx.can_add_child(obj)) return;
  std::uint32_t raw_size = 0;
  std::memcpy(&raw_size, packed.data() + 4, 4);  // little-endian header field
  if (raw_size > ctx.limits().max_object_size) {
    ctx.limit_hit(obj, "max_object_size", "TNEF RTF body declares " + std::to_string(raw_size) + " bytes");
    return;
  }
  int size = 0;
  BYTE* body = DecompressRTF(rtf, &size);
  if (!body) return;
  ChildSpec spec;
  spec.name = "body.rtf";
  spec.compressed_size = packed.size();
  ctx.add_child(obj, std::move(spec), std::string_view(reinterpret_cast<char*>(body), size > 0 ? size : 0));
  free(body);
}

// The HTML body (PR_BODY_HTML), stored as binary or as an 8-bit string.
void add_html_body(const Object& obj, ScanContext& ctx, TNEFStruct& t) {
  std::string_view html = view(MAPIFindProperty(&t.MapiProperties, PROP_TAG(PT_BINARY, PR_BODY_HTML)));
  if (html.empty()) html = view(MAPIFindProperty(&t.MapiProperties, PROP_TAG(PT_STRING8, PR_BODY_HTML)));
  if (html.empty() || !ctx.can_add_child(obj)) return;
  ChildSpec spec;
  spec.name = "body.html";
  ctx.add_child(obj, std::move(spec), html);
}

class TnefExtractor : public Extractor {
 public:
  std::string_view name() const override { return "tnef"; }
  std::vector<std::string> types() const override { return {"tnef"}; }
  void extract(const Object& obj, ScanContext& ctx) const override;
};

}  // namespace

void TnefExtractor::extract(const Object& obj, ScanContext& ctx) const {
  TNEFStruct t;
  TNEFInitialize(&t);
  t.Debug = 0;  // libytnef prints its debug trace to stdout otherwise
  std::vector<std::string> problems;
  std::string stream = clean_stream(obj.bytes(), problems);
  if (!problems.empty()) {
    std::string detail = "TNEF: ";
    for (std::size_t i = 0; i < problems.size(); ++i) detail += (i ? "; " : "") + problems[i];
    ctx.add_finding(FindingType::malformed, obj, detail);
  }
  if (stream.size() <= 6) {
    TNEFFree(&t);
    return;
  }
  int rc = TNEFParseMemory(reinterpret_cast<BYTE*>(stream.data()), static_cast<long>(stream.size()), &t);
  if (rc < 0) ctx.add_finding(FindingType::malformed, obj, "TNEF parse error " + std::to_string(rc));
  int index = 0;
  for (Attachment* p = t.starting_attach.next; p && !ctx.expired(); p = p->next) {
    ++index;
    std::string_view data = view(&p->FileData);
    if (data.empty()) {
      // Data held only as a MAPI property: PT_OBJECT values start with an IID.
      std::string_view as_object = view(MAPIFindProperty(&p->MAPI, PROP_TAG(PT_OBJECT, PR_ATTACH_DATA_OBJ)));
      data = as_object.size() > 16 ? as_object.substr(16)
                                   : view(MAPIFindProperty(&p->MAPI, PROP_TAG(PT_BINARY, PR_ATTACH_DATA_OBJ)));
    }
    if (data.empty()) continue;
    if (!ctx.can_add_child(obj)) break;
    MemberName name = sanitize_member_name(attachment_name(p), "attachment-" + std::to_string(index));
    if (!name.problem.empty())
      ctx.add_finding(FindingType::malformed, obj, "attachment name \"" + name.name + "\": " + name.problem);
    ChildSpec spec;
    spec.name = name.name;
    ctx.add_child(obj, std::move(spec), data);
  }
  add_rtf_body(obj, ctx, t);
  add_html_body(obj, ctx, t);
  TNEFFree(&t);
}

std::unique_ptr<Extractor> make_tnef_extractor() { return std::make_unique<TnefExtractor>(); }

}  // namespace emogate
