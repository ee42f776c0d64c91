// Prometheus text-format metrics for the milter, served over HTTP on a
// loopback address only ([metrics] listen, e.g. "127.0.0.1:9357").
// The HTTP request is read with a size cap and a time limit, and only
// "GET /metrics" is answered.
// Trusted input: none.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "emogate/config.h"
#include "emogate/report.h"

namespace emogate {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  // verdict: clean/suspicious/malicious/error.
  void message(const std::string& verdict, Action action, double scan_ms);
  void finding(FindingType t);
  void rules_loaded_now();
  // What each YARA rule set did in one message's scan (Report::rule_sets).
  void rule_sets(const std::vector<RuleSetUse>& uses);
  // The intel lists just loaded: each configured list's file mtime, so
  // emogate_intel_age_seconds{list} says how old the data is (a list that
  // update-intel keeps refusing grows old even across reloads).
  void intel_loaded(const IntelSettings& intel);
  void set_queue_depth(std::function<unsigned()> fn);
  // Scan workers: a worker ended (cause: worker_crash, worker_memory,
  // scan_timeout_ms, max_scans, max_rss, reload, start_failed, shutdown),
  // whether the daemon killed it for a limit, and how many scans it did.
  void worker_ended(const std::string& cause, bool killed, unsigned scans);
  // A scan worker the pool could not fork (it forks it again later).
  void worker_fork_failed();
  // A scan that did not complete, by class (load/content) and cause.
  void scan_failure(const std::string& failure_class, const std::string& cause);
  void set_workers(std::function<unsigned()> fn);
  // PPAP: an event of a waiting message (held, matched, released,
  // timed_out; others are not counted) and the number waiting now.
  void ppap_event(std::string_view kind);
  void set_ppap_pending(std::uint64_t n);
  // Inbound sender checks: a bounce for mail we never sent, and a
  // spoofed_sender finding by its trick (unknown tricks are not counted).
  void backscatter();
  void spoofed_sender(std::string_view trick);
  // Outbound watch: an outbound message (flagged: its account's incident
  // counted it), one refused or diverted because its account is frozen, an
  // account frozen here, and the frozen accounts in the store now.
  void outbound_message(bool flagged);
  void outbound_frozen_message();
  void outbound_freeze();
  void set_outbound_frozen(std::uint64_t n);
  // Thread CPU time the outbound watch took for one message (its frozen
  // check at MAIL FROM, its bookkeeping after the scan), in nanoseconds.
  void outbound_cpu(std::uint64_t ns);
  std::string render() const;

  // Starts the HTTP listener thread. Throws std::runtime_error when the
  // address is not loopback or cannot be bound. Port 0 picks a free port.
  void start(const std::string& listen);
  unsigned short port() const;  // bound port, 0 when not listening
  void stop();

  struct Server;  // the HTTP side (Boost.Asio), defined in metrics.cpp

 private:
  static constexpr std::array<double, 10> kBuckets = {1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> messages_;
  std::map<std::string, std::uint64_t> findings_;
  std::array<std::uint64_t, kBuckets.size()> buckets_{};
  std::uint64_t scan_count_ = 0;
  double scan_sum_ms_ = 0;
  std::atomic<double> rules_loaded_{0};
  std::map<std::string, double> intel_mtime_;  // list -> file mtime (epoch s)
  std::function<unsigned()> depth_;
  std::map<std::string, std::uint64_t> worker_restarts_, worker_kills_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> scan_failures_;
  std::uint64_t worker_scans_sum_ = 0, workers_ended_ = 0, worker_fork_failures_ = 0;
  std::map<std::string, RuleSetUse> rule_sets_;  // by set name, summed
  std::function<unsigned()> workers_;
  std::map<std::string, std::uint64_t> ppap_{{"held", 0}, {"matched", 0}, {"released", 0}, {"timed_out", 0}};
  std::atomic<std::uint64_t> ppap_pending_{0};
  std::atomic<std::uint64_t> backscatter_{0};
  std::map<std::string, std::uint64_t> spoofed_{
      {"display_name_address", 0}, {"colleague_name", 0}, {"own_domain_unauthenticated", 0}, {"thread_hijack", 0}};
  std::atomic<std::uint64_t> outbound_messages_{0}, outbound_flagged_{0}, outbound_frozen_messages_{0},
      outbound_freezes_{0}, outbound_frozen_{0}, outbound_cpu_ns_{0};
  std::unique_ptr<Server> server_;
};

}  // namespace emogate
