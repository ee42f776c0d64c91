// Mail log formatting and output; see log.h.
// Trusted input: none.
#include "milter/log.h"

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "milter/policy.h"

namespace emogate {

namespace {

std::string qid_or_noqueue(std::string_view q) {
  return q.empty() ? std::string("NOQUEUE") : policy::escape_text(q, " :");
}

std::string fmt_ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", ms);
  return buf;
}

}  // namespace

std::string format_log_line(const MessageLog& m) {
  constexpr std::size_t kMaxFindings = 30;
  std::string f;
  std::size_t n = 0;
  for (const Finding& x : m.findings) {
    if (n == kMaxFindings) {
      f += ",+" + std::to_string(m.findings.size() - n);
      break;
    }
    if (n++) f += ',';
    f += std::string(to_string(x.type)) + "@" + policy::escape_text(x.path, ", =");
  }
  std::string line = qid_or_noqueue(m.env.queue_id) + ": verdict=" + m.verdict +
                     " action=" + std::string(to_string(m.action));
  line += " findings=" + (f.empty() ? std::string("-") : f);
  line += " size=" + std::to_string(m.size) + " scan_ms=" + fmt_ms(m.scan_ms);
  line += " from=<" + policy::escape_text(m.env.sender, " <>") + ">";
  line += " nrcpt=" + std::to_string(m.env.recipients.size());
  line += " client=" + (m.env.client_addr.empty() ? std::string("-")
                                                  : policy::escape_text(m.env.client_addr, " "));
  if (!m.dir.empty()) line += " dir=" + m.dir;
  if (!m.env.auth_user.empty()) line += " sasl_username=" + policy::escape_text(m.env.auth_user, " ");
  if (!m.quarantine_id.empty()) line += " quarantine=" + m.quarantine_id;
  if (!m.failure.empty()) line += " failure=" + m.failure + " cause=" + m.failure_cause;
  // Free text goes last, in parentheses, as Postfix does with its reasons.
  if (m.verdict == "error" && !m.why.empty()) line += " (" + policy::escape_text(m.why) + ")";
  return line;
}

std::string format_json_line(const MessageLog& m, double unix_time) {
  nlohmann::json j;
  j["time"] = unix_time;
  j["queue_id"] = m.env.queue_id;
  j["verdict"] = m.verdict;
  j["action"] = std::string(to_string(m.action));
  j["why"] = m.why;
  j["size"] = m.size;
  j["scan_ms"] = m.scan_ms;
  j["from"] = m.env.sender;
  j["rcpts"] = m.env.recipients;
  j["client"] = m.env.client_addr;
  j["auth_user"] = m.env.auth_user;
  if (!m.dir.empty()) j["dir"] = m.dir;
  if (!m.quarantine_id.empty()) j["quarantine_id"] = m.quarantine_id;
  if (!m.failure.empty()) {
    j["failure"] = m.failure;
    j["failure_cause"] = m.failure_cause;
  }
  auto& fa = j["findings"] = nlohmann::json::array();
  for (const Finding& x : m.findings) fa.push_back(finding_json(x));
  // Sender-controlled strings may be invalid UTF-8: replace, never throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int syslog_facility(std::string_view name) {
  static const struct { const char* n; int f; } kTable[] = {
      {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},
      {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
  };
  for (const auto& e : kTable)
    if (name == e.n) return e.f;
  return -1;
}

namespace {
int open_json(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}
}  // namespace

void MailLog::open(const LogSettings& s) {
  int fac = syslog_facility(s.facility);
  openlog("emogate", LOG_PID | LOG_NDELAY, fac < 0 ? LOG_MAIL : fac);
  int fd = -1;
  if (!s.json_path.empty()) {
    fd = open_json(s.json_path);
    if (fd < 0)
      throw std::runtime_error("cannot open [log] json_path " + s.json_path + ": " + std::strerror(errno));
  }
  std::lock_guard lk(mu_);
  to_stderr_ = s.to_stderr;
  if (json_fd_ >= 0) ::close(json_fd_);
  json_fd_ = fd;
  json_path_ = s.json_path;
  if (fac < 0) syslog(LOG_WARNING, "unknown [log] facility '%s', using mail", policy::escape_text(s.facility).c_str());
}

std::string MailLog::reopen() {
  std::string path;
  {
    std::lock_guard lk(mu_);
    path = json_path_;
  }
  if (path.empty()) return {};
  int fd = open_json(path);
  if (fd < 0) return "cannot reopen [log] json_path " + path + ": " + std::strerror(errno) + "; still writing to the old file";
  std::lock_guard lk(mu_);
  if (json_fd_ >= 0) ::close(json_fd_);
  json_fd_ = fd;
  return {};
}

MailLog::~MailLog() {
  if (json_fd_ >= 0) ::close(json_fd_);
}

void MailLog::emit(int priority, const std::string& line) {
  syslog(priority, "%s", line.c_str());
  std::lock_guard lk(mu_);
  if (to_stderr_) {
    std::string l = "emogate: " + line + "\n";
    (void)!::write(2, l.data(), l.size());
  }
}

void MailLog::message(const MessageLog& m) {
  emit(LOG_INFO, format_log_line(m));
  std::lock_guard lk(mu_);
  if (json_fd_ < 0) return;
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string l = format_json_line(m, now) + "\n";
  // O_APPEND + one write per line keeps lines whole between processes.
  (void)!::write(json_fd_, l.data(), l.size());
}

namespace {
// Daemon-level notices carry no queue id, like Postfix's own.
std::string prefix(std::string_view q) { return q.empty() ? std::string() : qid_or_noqueue(q) + ": "; }
}  // namespace

void MailLog::info(std::string_view q, std::string_view t) { emit(LOG_INFO, prefix(q) + policy::escape_text(t, "")); }
void MailLog::warning(std::string_view q, std::string_view t) {
  emit(LOG_WARNING, prefix(q) + "warning: " + policy::escape_text(t, ""));
}
void MailLog::error(std::string_view q, std::string_view t) {
  emit(LOG_ERR, prefix(q) + "error: " + policy::escape_text(t, ""));
}

}  // namespace emogate
