// Login sessions of the web view: random 256-bit ids (libsodium), each with
// its operator, its CSRF token, and idle and absolute expiry; at most
// [web] max_sessions, the least recently used ending first. Sessions live
// in memory: a restart logs everyone out.
// Trusted input: none. Ids and tokens come from the client's cookie and
// form; they are looked up by their hash and compared in constant time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace emogate::web {

// 32 random bytes as 64 hex digits.
std::string random_token();
// What random_token() makes: 64 lower-case hex digits.
bool well_formed_token(std::string_view t);
// Constant-time equality of two tokens (false when the lengths differ).
bool tokens_equal(std::string_view a, std::string_view b);

struct Session {
  std::string id;    // the cookie's value
  std::string user;  // the operator
  std::string csrf;  // the token every POST form carries
  std::int64_t created = 0, last_seen = 0;
};

class Sessions {
 public:
  Sessions(std::uint32_t lifetime_s, std::uint32_t idle_s, std::size_t max_sessions)
      : lifetime_s_(lifetime_s), idle_s_(idle_s), max_(max_sessions) {}
  // A new session for `user` (the least recently used one ends when full).
  const Session& create(std::string user, std::int64_t now);
  // The live session with this id, its last use set to `now`; null when
  // there is none or it expired (an expired one is removed).
  const Session* find(std::string_view id, std::int64_t now);
  void remove(std::string_view id);
  std::size_t size() const { return by_key_.size(); }

 private:
  static std::string key_of(std::string_view id);  // BLAKE2b of the id
  std::uint32_t lifetime_s_, idle_s_;
  std::size_t max_;
  std::map<std::string, Session> by_key_;
};

}  // namespace emogate::web
