// The milter's side of PPAP; see ppap_gate.h.
// Trusted input: the configuration.
#include "milter/ppap_gate.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stdexcept>

#include "engine/blob.h"
#include "milter/daemon.h"
#include "quarantine/release.h"
#include "quarantine/store.h"
#include "worker/spool.h"
#include "worker/worker_pool.h"

namespace emogate {
namespace {

using Clock = std::chrono::steady_clock;

// Queued rescans beyond this give their claims up at once (the entries
// keep waiting, and another password mail or the sweeper settles them).
constexpr std::size_t kMaxQueuedJobs = 1000;

class DaemonEffects final : public ppap::Effects {
 public:
  std::optional<Report> rescan(std::string_view raw, const Envelope& env, const ScanOptions& opts,
                               std::string* error) override {
    Daemon& d = *g_daemon;
    auto cfg = d.cfg();
    const auto deadline = Clock::now() + std::chrono::milliseconds(cfg->limits.scan_timeout_ms);
    if (d.workers) {
      MessageSpool spool(cfg->milter.max_message_size);
      const int fd = spool.write(raw) ? spool.seal() : -1;
      if (fd < 0) {
        *error = "message buffer failed: " + spool.error();
        return std::nullopt;
      }
      wire::Request req;
      req.env = env;
      req.opts = opts;
      WorkerPool::Outcome o = d.workers->scan(req, fd, spool.size(), deadline);
      if (o.failure == WorkerPool::Failure::load) {
        *error = o.error;
        return std::nullopt;
      }
      if (o.failure == WorkerPool::Failure::content)
        return content_failure_report(o, cfg->baseline(FindingType::limit_exceeded), env.queue_id);
      return std::move(o.report);
    }
    const Scanner* scanner = d.scanner.get();
    auto bytes = std::make_shared<std::string>(raw);
    ScanPool::Result r = d.pool->run([scanner, bytes, env, opts] { return scanner->scan_message(*bytes, env, opts); },
                                     deadline + std::chrono::milliseconds(250));
    if (r.status == ScanPool::Status::ok && !report_timed_out(r.report)) return std::move(r.report);
    *error = r.status == ScanPool::Status::ok ? "scan deadline passed ([limits] scan_timeout_ms)" : r.error;
    return std::nullopt;
  }

  bool send(const std::string& sender, const std::vector<std::string>& recipients, const std::string& message,
            std::string* error) override {
    QuarantineMeta m;
    m.sender = sender;
    m.recipients = recipients;
    std::ostringstream err;
    const int rc = run_sendmail(g_daemon->cfg()->quarantine.sendmail, m, message, err);
    if (rc == 0) return true;
    *error = g_daemon->cfg()->quarantine.sendmail + " exited with status " + std::to_string(rc) + " " + err.str();
    return false;
  }

  std::optional<std::string> quarantine(std::string_view raw, const Report& report, QuarantineMeta meta,
                                        std::string* error) override {
    try {
      return QuarantineStore(g_daemon->cfg()->quarantine.dir).put(raw, to_json(report), std::move(meta));
    } catch (const std::exception& e) {
      *error = e.what();
      return std::nullopt;
    }
  }

  void event(const ppap::Event& e) override {
    const std::string line = ppap::format_event(e);
    if (e.kind == ppap::Event::Kind::error) g_daemon->log.error(e.queue_id, line);
    else if (e.kind == ppap::Event::Kind::not_held) g_daemon->log.warning(e.queue_id, line);
    else g_daemon->log.info(e.queue_id, line);
    g_daemon->metrics.ppap_event(ppap::to_string(e.kind));
  }
};

// How often the sweeper looks: a twentieth of the window, 1 to 30 s.
std::chrono::seconds sweep_interval(const Config& c) {
  return std::chrono::seconds(std::clamp<std::int64_t>(c.ppap.window_s / 20, 1, 30));
}

}  // namespace

PpapGate::PpapGate(const Config& c) {
  auto opened = state::open_state_store(c.state);
  if (!opened.ok()) throw std::runtime_error("[state]: " + opened.status().message());
  store_ = std::move(*opened);
  fx_ = std::make_unique<DaemonEffects>();
  desk_ = std::make_unique<ppap::Desk>(*store_, host_id(), *fx_);
}

PpapGate::~PpapGate() { stop(); }

std::string PpapGate::host_id() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) name[0] = 0;
  std::string id;
  for (const char* p = name; *p && id.size() < 100; ++p) {
    const char c = *p;
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-';
    id += ok ? c : '_';
  }
  if (id.empty()) id = "host";
  return id + "-" + std::to_string(::getpid());
}

std::int64_t PpapGate::now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void PpapGate::start(unsigned scan_threads) {
  refresh_pending();
  for (unsigned i = 0; i < std::clamp(scan_threads, 1u, 4u); ++i) releasers_.emplace_back([this] { release_loop(); });
  sweeper_ = std::thread([this] { sweep_loop(); });
}

void PpapGate::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : releasers_) t.join();
  releasers_.clear();
  if (sweeper_.joinable()) sweeper_.join();
  for (const Job& j : jobs_) (void)store_->pending().unclaim(j.claimed.unlock.id, desk_->host());
  jobs_.clear();
  active_.clear();
}

void PpapGate::submit(std::vector<ppap::Claimed> claimed, const std::string& password_mail) {
  std::unique_lock lk(mu_);
  for (ppap::Claimed& c : claimed) {
    if (stopping_ || jobs_.size() >= kMaxQueuedJobs) {
      (void)store_->pending().unclaim(c.unlock.id, desk_->host());
      g_daemon->log.warning(c.held_queue_id, "ppap: too many rescans queued; " + c.unlock.id +
                                                 " keeps waiting (its claim was given up)");
      continue;
    }
    jobs_.push_back({std::move(c), password_mail});
  }
  lk.unlock();
  cv_.notify_all();
}

void PpapGate::refresh_pending() {
  if (auto n = desk_->awaiting()) g_daemon->metrics.set_ppap_pending(*n);
}

void PpapGate::release_loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lk(mu_);
      auto next = jobs_.end();
      cv_.wait(lk, [&] {
        next = std::find_if(jobs_.begin(), jobs_.end(),
                            [this](const Job& j) { return !active_.count(j.claimed.unlock.id); });
        return stopping_ || next != jobs_.end();
      });
      if (stopping_) return;
      job = std::move(*next);
      jobs_.erase(next);
      active_.insert(job.claimed.unlock.id);
    }
    auto cfg = g_daemon->cfg();
    desk_->settle(job.claimed, job.password_mail, *cfg, now());
    {
      std::lock_guard lk(mu_);
      active_.erase(job.claimed.unlock.id);
    }
    cv_.notify_all();  // a job for the same record may wait for this one
    refresh_pending();
  }
}

void PpapGate::sweep_loop() {
  std::string last_error;
  for (;;) {
    auto cfg = g_daemon->cfg();
    const auto interval = sweep_interval(*cfg);
    state::Status st = desk_->sweep(*cfg, now(), 3 * interval.count() + 30);
    if (!st.ok() && st.message() != last_error)
      g_daemon->log.error("", "ppap sweeper: state store: " + st.message() + "; trying again every " +
                                  std::to_string(interval.count()) + " s");
    else if (st.ok() && !last_error.empty())
      g_daemon->log.info("", "ppap sweeper: state store reachable again");
    last_error = st.ok() ? std::string() : st.message();
    refresh_pending();
    std::unique_lock lk(mu_);
    if (cv_.wait_for(lk, interval, [this] { return stopping_; })) return;
  }
}

}  // namespace emogate
