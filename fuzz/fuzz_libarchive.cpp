// Fuzz target: the libarchive walker (with its RAR 5 header reader) and the TNEF extractor. The first
// byte picks the type tag the engine would have given (it decides whether
// bare compressed streams are accepted, or whether TNEF is parsed): every
// tag the type table gives to the libarchive module, and TNEF.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "extractor_harness.h"

namespace emogate {
std::unique_ptr<Module> make_libarchive_module();
std::unique_ptr<Module> make_tnef_module();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto archives = emogate::make_libarchive_module();
  static const auto tnef = emogate::make_tnef_module();
  static const std::vector<std::string> kTypes = [] {
    std::vector<std::string> t = archives->types();
    t.push_back(emogate::tag::tnef);
    return t;
  }();
  if (size < 1) return 0;
  const std::string& type = kTypes[data[0] % kTypes.size()];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  emogate::fuzz::run_module(type == emogate::tag::tnef ? *tnef : *archives, in, type);
  return 0;
}
