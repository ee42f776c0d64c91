// Offline PPAP correlation for `emogate scan --ppap-window` (ppap_scan.h).
// Trusted input: the command line.
#include "cli/ppap_scan.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "cli/report_text.h"
#include "ppap/ppap.h"

namespace emogate {
namespace {

struct Waiting {
  std::string path;
  Report report;  // the first scan, whose verdict stands if no password comes
};

class Printer {
 public:
  Printer(bool json, std::ostream& out) : json_(json), out_(out) {}

  // The report, then what PPAP made of it: `state` and a few details.
  void print(const Report& r, const std::string& state, const nlohmann::json& extra, const std::string& line) {
    if (json_) {
      nlohmann::json j = nlohmann::json::parse(to_json(r), nullptr, false);
      if (!state.empty()) {
        nlohmann::json p = extra;
        p["state"] = state;
        j["ppap"] = std::move(p);
      }
      out_ << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      print_report_text(r, out_);
      if (!line.empty()) out_ << "    ppap: " << line << '\n';
    }
    out_.flush();
  }

 private:
  bool json_;
  std::ostream& out_;
};

}  // namespace

int ppap_correlate(const std::vector<std::string>& inputs, const Config& cfg, bool json, const ScanInput& scan,
                   std::ostream& out) {
  const PpapSettings& s = cfg.ppap;
  Printer printer(json, out);
  std::vector<ppap::PendingEntry> entries;
  std::vector<Waiting> waiting;  // parallel to entries
  int status = 0;
  auto settle = [&](const Report& r) {
    if (r.flagged() && status == 0) status = 1;
  };
  std::int64_t clock =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  bool dated = false;

  for (const std::string& path : inputs) {
    ScanOptions opts;
    opts.mine_follow_up_passwords = !entries.empty();
    std::optional<Report> scanned = scan(path, opts);
    if (!scanned) {
      status = 2;
      continue;
    }
    Report r = std::move(*scanned);
    r.input = path;
    if (r.ppap.date != 0 && (!dated || r.ppap.date >= clock)) clock = r.ppap.date, dated = true;

    // Messages whose window closed before this one arrived.
    for (std::size_t i = entries.size(); i-- > 0;) {
      if (entries[i].expires_at >= clock) continue;
      printer.print(waiting[i].report, "timed_out", {{"on_timeout", ppap::to_string(s.on_timeout)}},
                    "no password mail within the window; on_timeout = " + std::string(ppap::to_string(s.on_timeout)));
      settle(waiting[i].report);
      entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
      waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
    }

    ppap::FollowUp f{r.ppap.from, r.ppap.from, r.ppap.to, path, r.ppap.passwords, clock};
    KdfBudget budget(cfg.limits.max_kdf_rounds);
    std::vector<ppap::Unlock> unlocks = ppap::match(entries, f, s, budget);

    const ppap::HoldDecision hold = ppap::hold_decision(r, s);
    std::string why;
    std::optional<ppap::PpapBlob> blob;
    if (hold.holdable) {
      Envelope env{path, r.ppap.from, r.ppap.to, {}, {}};
      blob = ppap::pending_blob(r, env, &why);
      std::size_t same_sender = 0;
      if (blob)
        for (const auto& e : entries) same_sender += ppap::sender_key(e.blob, s.match) == ppap::sender_key(*blob, s.match);
      if (blob && same_sender >= s.max_pending_per_sender) blob.reset(), why = "max_pending_per_sender reached";
      if (blob && entries.size() >= s.max_pending) blob.reset(), why = "max_pending reached";
    }
    nlohmann::json unlocked = nlohmann::json::array();
    for (const auto& u : unlocks) unlocked.push_back(waiting[u.entry].path);
    if (blob) {
      nlohmann::json names = nlohmann::json::array();
      for (const auto& a : blob->archives) names.push_back(a.path);
      nlohmann::json extra = {{"archives", names}, {"window_s", s.window_s}};
      if (!unlocks.empty()) extra["unlocks"] = unlocked;
      printer.print(r, "awaiting_password", extra,
                    "awaiting a password mail for " + std::to_string(blob->archives.size()) + " archive(s), up to " +
                        std::to_string(s.window_s) + " s");
      entries.push_back({path, std::move(*blob), clock, clock + static_cast<std::int64_t>(s.window_s)});
      waiting.push_back({path, r});
    } else {
      std::string line;
      nlohmann::json extra;
      std::string state;
      if (!unlocks.empty()) state = "password_mail", extra["unlocks"] = unlocked, line = "password mail for " + unlocked.dump();
      else if (hold.holdable) state = "not_held", extra["reason"] = why, line = "not held: " + why;
      printer.print(r, state, extra, line);
      settle(r);
    }

    // The unlocked messages, scanned again with the password.
    std::vector<std::size_t> done;
    for (const ppap::Unlock& u : unlocks) {
      const Waiting& w = waiting[u.entry];
      std::optional<Report> again = scan(w.path, ppap::rescan_options(u));
      if (!again) {
        status = 2;
        continue;
      }
      again->input = w.path;
      const ppap::Outcome o = ppap::outcome(*again, s);
      nlohmann::json sources = nlohmann::json::array();
      for (const auto& p : u.passwords) sources.push_back(p.source);
      printer.print(*again, std::string(ppap::to_string(o)), {{"password_mail", path}, {"password_sources", sources}},
                    std::string(ppap::to_string(o)) + " after the password in " + path);
      if (o == ppap::Outcome::still_locked) continue;
      settle(*again);
      done.push_back(u.entry);
    }
    std::sort(done.begin(), done.end());
    for (std::size_t i = done.size(); i-- > 0;) {
      entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(done[i]));
      waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(done[i]));
    }
  }
  // Still waiting when the input ends: the first scan's verdict stands.
  for (const Waiting& w : waiting) {
    printer.print(w.report, "still_waiting", {}, "no password mail among the inputs");
    settle(w.report);
  }
  return status;
}

}  // namespace emogate
