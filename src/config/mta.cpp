// See mta.h.
// Trusted input: the configuration and the MTA's files (admin input).
#include "config/mta.h"

#include "config/postfix.h"
#include "config/sendmail.h"

namespace emogate {

std::vector<MtaLine> check_mta_files(const Config& cfg) {
  std::vector<MtaLine> out;
  const MilterSettings& m = cfg.milter;
  // One message at end of data: the wait for a worker (at most
  // scan_timeout_ms), then a scan and its retry, each scan_timeout_ms plus
  // the worker's grace.
  const mta::Milter ours{m.socket, 3ull * cfg.limits.scan_timeout_ms + 500, m.max_message_size};
  const auto add = [&](std::string_view mta, const std::string& key, const std::string& where, std::string_view one,
                       std::string_view many, const mta::Report& r) {
    const std::string head = std::string(mta) + ' ' + where + ": ";
    if (!r.error.empty()) {
      auto line = cfg.lines.find("milter." + key);
      out.push_back({false, head + "not checked"});
      out.push_back({true, ConfigError(cfg.source, line == cfg.lines.end() ? 0 : line->second,
                                       "milter." + key + ": " + r.error)
                               .what()});
      return;
    }
    out.push_back({false, head + std::to_string(r.candidates) + ' ' + std::string(r.candidates == 1 ? one : many) +
                              ", " + std::to_string(r.reaching) + " reaching emogate, " +
                              std::to_string(r.warnings.size()) + " warning" + (r.warnings.size() == 1 ? "" : "s")});
    for (const mta::Finding& w : r.warnings)
      out.push_back({true, w.file + (w.line ? ":" + std::to_string(w.line) : std::string()) + ": " + w.text});
  };
  if (!m.postfix_config.empty())
    add("postfix", "postfix_config", m.postfix_config, "smtpd service with milters", "smtpd services with milters",
        postfix::check(m.postfix_config, ours));
  if (!m.sendmail_config.empty())
    add("sendmail", "sendmail_config", m.sendmail_config, "mail filter in use", "mail filters in use",
        sendmail::check(m.sendmail_config, ours));
  return out;
}

}  // namespace emogate
