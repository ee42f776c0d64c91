// Who the daemons run as: [milter] user and group to ids, and the drop
// from root to them.
// Trusted input: the configuration and the system's user database.
#include "milter/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace emogate {

Ids resolve_ids(const MilterSettings& m) {
  Ids ids;
  ids.uid = ::geteuid();
  ids.gid = ::getegid();
  ids.sock_gid = ids.gid;
  if (!m.user.empty()) {
    passwd* pw = ::getpwnam(m.user.c_str());
    if (!pw) {
      if (::geteuid() == 0) throw std::runtime_error("[milter] user '" + m.user + "' does not exist");
    } else if (::geteuid() == 0) {
      ids.drop = pw->pw_uid != 0;
      ids.uid = pw->pw_uid;
      ids.gid = pw->pw_gid;
      ids.sock_gid = pw->pw_gid;
      ids.user = m.user;
    }
  }
  if (!m.group.empty()) {
    if (group* gr = ::getgrnam(m.group.c_str())) ids.sock_gid = gr->gr_gid;
    else if (::geteuid() == 0) throw std::runtime_error("[milter] group '" + m.group + "' does not exist");
  }
  return ids;
}

void drop_privileges(const Ids& ids) {
  if (!ids.drop) return;
  if (::initgroups(ids.user.c_str(), ids.gid) != 0 || ::setgid(ids.gid) != 0 || ::setuid(ids.uid) != 0)
    throw std::runtime_error(std::string("cannot drop privileges: ") + std::strerror(errno));
  if (::setuid(0) == 0) throw std::runtime_error("privilege drop did not stick");
}

}  // namespace emogate
