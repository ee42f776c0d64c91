// `emogate quarantine`: lists, shows, releases (through release.h) and
// deletes entries of the quarantine store; see quarantine.h. Envelope
// strings in its output are escaped as in the mail log: they come from the
// SMTP client.
// Trusted input: the command line and the configuration.
#include "cli/quarantine.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>

#include "common/text.h"
#include "formats/passwords/ppap_blob.h"
#include "milter/policy.h"
#include "quarantine/release.h"
#include "quarantine/store.h"
#include "state/store.h"

namespace emogate {

std::string current_user() {
  if (const char* s = std::getenv("SUDO_USER"); s && *s) return s;
  if (passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "uid" + std::to_string(::getuid());
}

namespace {

using nlohmann::json;

// Envelope strings come from the SMTP client: escaped as in the mail log,
// so a CR or LF in them cannot fake a line of the output.
std::string escaped_list(const std::vector<std::string>& v) {
  std::vector<std::string> e;
  for (const auto& x : v) e.push_back(policy::escape_text(x, " ,"));
  return join(e, ",");
}

std::string_view pending_label(state::PendingState st) {
  switch (st) {
    case state::PendingState::awaiting: return "awaiting-password";
    case state::PendingState::matched: return "password-matched";  // flagged after its rescan: see the quarantine
    case state::PendingState::released: return "released-by-ppap";
    case state::PendingState::timed_out: return "timed-out";
  }
  return "?";
}

// The PPAP records of the state store ([state]), one line each. Nothing
// when the SQLite file does not exist yet (it is never created here).
// False, with the reason on `err`, when the store cannot be read.
bool list_pending(const Config& config, std::ostream& out, std::ostream& err) {
  if (config.state.backend == "sqlite" && ::access(config.state.path.c_str(), F_OK) != 0) return true;
  auto store = state::open_state_store(config.state);
  if (!store.ok()) {
    err << "emogate: [state]: " << store.status().message() << "\n";
    return false;
  }
  constexpr std::size_t kMaxListed = 10000;
  for (state::PendingState st : {state::PendingState::awaiting, state::PendingState::matched,
                                 state::PendingState::released, state::PendingState::timed_out}) {
    auto recs = (*store)->pending().list(st, kMaxListed);
    if (!recs.ok()) {
      err << "emogate: [state]: " << recs.status().message() << "\n";
      return false;
    }
    for (const state::PendingRecord& r : *recs) {
      auto blob = ppap::parse_ppap_blob(r.blob);
      out << "ppap:" << r.id << "  " << iso_time(r.created_at) << "  <" << policy::escape_text(r.sender_key, " <>")
          << ">  " << escaped_list(r.recipients) << "  " << pending_label(st)
          << "  queue_id=" << (blob ? policy::escape_text(blob->queue_id, " ") : std::string("?"));
      if (st == state::PendingState::awaiting) out << "  expires=" << iso_time(r.expires_at);
      if (!r.match_queue_id.empty()) out << "  password_mail=" << policy::escape_text(r.match_queue_id, " ");
      out << "\n";
    }
  }
  return true;
}

}  // namespace

int quarantine_main(const Config& config, const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  const char* usage =
      "usage: emogate quarantine list\n"
      "       emogate quarantine show ID [--message]\n"
      "       emogate quarantine release ID [--by NAME] [--keep]\n"
      "       emogate quarantine delete ID\n";
  if (args.empty()) {
    err << usage;
    return 2;
  }
  QuarantineStore store(config.quarantine.dir);
  const std::string& cmd = args[0];
  try {
    if (cmd == "list" && args.size() == 1) {
      for (const auto& m : store.list()) {
        out << m.id << "  " << iso_time(m.time) << "  <" << policy::escape_text(m.sender, " <>") << ">  "
            << escaped_list(m.recipients) << "  " << policy::escape_text(m.verdict, " ") << "  "
            << (m.findings.empty() ? "-" : escaped_list(m.findings))
            << (m.released_by.empty() ? "" : "  released-by=" + policy::escape_text(m.released_by, " "))
            << (m.action == "ppap_timeout" ? "  ppap=timed-out" : "") << "\n";
      }
      return list_pending(config, out, err) ? 0 : 1;
    }
    if (args.size() < 2) {
      err << usage;
      return 2;
    }
    const std::string& id = args[1];
    if (!QuarantineStore::valid_id(id)) {
      err << "emogate: invalid quarantine ID '" << id << "'\n";
      return 2;
    }
    auto m = store.meta(id);
    if (!m) {
      err << "emogate: no quarantined message " << id << " in " << store.dir() << "\n";
      return 1;
    }
    if (cmd == "show") {
      if (args.size() == 3 && args[2] == "--message") {
        out << store.message(id);
        return 0;
      }
      json j = meta_to_json(*m);
      j["time_iso"] = iso_time(m->time);
      try {
        j["report"] = json::parse(store.report(id));
      } catch (const std::exception& e) {
        j["report_error"] = e.what();
      }
      out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
      return 0;
    }
    if (cmd == "release") {
      std::string by = current_user();
      bool keep = false;
      for (std::size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "--keep") keep = true;
        else if (args[i] == "--by" && i + 1 < args.size()) by = args[++i];
        else {
          err << usage;
          return 2;
        }
      }
      const auto now = static_cast<std::int64_t>(std::time(nullptr));
      if (release_entry(store, config.quarantine.sendmail, *m, {}, by, keep, now, err) != ReleaseOutcome::released)
        return 1;
      out << "released " << id << " to " << escaped_list(m->recipients) << " by "
          << policy::escape_text(by, " ") << "\n";
      return 0;
    }
    if (cmd == "delete" && args.size() == 2) {
      if (!store.remove(id)) {
        err << "emogate: could not delete " << id << "\n";
        return 1;
      }
      out << "deleted " << id << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    err << "emogate: quarantine " << cmd << ": " << e.what() << "\n";
    return 1;
  }
  err << usage;
  return 2;
}

}  // namespace emogate
