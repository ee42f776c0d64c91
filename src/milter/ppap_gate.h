// The milter's side of PPAP (ppap/pending.h does the work): the state store
// the daemon opens, the Effects a step has in the daemon (the held message
// rescanned through the worker processes or scan threads like new mail,
// re-injection through [quarantine] sendmail as `emogate quarantine
// release` does, the quarantine directory, one log line and a metric per
// event), the thread that rescans and releases unlocked messages off
// libmilter's callback threads, and the sweeper thread that applies
// [ppap] on_timeout on time even when no mail arrives.
// Trusted input: the configuration.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emogate/config.h"
#include "ppap/pending.h"
#include "state/store.h"

namespace emogate {

class PpapGate {
 public:
  // Opens [state]; throws std::runtime_error when it cannot be opened.
  explicit PpapGate(const Config& c);
  ~PpapGate();
  PpapGate(const PpapGate&) = delete;
  PpapGate& operator=(const PpapGate&) = delete;

  // Starts the release threads (rescans run in parallel up to the scan
  // workers' number, at most 4) and the sweeper thread.
  void start(unsigned scan_threads);
  // Stops them: a running rescan finishes; queued ones give their claims up
  // (the entries keep waiting, for this or another host).
  void stop();

  ppap::Desk& desk() { return *desk_; }
  // Its state store connection, shared with the outbound gate.
  state::StateStore& store() { return *store_; }
  // Queues claimed entries for a rescan with the password mail's passwords.
  void submit(std::vector<ppap::Claimed> claimed, const std::string& password_mail);
  // Re-reads the number of waiting messages into the metrics.
  void refresh_pending();

  // This host's id in claims and locks: host name and pid.
  static std::string host_id();
  static std::int64_t now();

 private:
  struct Job {
    ppap::Claimed claimed;
    std::string password_mail;
  };
  void release_loop();
  void sweep_loop();

  std::unique_ptr<state::StateStore> store_;
  std::unique_ptr<ppap::Effects> fx_;
  std::unique_ptr<ppap::Desk> desk_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  // Records being settled here: a job for one of them waits its turn (two
  // password mails for one record are settled one after the other).
  std::set<std::string> active_;
  bool stopping_ = false;
  std::vector<std::thread> releasers_;
  std::thread sweeper_;
};

}  // namespace emogate
