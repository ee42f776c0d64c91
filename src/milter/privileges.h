// Who the daemons run as: [milter] user and group resolved to ids, and the
// drop from root to that user (the milter and the web view both start as
// root, open what needs root, then drop).
// Trusted input: the configuration and the system's user database.
#pragma once

#include <sys/types.h>

#include <string>

#include "emogate/config.h"

namespace emogate {

struct Ids {
  bool drop = false;     // running as root with a non-root [milter] user
  uid_t uid = 0;
  gid_t gid = 0;         // the user's primary group
  gid_t sock_gid = 0;    // group that owns the socket
  std::string user;
};

// Throws std::runtime_error with the reason.
Ids resolve_ids(const MilterSettings& m);
// Sets the groups, gid and uid of `ids` (nothing without ids.drop); throws
// std::runtime_error when that fails or root could be regained.
void drop_privileges(const Ids& ids);

}  // namespace emogate
