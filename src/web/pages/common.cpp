// What the pages share: the text lookup that records the keys it was asked
// for, the clock, and time formatting.
// Trusted input: none.
#include <ctime>

#include "web/pages/pages.h"

namespace emogate::web {

std::set<std::string>* pages_used_keys = nullptr;

std::string_view t(const Request& r, std::string_view key) {
  if (pages_used_keys) pages_used_keys->emplace(key);
  return tr(r.lang, key);
}

std::int64_t now_of(const Services& s) {
  return s.now ? s.now() : static_cast<std::int64_t>(std::time(nullptr));
}

std::string show_time(std::int64_t t) {
  if (t == 0) return "-";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace emogate::web

namespace emogate::web {

namespace {
// ?msg= names and whether each tells of a failure.
struct Flash {
  std::string_view name;
  bool failure;
};
constexpr Flash kFlashMessages[] = {
    {"released", false},      {"released_some", false}, {"deleted", false},   {"unfrozen", false},
    {"release_failed", true}, {"delete_failed", true},  {"not_frozen", true}, {"unfreeze_failed", true},
    {"bad_recipient", true},  {"not_removed", true},      {"no_recipient", true},
};
}  // namespace

std::string flash_html(const Request& r) {
  const std::string msg = r.param("msg");
  for (const Flash& f : kFlashMessages)
    if (f.name == msg)
      return std::string("<p class=\"flash ") + (f.failure ? "flash-error" : "flash-ok") + "\" role=\"status\">" +
             html_escape(t(r, "msg." + std::string(f.name))) + "</p>\n";
  return {};
}

}  // namespace emogate::web
