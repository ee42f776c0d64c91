// The web view's status page: version, the milter daemon's figures read from
// its metrics endpoint ([metrics] listen, fetched over loopback with a short
// timeout; "unavailable" when it does not answer), the quarantine's size,
// and the state store's backend and ping.
// Trusted input: the configuration. The metrics text is the daemon's but is
// parsed without trust (bounded, escaped when shown).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "web/web.h"

namespace emogate::web {

// The metrics endpoint's reply is cut at this size.
inline constexpr std::size_t kMaxMetricsBytes = 1 << 20;

// GET /metrics from `listen` ("127.0.0.1:9357", "[::1]:9357"), within
// `timeout_ms` for the whole exchange. The body of a 200 reply, or none
// with `error` set.
std::optional<std::string> fetch_metrics(const std::string& listen, std::uint32_t timeout_ms, std::string& error);

// Prometheus text: the samples ("name{labels}", value), comments skipped;
// malformed lines are skipped too.
std::vector<std::pair<std::string, double>> parse_metrics(std::string_view text);

Response status_page(const Request& r, Services& s, std::size_t sessions);

}  // namespace emogate::web
