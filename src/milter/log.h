// Mail log: one line per message to syslog in Postfix's style (queue id
// first, key=value pairs), optional JSON lines file, optional stderr copy.
// Senders, paths and client names are escaped before they reach a log
// line so nobody can forge or split log entries.
// Trusted input: none.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"

namespace emogate {

// Everything the per-message line says.
struct MessageLog {
  Envelope env;
  std::string verdict;  // clean/suspicious/malicious, or "error"
  Action action = Action::accept;
  std::string why;  // policy reason or error text
  std::vector<Finding> findings;
  std::uint64_t size = 0;
  double scan_ms = 0;
  std::string quarantine_id;
  // A scan that did not complete: "load" (no worker in time) or "content"
  // (the message crashed, exhausted or outran a worker twice); empty when
  // it completed. failure_cause names it (queue_full, worker_crash, ...).
  std::string failure, failure_cause;
  // "in" or "out" ([outbound] direction); "" leaves the field out.
  std::string dir;
};

// "QUEUEID: verdict=... action=... findings=type@path,... size=... scan_ms=...
//  from=<...> nrcpt=N client=... dir=in|out" (one line, no newline).
std::string format_log_line(const MessageLog& m);
// One JSON object on one line; `unix_time` is the event time.
std::string format_json_line(const MessageLog& m, double unix_time);
// syslog facility number from its name ("mail", "local0".."local7", ...);
// -1 when unknown.
int syslog_facility(std::string_view name);

class MailLog {
 public:
  // Opens syslog and the JSON file (created 0600). Throws std::runtime_error
  // when the JSON file cannot be opened.
  void open(const LogSettings& s);
  // Opens the JSON file again by its path (after logrotate moved it away;
  // created 0600 if absent) and writes to it from then on. On failure the
  // old file stays in use and the reason is returned; "" when done or when
  // there is no JSON file.
  std::string reopen();
  void message(const MessageLog& m);
  // Errors, limits and notices, prefixed with the queue id like Postfix.
  void info(std::string_view queue_id, std::string_view text);
  void warning(std::string_view queue_id, std::string_view text);
  void error(std::string_view queue_id, std::string_view text);
  ~MailLog();

 private:
  void emit(int priority, const std::string& line);
  std::mutex mu_;
  bool to_stderr_ = false;
  int json_fd_ = -1;
  std::string json_path_;
};

}  // namespace emogate
