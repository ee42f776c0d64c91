// Login sessions of the web view and the random tokens behind them.
// Trusted input: none. Session ids are looked up by their BLAKE2b hash, so
// the map's comparisons reveal nothing usable about a live id's bytes.
#include "web/session.h"

#include <sodium.h>

#include <algorithm>

namespace emogate::web {

std::string random_token() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;  // randombytes_buf works (and aborts on failure) either way
  unsigned char b[32];
  randombytes_buf(b, sizeof b);
  std::string out(64, '0');
  sodium_bin2hex(out.data(), out.size() + 1, b, sizeof b);
  return out;
}

bool well_formed_token(std::string_view t) {
  return t.size() == 64 && std::all_of(t.begin(), t.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool tokens_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Sessions::key_of(std::string_view id) {
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(id.data()), id.size(), nullptr, 0);
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

const Session& Sessions::create(std::string user, std::int64_t now) {
  while (by_key_.size() >= max_ && !by_key_.empty()) {
    by_key_.erase(std::min_element(by_key_.begin(), by_key_.end(), [](const auto& a, const auto& b) {
      return a.second.last_seen < b.second.last_seen;
    }));
  }
  Session s;
  s.id = random_token();
  s.user = std::move(user);
  s.csrf = random_token();
  s.created = s.last_seen = now;
  return by_key_.insert_or_assign(key_of(s.id), std::move(s)).first->second;
}

const Session* Sessions::find(std::string_view id, std::int64_t now) {
  if (id.size() != 64) return nullptr;
  const auto it = by_key_.find(key_of(id));
  if (it == by_key_.end()) return nullptr;
  Session& s = it->second;
  if (now - s.created >= lifetime_s_ || now - s.last_seen >= idle_s_ || now < s.created) {
    by_key_.erase(it);
    return nullptr;
  }
  s.last_seen = now;
  return &s;
}

void Sessions::remove(std::string_view id) { by_key_.erase(key_of(id)); }

}  // namespace emogate::web
