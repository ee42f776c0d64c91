// The module list. One line per module: the module's file defines the
// factory named here (make_<name>) in namespace emogate.
#include "engine/registry.h"

namespace emogate {

#define EMOGATE_EXTRACTOR(name)                     \
  {                                                 \
    extern std::unique_ptr<Extractor> make_##name();\
    r.extractors.push_back(make_##name());          \
  }
#define EMOGATE_DETECTOR(name)                      \
  {                                                 \
    extern std::unique_ptr<Detector> make_##name(); \
    r.detectors.push_back(make_##name());           \
  }
#define EMOGATE_SERVICE(name)                                                      \
  {                                                                                \
    extern void build_##name(const Config&, ServiceSet&, std::vector<std::string>&); \
    build_##name(cfg, out, warnings);                                              \
  }

std::vector<DetectorFactory>& test_detectors() {
  static std::vector<DetectorFactory> v;
  return v;
}

const Registry& builtin_registry() {
  static const Registry reg = [] {
    Registry r;
    // Extractors: object -> children.
    EMOGATE_EXTRACTOR(mime_extractor)
    EMOGATE_EXTRACTOR(zip_extractor)
    EMOGATE_EXTRACTOR(libarchive_extractor)
    EMOGATE_EXTRACTOR(tnef_extractor)
    EMOGATE_EXTRACTOR(ole2_extractor)
    EMOGATE_EXTRACTOR(vba_extractor)
    EMOGATE_EXTRACTOR(ole2_encrypted_extractor)
    // office (issue 4): RTF objects, OneNote file blobs
    EMOGATE_EXTRACTOR(rtf_extractor)
    EMOGATE_EXTRACTOR(onenote_extractor)
    // Detectors: object -> findings.
    EMOGATE_DETECTOR(type_detector)
    // office (issue 4): Excel 4.0 macros, OOXML packages, shortcuts
    EMOGATE_DETECTOR(xlm_detector)
    EMOGATE_DETECTOR(ooxml_detector)
    EMOGATE_DETECTOR(lnk_detector)
    EMOGATE_DETECTOR(equation_detector)
    EMOGATE_DETECTOR(yara_detector)
    EMOGATE_DETECTOR(url_detector)
    for (DetectorFactory f : test_detectors()) r.detectors.push_back(f());
    return r;
  }();
  return reg;
}

void build_services(const Config& cfg, ServiceSet& out, std::vector<std::string>& warnings) {
  EMOGATE_SERVICE(yara_rules)
  EMOGATE_SERVICE(url_intel)
}

}  // namespace emogate
