// The web view's page routes: which handler answers which path.
// Trusted input: none (the handlers escape what they print).
#include "web/pages/pages.h"
#include "web/web.h"

namespace emogate::web {

std::vector<Route> page_routes() {
  return {
      {"GET", "/quarantine", quarantine_list_page},
      {"GET", "/quarantine/", quarantine_get},
      {"POST", "/quarantine/", quarantine_post},
      {"GET", "/ppap", ppap_page},
      {"GET", "/incidents", incidents_page},
      {"POST", "/accounts/unfreeze", unfreeze_action},
  };
}

}  // namespace emogate::web
