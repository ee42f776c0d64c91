// The milter daemon's lifecycle around the callbacks of milter.cpp: start
// (log, rules, the socket opened as root, detaching from the terminal, pid
// file, the drop to [milter] user, the worker processes or scan threads,
// the PPAP state store),
// then the signal loop (SIGHUP reopens the JSON log and reloads config and rules, SIGTERM/SIGINT
// stop), then the drain that lets running messages finish.
// Trusted input: the configuration.
#include "milter/milter.h"

#include <fcntl.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "config/mta.h"
#include "milter/daemon.h"
#include "milter/listener.h"
#include "milter/privileges.h"
#include "quarantine/store.h"

namespace emogate {

Daemon* g_daemon = nullptr;

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- privileges

// Files the daemon writes after the drop must belong to its user.
void hand_over_files(const Config& config, const Ids& ids) {
  QuarantineStore(config.quarantine.dir).ensure_dir();
  if (!ids.drop) return;
  if (::chown(config.quarantine.dir.c_str(), ids.uid, ids.gid) != 0)
    throw std::runtime_error("chown " + config.quarantine.dir + ": " + std::strerror(errno));
  if (!config.log.json_path.empty() && ::chown(config.log.json_path.c_str(), ids.uid, ids.gid) != 0)
    throw std::runtime_error("chown " + config.log.json_path + ": " + std::strerror(errno));
}

// ---------------------------------------------------------------- socket, detaching, pid file

std::string unix_path(const std::string& conn) {
  for (const char* p : {"unix:", "local:"})
    if (conn.rfind(p, 0) == 0) return conn.substr(std::strlen(p));
  if (!conn.empty() && conn[0] == '/') return conn;
  return "";
}

// Registers the callbacks and opens [milter] socket while still root; a
// unix socket ends up owned by the daemon user and [milter] group, with
// [milter] socket_mode. Throws std::runtime_error with the reason.
void open_socket(Daemon& d, const MilterSettings& ms, const Ids& ids) {
  if (!register_milter_callbacks()) throw std::runtime_error("smfi_register failed");
  std::string conn = ms.socket;
  if (smfi_setconn(conn.data()) != MI_SUCCESS) throw std::runtime_error("bad [milter] socket " + conn);
  smfi_settimeout(static_cast<int>(ms.timeout_s));
  smfi_setbacklog(128);
  std::string path = unix_path(conn);
  if (!path.empty()) {
    std::string dir = path.substr(0, path.rfind('/'));
    if (!dir.empty() && ::access(dir.c_str(), F_OK) != 0 && ::mkdir(dir.c_str(), 0750) == 0 && ids.drop &&
        ::chown(dir.c_str(), ids.uid, ids.sock_gid) != 0)
      throw std::runtime_error("chown " + dir + ": " + std::strerror(errno));
  }
  // The socket is born without group/other access; then opened up to mode.
  const std::set<int> listeners = tcp_listeners();
  mode_t old_mask = ::umask(0177);
  int open_rc = smfi_opensocket(true);
  ::umask(old_mask);
  if (open_rc != MI_SUCCESS) throw std::runtime_error("cannot open milter socket " + conn);
  if (path.empty()) {
    if (!set_nodelay_on_new_listeners(listeners))
      d.log.warning("", "cannot set TCP_NODELAY on milter socket " + conn +
                            ": each message may wait about 40 ms per header change (use a unix socket)");
    return;
  }
  if (::geteuid() == 0 && ::chown(path.c_str(), ids.uid, ids.sock_gid) != 0)
    throw std::runtime_error("chown " + path + ": " + std::strerror(errno));
  if (::geteuid() != 0 && ::chown(path.c_str(), -1, ids.sock_gid) != 0)
    d.log.warning("", "cannot give socket to group " + ms.group + ": " + std::strerror(errno));
  if (::chmod(path.c_str(), ms.socket_mode) != 0)
    throw std::runtime_error("chmod " + path + ": " + std::strerror(errno));
}

void daemonize() {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid > 0) _exit(0);
  ::setsid();
  if (::chdir("/") != 0) {
    // XXX: ignored; the daemon then keeps the directory it was started in.
  }
  int fd = ::open("/dev/null", O_RDWR);
  if (fd >= 0) {
    ::dup2(fd, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (fd > 2) ::close(fd);
  }
}

void write_pid_file(const MilterSettings& ms, const Ids& ids) {
  if (ms.pid_file.empty()) return;
  FILE* f = std::fopen(ms.pid_file.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write pid file " + ms.pid_file);
  std::fprintf(f, "%d\n", static_cast<int>(::getpid()));
  std::fclose(f);
  if (ids.drop && ::chown(ms.pid_file.c_str(), ids.uid, ids.gid) != 0) {
    // XXX: ignored; the pid file then stays root's.
  }
}

// ---------------------------------------------------------------- scanning

// [milter] workers, or one per CPU.
unsigned scan_threads(const MilterSettings& ms) {
  return ms.workers ? ms.workers : std::max(1u, std::thread::hardware_concurrency());
}

// Logs a worker's end (one syslog line per death, with the queue id of the
// message it held) and counts it.
void worker_event(const WorkerEvent& ev) {
  if (ev.cause == "fork_failed") {
    g_daemon->metrics.worker_fork_failed();
    g_daemon->log.warning("", "a scan worker " + ev.how + "; the pool forks it again when a message arrives");
    return;
  }
  g_daemon->metrics.worker_ended(ev.cause, ev.killed, ev.scans);
  if (ev.cause == "shutdown") return;
  std::string line = "scan worker " + std::to_string(ev.pid) + " ";
  if (!ev.died) {
    line += "retired (" + ev.cause + ") after " + std::to_string(ev.scans) + " scans";
    if (ev.cause == "scan_timeout_ms") line += "; the scan ran out of time";
    g_daemon->log.info(ev.queue_id, line);
    return;
  }
  line += ev.how + " (cause " + ev.cause + ") after " + std::to_string(ev.scans) + " scans" +
          (ev.queue_id.empty() ? std::string() : " while scanning this message") + "; replaced";
  g_daemon->log.warning(ev.queue_id, line);
}

// [limits] isolation = "process": forked now, while the process has a
// single thread, with config, rules and lists loaded, so the workers share
// them copy-on-write.
void start_workers(Daemon& d, const Config& config) {
  if (config.limits.isolation != "process") return;
  d.workers = std::make_unique<WorkerPool>(*d.scanner, worker_pool_settings(config, scan_threads(config.milter)),
                                           [](const WorkerEvent& ev) { worker_event(ev); });
  d.workers->start();
  d.metrics.set_workers([w = d.workers.get()] { return w->workers(); });
  if (config.milter.spool_region_bytes > 0) {
    d.spool_regions = std::make_shared<SpoolRegions>(config.milter.spool_region_bytes,
                                                     std::size_t{2} * d.workers->workers());
    // One made now, so that a kernel without F_SEAL_FUTURE_WRITE (before
    // 5.1) says so once; messages then get a memfd each, as without regions.
    if (auto r = d.spool_regions->acquire()) d.spool_regions->release(*r);
    else d.log.warning("", d.spool_regions->error() + "; every message gets a memfd of its own");
  }
}

// In-process scans get their thread pool; either way the metrics learn
// where to read the queue depth.
void start_scan_threads(Daemon& d, const MilterSettings& ms) {
  if (d.workers) {
    d.metrics.set_queue_depth([p = d.workers.get()] { return p->depth(); });
    return;
  }
  d.pool = std::make_unique<ScanPool>(scan_threads(ms), ms.queue_size);
  d.metrics.set_queue_depth([p = d.pool.get()] { return p->depth(); });
}

// ---------------------------------------------------------------- start

sigset_t block_stop_signals();

// Everything up to serving, in this order: the socket as root, detaching
// (before any thread exists), the pid file, the privilege drop, the
// workers, the metrics listener. Throws std::runtime_error with the reason.
void start(Daemon& d, const Config& config, bool foreground) {
  LogSettings ls = config.log;
  ls.to_stderr = ls.to_stderr || foreground;
  d.log.open(ls);
  Ids ids = resolve_ids(config.milter);
  d.scanner = std::make_unique<Scanner>(config);
  d.metrics.rules_loaded_now();
  d.metrics.intel_loaded(config.intel);
  for (const auto& w : d.scanner->warnings()) d.log.warning("", w);
  for (const MtaLine& l : check_mta_files(config))
    if (l.warning) d.log.warning("", l.text);
  hand_over_files(config, ids);
  open_socket(d, config.milter, ids);
  if (!foreground) daemonize();
  write_pid_file(config.milter, ids);
  drop_privileges(ids);
  start_workers(d, config);
  // The metrics thread inherits the blocked stop signals, so a SIGHUP or
  // SIGTERM during a reload waits for the main thread's sigwait.
  block_stop_signals();
  if (!config.metrics.listen.empty()) d.metrics.start(config.metrics.listen);
  // After the drop and the workers' fork: the store's files are the daemon
  // user's, and no worker inherits its connection.
  // A store that cannot be opened leaves PPAP off (encrypted archives get
  // their normal action, as without [ppap]), said loudly in the log.
  if (config.ppap.enabled) {
    try {
      d.ppap = std::make_unique<PpapGate>(config);
      d.ppap->start(scan_threads(config.milter));
    } catch (const std::exception& e) {
      d.ppap.reset();
      d.log.error("", std::string("PPAP is off: cannot open the state store: ") + e.what());
    }
  }
  if (!config.outbound.local_domains.empty()) d.sender = SenderGate::open(config, &d.log, &d.metrics);
  // Without its store the outbound watch fails closed: every outbound
  // message gets [actions] on_error (milter.cpp).
  if (config.outbound.enabled) {
    d.outbound_on = true;
    try {
      d.outbound = d.ppap ? std::make_unique<OutboundGate>(d.ppap->store()) : std::make_unique<OutboundGate>(config);
    } catch (const std::exception& e) {
      d.log.error("", std::string("outbound watch: cannot open the state store (outbound mail gets [actions] on_error): ") +
                          e.what());
    }
  }
}

// ---------------------------------------------------------------- signals and reload

// Every thread started after this inherits the mask; only the main thread
// takes the signals (sigwait in wait_for_stop), so libmilter's own signal
// thread never sees SIGHUP.
sigset_t block_stop_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  return sigs;
}

// Runs libmilter's loop on its own thread; when it ends by itself (not by
// our stop) it wakes the main thread with SIGTERM.
std::thread start_milter_thread(Daemon& d) {
  const pthread_t main_thread = pthread_self();
  return std::thread([&d, main_thread] {
    d.milter_rc = smfi_main() == MI_SUCCESS ? 0 : 1;
    d.milter_done = true;
    if (!d.stopping) pthread_kill(main_thread, SIGTERM);  // wake the main thread
  });
}

void reload() {
  Daemon& d = *g_daemon;
  try {
    Config c = load_config(d.config_path);
    auto old = d.cfg();
    if (c.milter.socket != old->milter.socket || c.milter.user != old->milter.user ||
        c.milter.workers != old->milter.workers || c.milter.queue_size != old->milter.queue_size ||
        c.milter.spool_region_bytes != old->milter.spool_region_bytes)
      d.log.warning("", "[milter] socket/user/workers/queue_size/spool_region_bytes changes need a restart; kept the "
                        "running values");
    if (c.limits.isolation != old->limits.isolation || c.limits.worker_memory != old->limits.worker_memory ||
        c.limits.worker_max_scans != old->limits.worker_max_scans ||
        c.limits.worker_max_rss != old->limits.worker_max_rss)
      d.log.warning("", "[limits] isolation/worker_* changes need a restart; kept the running values");
    if (c.ppap.enabled != old->ppap.enabled || c.outbound.enabled != old->outbound.enabled || c.state.backend != old->state.backend ||
        c.state.path != old->state.path || c.state.redis != old->state.redis ||
        c.state.redis_prefix != old->state.redis_prefix || c.state.busy_timeout_ms != old->state.busy_timeout_ms ||
        c.state.outbound_commit_ms != old->state.outbound_commit_ms)
      d.log.warning("", "[ppap] enabled, [outbound] enabled and [state] changes need a restart; kept the running store");
    if (!d.sender && !c.outbound.local_domains.empty())
      d.log.warning("", "[outbound] local_domains set by a reload: the inbound sender checks start at the next restart");
    d.scanner->reload(c);
    // New workers fork from the new rules; old ones finish and are replaced.
    if (d.workers) d.workers->reload();
    std::atomic_store(&d.config, std::shared_ptr<const Config>(std::make_shared<Config>(std::move(c))));
    d.metrics.rules_loaded_now();
    d.metrics.intel_loaded(d.cfg()->intel);
    for (const auto& w : d.scanner->warnings()) d.log.warning("", "reload: " + w);
    for (const MtaLine& l : check_mta_files(*d.cfg()))
      if (l.warning) d.log.warning("", "reload: " + l.text);
    d.log.info("", "reloaded configuration and rules from " + d.config_path);
  } catch (const std::exception& e) {
    d.log.error("", std::string("reload failed, keeping the running configuration: ") + e.what());
  }
}

// Reloads on SIGHUP; returns on SIGTERM or SIGINT.
void wait_for_stop(const sigset_t& sigs) {
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig != SIGHUP) return;
    // The JSON log first, whatever becomes of the reload: logrotate moved
    // it away and sent this signal.
    if (std::string e = g_daemon->log.reopen(); !e.empty()) g_daemon->log.error("", e);
    reload();
  }
}

// ---------------------------------------------------------------- stop

// New messages get 4xx from now on; the ones in flight finish (bounded),
// then the listener, the scanners and the metrics stop. Returns the exit
// code: 1 when libmilter's loop ended without being asked to.
int drain_and_stop(Daemon& d, std::thread& milter, const MilterSettings& ms) {
  const bool unexpected = d.milter_rc != 0 && !d.stopping;
  d.stopping = true;
  d.log.info("", "stopping: new messages get 4xx, finishing " + std::to_string(d.busy.load()) + " message(s)");
  // Let messages that are being received or scanned finish; bounded so a
  // stuck client cannot hold the shutdown (the MTA then applies its
  // milter_default_action).
  auto limit = Clock::now() + std::chrono::milliseconds(d.cfg()->limits.scan_timeout_ms) + std::chrono::seconds(10);
  while (d.busy.load() > 0 && Clock::now() < limit) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Only now does the listener stop: during the drain new connections are
  // still served, and their MAIL FROM gets the 4xx at once (cb_envfrom)
  // instead of waiting unanswered. smfi_stop() waits for the listener to
  // wake from its poll (up to seconds), so it does not block this thread.
  std::thread([] { smfi_stop(); }).detach();
  // libmilter sends the end-of-message reply after our callback returned:
  // give the last replies time to reach the MTA before the process ends.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Sessions are drained; give the listener a moment to return, no more.
  for (int i = 0; i < 20 && !d.milter_done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (d.milter_done) milter.join();
  else milter.detach();
  // The last outbound records may wait for their batch ([state]
  // outbound_commit_ms); the store itself is never closed.
  if (d.outbound)
    if (state::Status st = d.outbound->store().flush(); !st.ok())
      d.log.error("", "outbound watch: the last records were not committed: " + st.message());
  if (d.ppap) d.ppap->stop();  // before the scanners its rescans use
  if (d.pool) d.pool->shutdown();
  if (d.workers) d.workers->shutdown();
  d.metrics.stop();
  if (!ms.pid_file.empty()) ::unlink(ms.pid_file.c_str());
  d.log.info("", unexpected ? "milter loop failed; exiting" : "stopped");
  return unexpected ? 1 : 0;
}

}  // namespace

int run_milter(const Config& config, const std::string& config_path, bool foreground) {
  Daemon& d = *new Daemon;  // never freed: see g_daemon
  g_daemon = &d;
  d.config_path = config_path;
  d.config = std::make_shared<Config>(config);
  try {
    start(d, config, foreground);
  } catch (const std::exception& e) {
    d.log.error("", e.what());
    if (!foreground && !config.log.to_stderr) std::fprintf(stderr, "emogate: %s\n", e.what());
    return 1;
  }
  const sigset_t sigs = block_stop_signals();
  start_scan_threads(d, config.milter);
  std::thread milter = start_milter_thread(d);
  d.log.info("", "starting: socket " + config.milter.socket + ", " + std::to_string(scan_threads(config.milter)) +
                     (d.workers ? " sandboxed worker processes" : " in-process scan threads") + ", queue " +
                     std::to_string(config.milter.queue_size) + ", scan deadline " +
                     std::to_string(config.limits.scan_timeout_ms) + " ms");
  wait_for_stop(sigs);
  return drain_and_stop(d, milter, config.milter);
}

}  // namespace emogate
