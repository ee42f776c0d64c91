// The web view's page routes: which handler answers which path.
// Trusted input: none (the handlers escape what they print).
#include "web/web.h"

namespace emogate::web {

std::vector<Route> page_routes() { return {}; }

}  // namespace emogate::web
