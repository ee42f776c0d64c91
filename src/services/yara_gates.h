// Rule gates: which objects a YARA rule can match at all, read from its
// source text, so that a large rule set can be compiled in groups and an
// object scanned only by the groups whose rules could match it.
//
// A rule's condition is read only when it is a conjunction (top-level
// `and`s, parenthesised conjunctions flattened); two conjuncts count:
// `filesize < N` / `filesize <= N` (N a literal, KB/MB allowed), which
// bounds the object's size, and `uint16(0) == 0x5A4D` / `uint16be(0) ==
// 0x4D5A`, which needs an object starting with "MZ". Anything else is left
// to libyara: a rule whose gate cannot be read is ungated. A file that does
// not tokenise as expected (an include, an unterminated string, a rule that
// names another public rule of the file) is not split at all.
// XXX the size bound is read (and tested) but no group is split by it any
// more (yara_sets.h): kept for the objects' size checks it could still gate.
// Trusted input: rule files are admin input; nothing here is from a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emogate {

inline constexpr std::uint64_t kNoSizeBound = UINT64_MAX;

struct RuleGate {
  std::uint64_t below = kNoSizeBound;  // matches only objects smaller than this
  bool mz = false;                     // matches only objects starting with "MZ"
};

struct RuleShape {
  std::size_t begin = 0, end = 0;  // byte span of the rule in the file
  bool shared = false;             // private or global: kept in every group of the file
  RuleGate gate;
  std::vector<std::string> modules;  // imported modules its condition names
};

struct ImportShape {
  std::size_t begin = 0, end = 0;  // byte span of the import statement
  std::string module;
};

struct RuleFileShape {
  bool splittable = false;  // false: compile the file as it is
  std::vector<RuleShape> rules;
  std::vector<ImportShape> imports;
};

RuleFileShape analyse_rule_file(std::string_view text);

// The file's text with every rule not in `keep` (indexes into shape.rules;
// shared rules are always kept) and every import no kept rule uses blanked
// out; newlines stay, so compiler messages keep their line numbers.
std::string keep_rules(std::string_view text, const RuleFileShape& shape, const std::vector<bool>& keep);

}  // namespace emogate
