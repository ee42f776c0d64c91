// What html.cpp offers the server beyond the pages' contract (web.h): the
// compiled-in stylesheet, the server's own UI texts, and where operator
// action lines go (syslog, plus a sink the tests and `--foreground` use).
// Trusted input: none; values reaching the action line are escaped there.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "web/web.h"

namespace emogate::web {

// /static/style.css, served from this string (no file on disk).
std::string_view style_css();

// The text of one action line, without the syslog prefix:
// "web: operator=NAME remote=ADDR action=ACTION id=OBJECT outcome=OUTCOME".
std::string format_action_line(const Request& r, std::string_view action, std::string_view object,
                               std::string_view outcome);

// Every action line is also handed to `sink` when one is set (tests; the
// foreground server's stderr copy). Not thread-safe: set before serving.
void set_action_sink(std::function<void(const std::string&)> sink);

// "Not Found", "Forbidden"... for an HTTP status code.
std::string_view status_reason(int status);

}  // namespace emogate::web
