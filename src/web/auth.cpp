// Local accounts (the users file, Argon2id through libsodium), the failed-
// login limiter and the trusted reverse proxies of the web view.
// Trusted input: the configuration. The users file is parsed line by line
// without trust; names and passwords come from the client.
#include "web/auth.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace emogate::web {
namespace {

// libsodium must be initialised once before use (it picks its
// implementations and seeds its generator); safe to call again.
bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

// A hash of a password nobody has, for verifying unknown names.
const std::string& decoy_hash() {
  static const std::string h = hash_password("emogate-decoy-password");
  return h;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Writes `users` to `path` by a 0600 temporary file renamed over it; the
// owner of an existing file is kept. "" or why not.
std::string write_users(const std::string& path, const Users& users) {
  struct stat old {};
  const bool existed = ::stat(path.c_str(), &old) == 0;
  std::string tmp = path + ".XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return "cannot create a file beside " + path + ": " + std::strerror(errno);
  std::string why;
  if (::fchmod(fd, 0600) != 0) why = std::string("chmod: ") + std::strerror(errno);
  if (why.empty() && existed && (old.st_uid != ::geteuid() || old.st_gid != ::getegid()) &&
      ::fchown(fd, old.st_uid, old.st_gid) != 0)
    why = std::string("chown: ") + std::strerror(errno);
  const std::string text = "# emogate web view accounts: written by `emogate web-user`\n" + users.serialize();
  if (why.empty() && !write_all(fd, text)) why = std::string("write: ") + std::strerror(errno);
  if (why.empty() && ::fsync(fd) != 0) why = std::string("fsync: ") + std::strerror(errno);
  ::close(fd);
  if (why.empty() && ::rename(tmp.c_str(), path.c_str()) != 0) why = std::string("rename: ") + std::strerror(errno);
  if (!why.empty()) ::unlink(tmp.c_str());
  return why.empty() ? "" : path + ": " + why;
}

// The users at `path`, or an empty set when the file does not exist yet.
std::optional<Users> load_or_empty(const std::string& path, std::string& error) {
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return Users{};
  return Users::load(path, error);
}

}  // namespace

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '@' || c == '+' || c == '-';
  });
}

std::string hash_password(std::string_view password) {
  if (!sodium_ready()) return {};
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return {};
  return out;
}

std::optional<Users> Users::load(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  Users users;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::size_t colon = line.find(':');
    const std::string name = line.substr(0, colon);
    const std::string hash = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!valid_user_name(name)) {
      error = path + ":" + std::to_string(n) + ": expected NAME:HASH with a user name of letters, digits, . _ @ + -";
      return std::nullopt;
    }
    if (hash.rfind("$argon2id$", 0) != 0 || hash.size() >= crypto_pwhash_STRBYTES) {
      error = path + ":" + std::to_string(n) + ": the hash of '" + name +
              "' is not an Argon2id hash (set it with `emogate web-user add " + name + "`)";
      return std::nullopt;
    }
    users.hashes_[name] = hash;
  }
  return users;
}

bool Users::verify(std::string_view name, std::string_view password) const {
  if (!sodium_ready() || password.size() > kMaxPasswordBytes) return false;
  const auto it = hashes_.find(std::string(name));
  const std::string& hash = it == hashes_.end() ? decoy_hash() : it->second;
  const bool match = !hash.empty() && crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  return match && it != hashes_.end();
}

std::string Users::serialize() const {
  std::string out;
  for (const auto& [name, hash] : hashes_) out += name + ":" + hash + "\n";
  return out;
}

std::string set_user(const std::string& path, std::string_view name, std::string_view password) {
  if (!valid_user_name(name)) return "user names are 1 to 64 letters, digits, . _ @ + -";
  if (password.empty()) return "empty password";
  if (password.size() > kMaxPasswordBytes) return "password longer than " + std::to_string(kMaxPasswordBytes) + " bytes";
  std::string error;
  auto users = load_or_empty(path, error);
  if (!users) return error;
  std::string hash = hash_password(password);
  if (hash.empty()) return "cannot hash the password (out of memory?)";
  users->set(std::string(name), std::move(hash));
  return write_users(path, *users);
}

std::string remove_user(const std::string& path, std::string_view name) {
  std::string error;
  auto users = Users::load(path, error);
  if (!users) return error;
  if (!users->erase(name)) return "no user '" + std::string(name) + "' in " + path;
  return write_users(path, *users);
}

bool LoginLimiter::blocked(const std::string& key, std::int64_t now) const {
  const auto it = entries_.find(key);
  return it != entries_.end() && now - it->second.window_start < window_s_ && it->second.failures >= max_failures_;
}

void LoginLimiter::failure(const std::string& key, std::int64_t now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_tracked_) {
      std::erase_if(entries_, [&](const auto& e) { return now - e.second.window_start >= window_s_; });
      if (entries_.size() >= max_tracked_) {
        // XXX: a full table forgets its oldest window, which an attacker
        // with many addresses could use to reset one; the per-name count
        // still holds then.
        entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
          return a.second.window_start < b.second.window_start;
        }));
      }
    }
    it = entries_.emplace(key, Entry{0, now}).first;
  }
  Entry& e = it->second;
  if (now - e.window_start >= window_s_) e = Entry{0, now};
  ++e.failures;
}

ProxyTrust::ProxyTrust(const std::vector<std::string>& networks) {
  for (const std::string& n : networks)
    if (auto net = outbound::parse_network(n)) networks_.push_back(*net);
}

bool ProxyTrust::trusted(std::string_view peer) const {
  const auto a = outbound::parse_address(peer);
  if (!a) return false;
  return std::any_of(networks_.begin(), networks_.end(), [&](const auto& n) { return outbound::contains(n, *a); });
}

}  // namespace emogate::web
