// libFuzzer target for the YARA rule-gate reader: any text is either not
// splittable or gives rule spans inside the text, in order, and blanking any
// of them keeps the text's length and its newlines.
#include <cstdint>
#include <string>

#include "services/yara_gates.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  emogate::RuleFileShape shape = emogate::analyse_rule_file(text);
  if (!shape.splittable) return 0;
  std::size_t last = 0;
  for (const auto& r : shape.rules) {
    if (r.begin < last || r.end <= r.begin || r.end > text.size()) __builtin_trap();
    last = r.end;
  }
  for (const auto& im : shape.imports)
    if (im.end <= im.begin || im.end > text.size()) __builtin_trap();
  std::vector<bool> keep(shape.rules.size());
  for (std::size_t k = 0; k < keep.size(); ++k) keep[k] = (k + size) % 2 == 0;
  std::string kept = emogate::keep_rules(text, shape, keep);
  if (kept.size() != text.size()) __builtin_trap();
  for (std::size_t i = 0; i < text.size(); ++i)
    if ((text[i] == '\n') != (kept[i] == '\n')) __builtin_trap();
  return 0;
}
