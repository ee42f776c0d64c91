// libFuzzer target: the OOXML package reader (formats/ooxml/package.h) on
// arbitrary bytes: part listing, relationship parts, macro sheets (XML and
// .xlsb), shared strings and declared VBA projects, under small limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/ooxml/package.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ooxml::PackageLimits limits;
  limits.read_budget = 8u << 20;
  limits.max_part = 1u << 20;
  limits.max_xml_part = 256u << 10;
  limits.max_entries = 500;
  const ooxml::Package pkg(bytes, limits);
  if (!pkg.ok()) return 0;
  const auto rels = ooxml::read_relationships(pkg, limits.max_part, {});
  for (const auto& [part, r] : rels.external) ooxml::fetches_on_open(r.type, r.target);
  ooxml::macro_sheets(pkg, rels, limits.max_part, {});
  ooxml::misdeclared_vba(pkg);
  return 0;
}
