// The release copy and the sendmail runner; see release.h.
// Trusted input: the sendmail path from the configuration.
#include "quarantine/release.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <ostream>
#include <vector>

#include "engine/blob.h"

namespace emogate {

std::string with_headers(std::string_view raw, const std::vector<std::pair<std::string, std::string>>& headers) {
  const std::string eol = raw.find("\r\n") != std::string_view::npos ? "\r\n" : "\n";
  std::string out;
  for (const auto& [name, value] : headers) {
    out += name + ": ";
    for (char c : value) {
      if (c == '\n') out += eol;
      else if (c != '\r') out += c;
    }
    out += eol;
  }
  return out.append(raw);
}

std::string release_copy(std::string_view raw, std::string_view by, std::string_view id,
                         std::int64_t now) {
  std::string who;
  for (char c : by)  // the header must stay one printable line
    who += (c > 0x20 && c < 0x7f) ? c : '_';
  if (who.empty()) who = "unknown";
  return with_headers(raw, {{"X-Emogate-Released",
                             "by " + who + " at " + iso_time(now) + " from quarantine " + std::string(id)}});
}

int run_sendmail(const std::string& sendmail, const QuarantineMeta& m, const std::string& msg,
                 std::ostream& err) {
  std::vector<std::string> argv = {sendmail, "-i", "-f", m.sender.empty() ? "<>" : m.sender, "--"};
  argv.insert(argv.end(), m.recipients.begin(), m.recipients.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return -1;
  }
  if (pid == 0) {
    ::dup2(p[0], 0);
    ::execv(cargv[0], cargv.data());
    _exit(127);
  }
  ::close(p[0]);
  // A sendmail that exits before reading everything must give EPIPE (and a
  // message), not end the command by SIGPIPE.
  struct sigaction ignore {}, old_pipe {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  const int write_error = write_fully(p[1], msg.data(), msg.size());
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  if (write_error) err << "emogate: write sendmail pipe: " << std::strerror(write_error) << "\n";
  ::close(p[1]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) continue;
  if (write_error) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ReleaseOutcome release_entry(const QuarantineStore& store, const std::string& sendmail, QuarantineMeta m,
                             const std::vector<std::string>& recipients, std::string_view by, bool keep,
                             std::int64_t now, std::ostream& err) {
  if (m.recipients.empty()) {
    err << "emogate: " << m.id << " has no recipients to release to\n";
    return ReleaseOutcome::no_recipients;
  }
  auto is_ours = [&](const std::string& r) {
    return std::find(m.recipients.begin(), m.recipients.end(), r) != m.recipients.end();
  };
  QuarantineMeta envelope = m;
  if (!recipients.empty()) {
    envelope.recipients.clear();
    for (const std::string& r : recipients) {
      if (!is_ours(r)) {
        err << "emogate: " << m.id << ": not one of its recipients\n";
        return ReleaseOutcome::bad_recipient;
      }
      if (std::find(envelope.recipients.begin(), envelope.recipients.end(), r) == envelope.recipients.end())
        envelope.recipients.push_back(r);
    }
  }
  try {
    int rc = run_sendmail(sendmail, envelope, release_copy(store.message(m.id), by, m.id, now), err);
    if (rc != 0) {
      err << "emogate: " << sendmail << " failed (status " << rc << "); " << m.id << " kept\n";
      return ReleaseOutcome::sendmail_failed;
    }
  } catch (const std::exception& e) {
    err << "emogate: " << m.id << ": " << e.what() << "\n";
    return ReleaseOutcome::sendmail_failed;
  }
  // A release to all of them (also when some had it before) needs no
  // record of who had it: the entry goes unless it is to be kept.
  for (const std::string& r : envelope.recipients)
    if (std::find(m.released_to.begin(), m.released_to.end(), r) == m.released_to.end()) m.released_to.push_back(r);
  const bool everyone = std::all_of(m.recipients.begin(), m.recipients.end(), [&](const std::string& r) {
    return std::find(m.released_to.begin(), m.released_to.end(), r) != m.released_to.end();
  });
  try {
    if (everyone && !keep) {
      if (store.remove(m.id)) return ReleaseOutcome::released;
      err << "emogate: released " << m.id << " but could not remove its entry from " << store.dir() << "\n";
      return ReleaseOutcome::not_removed;
    }
    m.released_by = std::string(by);
    m.released_at = now;
    if (everyone) m.released_to.clear();  // empty with released_by set: all of them
    store.update_meta(m);
  } catch (const std::exception& e) {
    err << "emogate: released " << m.id << " but could not update its entry: " << e.what() << "\n";
    return ReleaseOutcome::not_removed;
  }
  return ReleaseOutcome::released;
}

}  // namespace emogate
