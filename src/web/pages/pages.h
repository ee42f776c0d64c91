// The web view's pages (declared for routes.cpp and the tests): the
// quarantine list and message pages with their actions, the PPAP holds,
// the incidents and frozen accounts with unfreeze. Each handler follows
// web.h: the request is authenticated (and CSRF-checked when a POST), and
// everything printed goes through html_escape().
// Trusted input: the configuration; the stores' contents came from mail.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>

#include "web/web.h"

namespace emogate::web {

// Entries on one page of the quarantine list.
inline constexpr std::size_t kListPageSize = 50;
// PPAP records shown (and merged into the list) at most, per state.
inline constexpr std::size_t kMaxPendingShown = 10000;
// Headers shown on a message page, and the bytes shown of one value.
inline constexpr std::size_t kMaxHeadersShown = 200;
inline constexpr std::size_t kMaxHeaderValueShown = 8192;
// Nesting of the findings tree shown before deeper objects are flattened.
inline constexpr int kMaxTreeDepth = 32;

// GET /quarantine
Response quarantine_list_page(const Request& r, Services& s);
// GET /quarantine/ID and GET /quarantine/ID/raw
Response quarantine_get(const Request& r, Services& s);
// POST /quarantine/ID/release and POST /quarantine/ID/delete
Response quarantine_post(const Request& r, Services& s);
// GET /ppap
Response ppap_page(const Request& r, Services& s);
// GET /incidents
Response incidents_page(const Request& r, Services& s);
// POST /accounts/unfreeze
Response unfreeze_action(const Request& r, Services& s);

// A page text (tr() of `key`); when `pages_used_keys` is set, the key is
// also noted there, so a test can check every key a page used has its
// Japanese text.
std::string_view t(const Request& r, std::string_view key);
extern std::set<std::string>* pages_used_keys;

// The services' clock, or the system clock when the server set none.
std::int64_t now_of(const Services& s);

// "YYYY-MM-DD HH:MM:SS" in the pages' zone (use_time_zone; "-" for 0).
std::string show_time(std::int64_t t);

}  // namespace emogate::web

namespace emogate::web {

// The message after a POST, named by ?msg= (only the names of
// kFlashMessages are shown, as their text: never the query's own text).
std::string flash_html(const Request& r);

}  // namespace emogate::web
