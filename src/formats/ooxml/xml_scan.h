// A tolerant, single-pass XML tag scanner for the few OOXML parts emogate
// reads (content types, relationships, workbook, macro sheets). Not a
// validating parser on purpose: Office opens documents a strict parser would
// reject, and a finding must not disappear because an attacker broke
// well-formedness. Linear in the input, no recursion, no allocation beyond
// the attributes of the current tag.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emogate::xml {

struct Tag {
  std::string_view name;  // local name (namespace prefix dropped)
  bool closing = false;   // </name>
  bool self_closing = false;
  std::string_view text_before;  // raw character data since the previous tag
  std::vector<std::pair<std::string_view, std::string_view>> attrs;  // local name, raw value

  // Raw attribute value by local name (empty when absent).
  std::string_view attr(std::string_view local) const;
};

class Scanner {
 public:
  explicit Scanner(std::string_view doc) : d_(doc) {}
  // Next start, end or empty-element tag; comments, CDATA, declarations and
  // processing instructions are skipped (CDATA text is lost: the parts we
  // read do not use it for anything we look at).
  bool next(Tag& tag);

 private:
  std::string_view d_;
  std::size_t pos_ = 0;
};

// Decodes the five predefined entities and numeric character references.
std::string unescape(std::string_view raw);

}  // namespace emogate::xml
