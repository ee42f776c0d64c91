// Who may use the web view: local accounts in a users file (one
// "name:$argon2id$..." line each, hashed with libsodium's crypto_pwhash_str),
// the failed-login limiter (per remote address and per user name), and the
// reverse proxy's authenticated-user header, believed only from
// [web] trusted_proxies.
// Trusted input: the configuration. The users file is the administrator's
// (written by `emogate web-user`), but its lines are parsed without trust;
// user names, passwords and header values come from the client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outbound/direction.h"

namespace emogate::web {

// User names: 1 to 64 of A-Z a-z 0-9 . _ @ + - (what log lines and the
// users file can carry without escaping).
bool valid_user_name(std::string_view name);

// Passwords longer than this are refused (the hash would take them, but a
// megabyte "password" only costs time).
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// Argon2id hash of `password` (libsodium's interactive limits); "" when
// libsodium fails (out of memory).
std::string hash_password(std::string_view password);

class Users {
 public:
  // Reads `path`: "name:hash" lines; blank lines and '#' comments skipped.
  // None, with `error` set ("line N: ..."), when the file cannot be read or
  // a line is malformed.
  static std::optional<Users> load(const std::string& path, std::string& error);
  // Whether `name` exists and `password` is its. An unknown name costs one
  // hash verification too, so timing does not tell names apart.
  bool verify(std::string_view name, std::string_view password) const;
  bool contains(std::string_view name) const { return hashes_.count(std::string(name)) != 0; }
  std::size_t size() const { return hashes_.size(); }
  // "name:hash\n" lines, sorted by name.
  std::string serialize() const;
  void set(std::string name, std::string hash) { hashes_[std::move(name)] = std::move(hash); }
  bool erase(std::string_view name) { return hashes_.erase(std::string(name)) != 0; }

 private:
  std::map<std::string, std::string> hashes_;
};

// Adds or changes `name` in the users file at `path` (created when absent),
// written 0600 to a temporary file and renamed over the old one. Returns ""
// when done, else why not.
std::string set_user(const std::string& path, std::string_view name, std::string_view password);
// Removes `name`; "" when done, else why not (also when there is no such user).
std::string remove_user(const std::string& path, std::string_view name);

// Failed logins counted per key ("addr:..." and "user:...") in a fixed
// window; a key with `max_failures` failures is refused until its window
// ends. At most `max_tracked` keys are kept (expired windows go first, then
// the oldest).
class LoginLimiter {
 public:
  LoginLimiter(std::uint32_t max_failures, std::uint32_t window_s, std::size_t max_tracked)
      : max_failures_(max_failures), window_s_(window_s), max_tracked_(max_tracked) {}
  bool blocked(const std::string& key, std::int64_t now) const;
  void failure(const std::string& key, std::int64_t now);
  void success(const std::string& key) { entries_.erase(key); }
  std::size_t tracked() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint32_t failures = 0;
    std::int64_t window_start = 0;
  };
  std::uint32_t max_failures_, window_s_;
  std::size_t max_tracked_;
  std::map<std::string, Entry> entries_;
};

// The configured proxies ([web] trusted_proxies), parsed.
class ProxyTrust {
 public:
  explicit ProxyTrust(const std::vector<std::string>& networks);
  bool trusted(std::string_view peer_address) const;

 private:
  std::vector<outbound::Network> networks_;
};

}  // namespace emogate::web
