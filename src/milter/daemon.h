// What the two halves of the milter daemon share: the daemon's state (the
// running configuration, the scanner, the scan pool or worker processes,
// the PPAP and outbound state store connections, the mail log and metrics, the count of messages in flight) and the one
// call from the lifecycle (daemon.cpp: privileges, socket, daemonizing,
// signals, reload, drain) into the libmilter callbacks (milter.cpp).
// Trusted input: none.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "emogate/config.h"
#include "emogate/scanner.h"
#include "milter/log.h"
#include "milter/metrics.h"
#include "milter/outbound_gate.h"
#include "milter/ppap_gate.h"
#include "milter/scan_pool.h"
#include "milter/sender_gate.h"
#include "worker/spool.h"
#include "worker/worker_pool.h"

namespace emogate {

struct Daemon {
  std::string config_path;
  std::shared_ptr<const Config> config;  // swapped whole on SIGHUP
  std::unique_ptr<Scanner> scanner;
  std::unique_ptr<ScanPool> pool;        // [limits] isolation = "inprocess"
  std::unique_ptr<WorkerPool> workers;  // [limits] isolation = "process"
  std::shared_ptr<SpoolRegions> spool_regions;  // with workers, unless [milter] spool_region_bytes = 0
  std::unique_ptr<PpapGate> ppap;       // [ppap] enabled: the state store and its threads
  std::unique_ptr<SenderGate> sender;   // [outbound] local_domains: inbound sender checks with the store
  // [outbound] enabled at start (a reload cannot change it): the PPAP
  // gate's connection to the state store, or its own without PPAP; null
  // with outbound_on when it failed to open.
  bool outbound_on = false;
  std::unique_ptr<OutboundGate> outbound;
  MailLog log;
  Metrics metrics;
  std::atomic<int> busy{0};  // messages between MAIL FROM and EOM/abort
  std::atomic<bool> stopping{false};
  // The libmilter thread may outlive run_milter (see drain_and_stop).
  std::atomic<int> milter_rc{0};
  std::atomic<bool> milter_done{false};

  std::shared_ptr<const Config> cfg() const { return std::atomic_load(&config); }
};

// The process's one daemon, set by run_milter before libmilter can call
// back, and never freed: libmilter's detached session threads may still
// touch it while the process exits.
extern Daemon* g_daemon;

// Registers the callbacks of milter.cpp with libmilter (smfi_register).
// False when libmilter refuses them.
bool register_milter_callbacks();

}  // namespace emogate
