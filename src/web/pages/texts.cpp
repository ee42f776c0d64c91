// The pages' UI texts in English and Japanese.
// Trusted input: none (constants only).
#include "web/web.h"

namespace emogate::web {

const std::vector<Text>& page_texts() {
  static const std::vector<Text> texts = {};
  return texts;
}

}  // namespace emogate::web
