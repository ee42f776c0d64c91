// The web view's status page and the fetch of the milter daemon's metrics
// over loopback (plain sockets, one deadline for connect, send and read).
// Trusted input: the configuration ([metrics] listen was checked to be
// loopback by the loader). The metrics text is parsed without trust:
// bounded in size, malformed lines skipped, every value escaped on the page.
#include "web/status.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "quarantine/store.h"
#include "state/store.h"

namespace emogate::web {
namespace {

using Clock = std::chrono::steady_clock;

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

// The file descriptor closes with this object.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string format_age(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto n = static_cast<std::uint64_t>(s);
  if (n < 120) return std::to_string(n) + " s";
  if (n < 7200) return std::to_string(n / 60) + " min";
  if (n < 172800) return std::to_string(n / 3600) + " h " + std::to_string(n / 60 % 60) + " min";
  return std::to_string(n / 86400) + " d " + std::to_string(n / 3600 % 24) + " h";
}

std::string format_number(double v) {
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string row(std::string_view th, std::string_view td_html) {
  return "<tr><th>" + html_escape(th) + "</th><td>" + std::string(td_html) + "</td></tr>\n";
}

// Entries in the quarantine directory (names that are quarantine IDs).
std::optional<std::size_t> quarantine_count(const std::string& dir, std::string& error) {
  std::error_code ec;
  std::size_t n = 0;
  std::filesystem::directory_iterator it(dir, ec), end;
  if (ec) {
    error = ec.message();
    return std::nullopt;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      error = ec.message();
      return std::nullopt;
    }
    n += QuarantineStore::valid_id(it->path().filename().string());
  }
  return n;
}

}  // namespace

std::optional<std::string> fetch_metrics(const std::string& listen, std::uint32_t timeout_ms, std::string& error) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    error = "bad address";
    return std::nullopt;
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const std::string port_text = listen.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    error = "bad port";
    return std::nullopt;
  }
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  if (auto* a4 = reinterpret_cast<sockaddr_in*>(&addr); inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<std::uint16_t>(port));
    addr_len = sizeof *a4;
  } else if (auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr); inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<std::uint16_t>(port));
    addr_len = sizeof *a6;
  } else {
    error = "not an IP address";
    return std::nullopt;
  }
  Fd s{::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    if (errno != EINPROGRESS || !wait_for(s.fd, POLLOUT, deadline)) {
      error = errno == EINPROGRESS ? "connect timed out" : std::strerror(errno);
      return std::nullopt;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
      error = std::strerror(soerr ? soerr : errno);
      return std::nullopt;
    }
  }
  std::string_view req = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
  while (!req.empty()) {
    const ssize_t n = ::send(s.fd, req.data(), req.size(), MSG_NOSIGNAL);
    if (n > 0) {
      req.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(s.fd, POLLOUT, deadline)) {
        error = "send timed out";
        return std::nullopt;
      }
    } else {
      error = std::strerror(errno);
      return std::nullopt;
    }
  }
  std::string reply;
  char buf[8192];
  while (true) {
    const ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n > 0) {
      reply.append(buf, static_cast<std::size_t>(n));
      if (reply.size() > kMaxMetricsBytes) {
        error = "reply too large";
        return std::nullopt;
      }
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_for(s.fd, POLLIN, deadline)) {
        error = "read timed out";
        return std::nullopt;
      }
    } else {
      error = std::strerror(errno);
      return std::nullopt;
    }
  }
  const std::size_t body = reply.find("\r\n\r\n");
  const bool http = reply.compare(0, 9, "HTTP/1.1 ") == 0 || reply.compare(0, 9, "HTTP/1.0 ") == 0;
  if (body == std::string::npos || !http || reply.compare(9, 3, "200") != 0) {
    error = "unexpected reply";
    return std::nullopt;
  }
  return reply.substr(body + 4);
}

std::vector<std::pair<std::string, double>> parse_metrics(std::string_view text) {
  std::vector<std::pair<std::string, double>> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    // The value follows the last space (label values may hold spaces).
    const std::size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos || sp == 0) continue;
    const std::string value_text(line.substr(sp + 1));
    char* endp = nullptr;
    const double v = std::strtod(value_text.c_str(), &endp);
    if (endp == value_text.c_str() || *endp != '\0') continue;
    out.emplace_back(std::string(line.substr(0, sp)), v);
  }
  return out;
}

Response status_page(const Request& r, Services& s, std::size_t sessions) {
  const Lang l = r.lang;
  const Config& c = *s.config;
  std::string body;
  body += "<h2>" + html_escape(tr(l, "status.daemon")) + "</h2>\n<table class=\"kv\">\n";
  body += row(tr(l, "status.version"), html_escape(EMOGATE_VERSION));
  if (c.metrics.listen.empty()) {
    body += row(tr(l, "status.daemon"), "<span class=\"muted\">" + html_escape(tr(l, "status.metrics_off")) + "</span>");
  } else {
    std::string error;
    auto text = fetch_metrics(c.metrics.listen, c.web.metrics_timeout_ms, error);
    if (!text) {
      body += row(tr(l, "status.daemon"), "<span class=\"error\">" + html_escape(tr(l, "status.metrics_unavailable")) +
                                              "</span> <span class=\"muted\">" + html_escape(error) + "</span>");
    } else {
      const auto samples = parse_metrics(*text);
      const auto find = [&](std::string_view name) -> std::optional<double> {
        for (const auto& [k, v] : samples)
          if (k == name) return v;
        return std::nullopt;
      };
      const auto num = [&](std::string_view name) {
        auto v = find(name);
        return v ? format_number(*v) : html_escape(tr(l, "status.unknown"));
      };
      double messages = 0;
      for (const auto& [k, v] : samples)
        if (k.rfind("emogate_messages_total{", 0) == 0) messages += v;
      body += row(tr(l, "status.workers"), html_escape(num("emogate_workers")));
      body += row(tr(l, "status.queue_depth"), html_escape(num("emogate_scan_queue_depth")));
      body += row(tr(l, "status.messages"), html_escape(format_number(messages)));
      const auto rules = find("emogate_ruleset_age_seconds");
      body += row(tr(l, "status.rules_age"), html_escape(rules ? format_age(*rules) : std::string(tr(l, "status.unknown"))));
      std::string lists;
      for (const auto& [k, v] : samples) {
        constexpr std::string_view prefix = "emogate_intel_age_seconds{list=\"";
        if (k.rfind(prefix, 0) != 0 || k.size() < prefix.size() + 2) continue;
        const std::string name = k.substr(prefix.size(), k.size() - prefix.size() - 2);
        lists += "<li>" + html_escape(name) + ": " + html_escape(format_age(v)) + "</li>";
      }
      body += row(tr(l, "status.lists_age"),
                  lists.empty() ? "<span class=\"muted\">-</span>" : "<ul>" + lists + "</ul>");
    }
  }
  body += "</table>\n";

  body += "<h2>" + html_escape(tr(l, "status.quarantine")) + "</h2>\n<table class=\"kv\">\n";
  body += row(tr(l, "status.quarantine_dir"), "<code>" + html_escape(s.quarantine->dir()) + "</code>");
  {
    std::string error;
    auto n = quarantine_count(s.quarantine->dir(), error);
    body += row(tr(l, "status.quarantine_count"),
                n ? html_escape(std::to_string(*n)) : "<span class=\"error\">" + html_escape(error) + "</span>");
  }
  body += "</table>\n";

  body += "<h2>" + html_escape(tr(l, "status.state_store")) + "</h2>\n<table class=\"kv\">\n";
  body += row(tr(l, "status.backend"), html_escape(c.state.backend));
  if (!s.state) {
    body += row(tr(l, "status.ping"), "<span class=\"error\">" + html_escape(s.state_error) + "</span>");
  } else {
    const auto st = s.state->ping();
    body += row(tr(l, "status.ping"), st.ok() ? "<span class=\"badge clean\">" + html_escape(tr(l, "status.ok")) + "</span>"
                                              : "<span class=\"error\">" + html_escape(st.message()) + "</span>");
  }
  body += "</table>\n";

  body += "<h2>" + html_escape(tr(l, "status.web")) + "</h2>\n<table class=\"kv\">\n";
  body += row(tr(l, "status.sessions"), html_escape(std::to_string(sessions)));
  body += "</table>\n";

  Response res;
  res.body = page(r, tr(l, "status.title"), body);
  return res;
}

}  // namespace emogate::web
