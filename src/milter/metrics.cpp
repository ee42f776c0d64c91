// Metrics registry and loopback HTTP exporter; see metrics.h. HTTP
// requests come from any local client.
// Trusted input: none.
#include "milter/metrics.h"

#include <utility>  // Boost 1.74 asio uses std::exchange without including it
#include <boost/asio.hpp>
#include <chrono>
#include <sys/stat.h>

#include <cstdio>
#include <stdexcept>

namespace emogate {

namespace asio = boost::asio;
using asio::ip::tcp;

struct Metrics::Server {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
};

Metrics::Metrics() = default;
Metrics::~Metrics() { stop(); }

void Metrics::message(const std::string& verdict, Action action, double scan_ms) {
  std::lock_guard lk(mu_);
  ++messages_[{verdict, std::string(to_string(action))}];
  ++scan_count_;
  scan_sum_ms_ += scan_ms;
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (scan_ms <= kBuckets[i]) ++buckets_[i];
}

void Metrics::finding(FindingType t) {
  std::lock_guard lk(mu_);
  ++findings_[std::string(to_string(t))];
}

void Metrics::intel_loaded(const IntelSettings& intel) {
  std::map<std::string, double> m;
  auto add = [&m](const char* list, const std::string& path) {
    struct stat st;
    if (!path.empty() && ::stat(path.c_str(), &st) == 0)
      m[list] = static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9;
  };
  add("urlhaus", intel.urlhaus_path);
  add("feodo", intel.feodo_path);
  std::lock_guard<std::mutex> lk(mu_);
  intel_mtime_ = std::move(m);
}

void Metrics::rules_loaded_now() {
  rules_loaded_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Metrics::rule_sets(const std::vector<RuleSetUse>& uses) {
  std::lock_guard lk(mu_);
  for (const RuleSetUse& u : uses) {
    RuleSetUse& t = rule_sets_[u.name];
    t.objects += u.objects;
    t.cache_hits += u.cache_hits;
    t.passes += u.passes;
    t.bytes += u.bytes;
    t.cpu_ms += u.cpu_ms;
  }
}

void Metrics::set_queue_depth(std::function<unsigned()> fn) {
  std::lock_guard lk(mu_);
  depth_ = std::move(fn);
}

void Metrics::worker_ended(const std::string& cause, bool killed, unsigned scans) {
  std::lock_guard lk(mu_);
  ++worker_restarts_[cause];
  if (killed) ++worker_kills_[cause];
  worker_scans_sum_ += scans;
  ++workers_ended_;
}

void Metrics::worker_fork_failed() {
  std::lock_guard lk(mu_);
  ++worker_fork_failures_;
}

void Metrics::scan_failure(const std::string& failure_class, const std::string& cause) {
  std::lock_guard lk(mu_);
  ++scan_failures_[{failure_class, cause}];
}

void Metrics::set_workers(std::function<unsigned()> fn) {
  std::lock_guard lk(mu_);
  workers_ = std::move(fn);
}

void Metrics::ppap_event(std::string_view kind) {
  std::lock_guard lk(mu_);
  if (auto it = ppap_.find(std::string(kind)); it != ppap_.end()) ++it->second;
}

void Metrics::set_ppap_pending(std::uint64_t n) { ppap_pending_ = n; }

void Metrics::backscatter() { ++backscatter_; }

void Metrics::spoofed_sender(std::string_view trick) {
  std::lock_guard lk(mu_);
  if (auto it = spoofed_.find(std::string(trick)); it != spoofed_.end()) ++it->second;
}
void Metrics::outbound_message(bool flagged) {
  ++outbound_messages_;
  if (flagged) ++outbound_flagged_;
}
void Metrics::outbound_frozen_message() { ++outbound_frozen_messages_; }
void Metrics::outbound_freeze() { ++outbound_freezes_; }
void Metrics::set_outbound_frozen(std::uint64_t n) { outbound_frozen_ = n; }
void Metrics::outbound_cpu(std::uint64_t ns) { outbound_cpu_ns_ += ns; }

namespace {
// One counter family with a single label, HELP and TYPE first.
void render_counter(std::string& o, const char* name, const char* label, const char* help,
                    const std::map<std::string, std::uint64_t>& values) {
  o += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const auto& [k, n] : values)
    o += std::string(name) + "{" + label + "=\"" + k + "\"} " + std::to_string(n) + "\n";
}
// The same with two labels.
void render_counter(std::string& o, const char* name, const char* label1, const char* label2, const char* help,
                    const std::map<std::pair<std::string, std::string>, std::uint64_t>& values) {
  o += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const auto& [k, n] : values)
    o += std::string(name) + "{" + label1 + "=\"" + k.first + "\"," + label2 + "=\"" + k.second + "\"} " +
         std::to_string(n) + "\n";
}
// A label value from configuration, escaped as the text format requires.
std::string label_value(std::string_view v) {
  std::string o;
  for (char c : v) {
    if (c == '\\' || c == '"') o += '\\';
    if (c == '\n') o += "\\n";
    else o += c;
  }
  return o;
}
}  // namespace

std::string Metrics::render() const {
  std::lock_guard lk(mu_);
  std::string o;
  char buf[256];
  render_counter(o, "emogate_messages_total", "verdict", "action", "Messages handled, by verdict and action.",
                 messages_);
  o += "# HELP emogate_findings_total Findings, by type.\n# TYPE emogate_findings_total counter\n";
  for (const auto& [k, n] : findings_) {
    std::snprintf(buf, sizeof buf, "emogate_findings_total{type=\"%s\"} %llu\n", k.c_str(),
                  static_cast<unsigned long long>(n));
    o += buf;
  }
  o += "# HELP emogate_scan_duration_seconds Time from end of message to decision.\n"
       "# TYPE emogate_scan_duration_seconds histogram\n";
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    std::snprintf(buf, sizeof buf, "emogate_scan_duration_seconds_bucket{le=\"%g\"} %llu\n",
                  kBuckets[i] / 1000.0, static_cast<unsigned long long>(buckets_[i]));
    o += buf;
  }
  std::snprintf(buf, sizeof buf,
                "emogate_scan_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                "emogate_scan_duration_seconds_sum %.6f\nemogate_scan_duration_seconds_count %llu\n",
                static_cast<unsigned long long>(scan_count_), scan_sum_ms_ / 1000.0,
                static_cast<unsigned long long>(scan_count_));
  o += buf;
  std::snprintf(buf, sizeof buf,
                "# HELP emogate_scan_queue_depth Scans queued or running.\n"
                "# TYPE emogate_scan_queue_depth gauge\nemogate_scan_queue_depth %u\n",
                depth_ ? depth_() : 0u);
  o += buf;
  if (workers_) {
    std::snprintf(buf, sizeof buf,
                  "# HELP emogate_workers Scan worker processes alive.\n"
                  "# TYPE emogate_workers gauge\nemogate_workers %u\n",
                  workers_());
    o += buf;
  }
  render_counter(o, "emogate_worker_restarts_total", "cause", "Scan workers replaced, by cause.", worker_restarts_);
  render_counter(o, "emogate_worker_kills_total", "limit", "Scan workers the daemon killed, by limit.", worker_kills_);
  std::snprintf(buf, sizeof buf,
                "# HELP emogate_worker_scans Scans per scan worker over its life (ended workers).\n"
                "# TYPE emogate_worker_scans summary\nemogate_worker_scans_sum %llu\n"
                "emogate_worker_scans_count %llu\n",
                static_cast<unsigned long long>(worker_scans_sum_), static_cast<unsigned long long>(workers_ended_));
  o += buf;
  std::snprintf(buf, sizeof buf,
                "# HELP emogate_worker_fork_failures_total Scan workers that could not be forked (forked again later).\n"
                "# TYPE emogate_worker_fork_failures_total counter\nemogate_worker_fork_failures_total %llu\n",
                static_cast<unsigned long long>(worker_fork_failures_));
  o += buf;
  render_counter(o, "emogate_scan_failures_total", "class", "cause",
                 "Scans that did not complete, by class (load/content) and cause.", scan_failures_);
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double loaded = rules_loaded_.load();
  std::snprintf(buf, sizeof buf,
                "# HELP emogate_ruleset_age_seconds Seconds since the rule set was loaded.\n"
                "# TYPE emogate_ruleset_age_seconds gauge\nemogate_ruleset_age_seconds %.0f\n",
                loaded > 0 ? now - loaded : 0.0);
  o += buf;
  if (!rule_sets_.empty()) {
    struct Family {
      const char* name;
      const char* help;
      std::string (*value)(const RuleSetUse&);
    };
    static constexpr Family kFamilies[] = {
        {"emogate_rule_set_objects_total", "Objects a YARA rule set's scope took, by set.",
         [](const RuleSetUse& u) { return std::to_string(u.objects); }},
        {"emogate_rule_set_cache_hits_total", "Of those, objects the set's verdict cache answered, by set.",
         [](const RuleSetUse& u) { return std::to_string(u.cache_hits); }},
        {"emogate_rule_set_passes_total", "libyara passes a rule set made, by set.",
         [](const RuleSetUse& u) { return std::to_string(u.passes); }},
        {"emogate_rule_set_bytes_total", "Bytes a rule set's passes read, by set.",
         [](const RuleSetUse& u) { return std::to_string(u.bytes); }},
        {"emogate_rule_set_cpu_seconds_total", "CPU time of a rule set's passes, by set.",
         [](const RuleSetUse& u) {
           char b[32];
           std::snprintf(b, sizeof b, "%.6f", u.cpu_ms / 1000);
           return std::string(b);
         }},
    };
    for (const Family& f : kFamilies) {
      o += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " counter\n";
      for (const auto& [set, u] : rule_sets_)
        o += std::string(f.name) + "{set=\"" + label_value(set) + "\"} " + f.value(u) + "\n";
    }
  }
  if (!intel_mtime_.empty()) {
    o += "# HELP emogate_intel_age_seconds Seconds since the loaded intel list's file was written.\n"
         "# TYPE emogate_intel_age_seconds gauge\n";
    for (const auto& [list, mtime] : intel_mtime_) {
      std::snprintf(buf, sizeof buf, "emogate_intel_age_seconds{list=\"%s\"} %.0f\n", list.c_str(), now - mtime);
      o += buf;
    }
  }
  for (const auto& [kind, n] : ppap_) {
    std::snprintf(buf, sizeof buf,
                  "# HELP emogate_ppap_%s_total PPAP: messages %s (password in a second mail).\n"
                  "# TYPE emogate_ppap_%s_total counter\nemogate_ppap_%s_total %llu\n",
                  kind.c_str(), kind == "held"        ? "held to wait for their password mail"
                                : kind == "matched"   ? "whose password mail arrived"
                                : kind == "released"  ? "released after their password mail"
                                                      : "whose password mail did not come in time",
                  kind.c_str(), kind.c_str(), static_cast<unsigned long long>(n));
    o += buf;
  }
  std::snprintf(buf, sizeof buf,
                "# HELP emogate_ppap_pending PPAP: messages waiting for their password mail.\n"
                "# TYPE emogate_ppap_pending gauge\nemogate_ppap_pending %llu\n",
                static_cast<unsigned long long>(ppap_pending_.load()));
  o += buf;
  std::snprintf(buf, sizeof buf,
                "# HELP emogate_backscatter_total Inbound bounces for mail we never sent, naming an address of ours.\n"
                "# TYPE emogate_backscatter_total counter\nemogate_backscatter_total %llu\n",
                static_cast<unsigned long long>(backscatter_.load()));
  o += buf;
  render_counter(o, "emogate_spoofed_sender_total", "trick", "Inbound spoofed_sender findings, by trick.", spoofed_);
  const struct {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t n;
  } outbound[] = {
      {"emogate_outbound_messages_total", "counter", "Outbound messages (by [outbound] direction).",
       outbound_messages_.load()},
      {"emogate_outbound_flagged_total", "counter",
       "Outbound messages that opened or updated their account's incident (flagged or a volume anomaly).",
       outbound_flagged_.load()},
      {"emogate_outbound_frozen_messages_total", "counter",
       "Outbound messages that got [outbound] frozen_action because their account is frozen.",
       outbound_frozen_messages_.load()},
      {"emogate_outbound_freezes_total", "counter", "Accounts this daemon froze.", outbound_freezes_.load()},
      {"emogate_outbound_frozen_accounts", "gauge", "Frozen accounts in the state store (read at most once a minute).",
       outbound_frozen_.load()},
  };
  for (const auto& m : outbound) {
    o += std::string("# HELP ") + m.name + " " + m.help + "\n# TYPE " + m.name + " " + m.type + "\n" + m.name + " " +
         std::to_string(m.n) + "\n";
  }
  char cpu[64];
  std::snprintf(cpu, sizeof cpu, "%.6f", static_cast<double>(outbound_cpu_ns_.load()) / 1e9);
  o += std::string("# HELP emogate_outbound_cpu_seconds_total Thread CPU time the outbound watch took (the frozen "
                   "check at MAIL FROM and the bookkeeping after the scan).\n"
                   "# TYPE emogate_outbound_cpu_seconds_total counter\nemogate_outbound_cpu_seconds_total ") +
       cpu + "\n";
  return o;
}

namespace {

void serve_one(Metrics* m, std::shared_ptr<tcp::socket> sock, asio::io_context& io) {
  auto buf = std::make_shared<asio::streambuf>(8192);  // caps the request size
  auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(5));
  timer->async_wait([sock](const boost::system::error_code& ec) {
    if (!ec) sock->close();
  });
  asio::async_read_until(*sock, *buf, "\r\n\r\n", [m, sock, buf, timer](boost::system::error_code ec, std::size_t) {
    timer->cancel();
    if (ec) return;
    std::string req(asio::buffers_begin(buf->data()), asio::buffers_end(buf->data()));
    std::string body, status = "200 OK";
    if (req.rfind("GET /metrics ", 0) == 0 || req.rfind("GET / ", 0) == 0) {
      body = m->render();
    } else {
      status = "404 Not Found";
      body = "not found\n";
    }
    auto resp = std::make_shared<std::string>(
        "HTTP/1.0 " + status + "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    asio::async_write(*sock, asio::buffer(*resp), [sock, resp](boost::system::error_code, std::size_t) {
      boost::system::error_code ignored;
      sock->shutdown(tcp::socket::shutdown_both, ignored);
    });
  });
}

void accept_loop(Metrics* m, Metrics::Server* s);

}  // namespace

void Metrics::start(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("[metrics] listen must be HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (!host.empty() && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec || !addr.is_loopback())
    throw std::runtime_error("[metrics] listen must be a loopback address, got " + listen);
  int port = std::atoi(listen.c_str() + colon + 1);
  if (port < 0 || port > 65535) throw std::runtime_error("[metrics] bad port in " + listen);
  server_ = std::make_unique<Server>();
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  server_->acceptor.open(ep.protocol());
  server_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  server_->acceptor.bind(ep, ec);
  if (ec) throw std::runtime_error("[metrics] cannot bind " + listen + ": " + ec.message());
  server_->acceptor.listen();
  accept_loop(this, server_.get());
  server_->thread = std::thread([s = server_.get()] { s->io.run(); });
}

namespace {
void accept_loop(Metrics* m, Metrics::Server* s) {
  auto sock = std::make_shared<tcp::socket>(s->io);
  s->acceptor.async_accept(*sock, [m, s, sock](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      serve_one(m, sock, s->io);
      accept_loop(m, s);
      return;
    }
    // e.g. out of file descriptors: retry later instead of spinning.
    auto t = std::make_shared<asio::steady_timer>(s->io, std::chrono::milliseconds(200));
    t->async_wait([m, s, t](const boost::system::error_code& e) {
      if (!e) accept_loop(m, s);
    });
  });
}
}  // namespace

unsigned short Metrics::port() const {
  if (!server_) return 0;
  boost::system::error_code ec;
  auto ep = server_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Metrics::stop() {
  if (!server_) return;
  server_->io.stop();
  if (server_->thread.joinable()) server_->thread.join();
  server_.reset();
}

}  // namespace emogate
