// `emogate account` (list frozen accounts, unfreeze one) and `emogate
// incident report` (per account: time line, flagged messages, distinct
// recipients and domains, whether it still sends, findings and attachment
// hashes; backscatter and spoofed-sender counts for our addresses), as
// English or Japanese text for the public notice or as JSON for scripts.
// Times print as UTC in English and JSON, as JST in Japanese text.
// Trusted input: the command line and the configuration. Accounts,
// addresses, findings and hashes come from mail: escaped as in the mail
// log in text, and JSON-encoded (invalid UTF-8 replaced) in JSON.
#include "cli/outbound_admin.h"

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/quarantine.h"
#include "common/text.h"
#include "milter/policy.h"
#include "outbound/direction.h"
#include "outbound/incident_report.h"
#include "quarantine/store.h"
#include "state/store.h"

namespace emogate {

namespace {

using nlohmann::json;

constexpr std::int64_t kHour = 3600;

std::unique_ptr<state::StateStore> open_store(const Config& config, std::ostream& err) {
  auto store = state::open_state_store(config.state);
  if (!store.ok()) {
    err << "emogate: state store: " << store.status().message() << '\n';
    return nullptr;
  }
  return std::move(*store);
}

std::string esc(std::string_view s) { return policy::escape_text(s); }

// --since: a duration back from now ("24h", "7d") or a UTC date or time
// ("2026-12-01", "2026-12-01T09:00:00Z"). None when malformed.
std::optional<std::int64_t> parse_since(const std::string& s, std::int64_t now) {
  if (auto d = parse_duration_s(s); d && *d <= static_cast<std::uint64_t>(now)) return now - static_cast<std::int64_t>(*d);
  std::tm tm{};
  for (const char* fmt : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"}) {
    tm = {};
    const char* end = ::strptime(s.c_str(), fmt, &tm);
    if (end && *end == '\0') return static_cast<std::int64_t>(::timegm(&tm));
  }
  return std::nullopt;
}

using outbound::AccountReport;
using outbound::IncidentReport;

json time_json(std::int64_t t) { return t ? json(iso_time(t)) : json(nullptr); }

json to_json(const IncidentReport& r) {
  json accounts = json::array();
  for (const AccountReport& a : r.accounts) {
    const state::Incident& i = a.incident;
    accounts.push_back({{"account", i.account},
                        {"first_detection", time_json(i.first_seen)},
                        {"last_detection", time_json(i.last_seen)},
                        {"frozen", a.frozen.has_value()},
                        {"frozen_at", time_json(i.frozen_at)},
                        {"frozen_why", i.frozen_why},
                        {"unfrozen_at", time_json(i.unfrozen_at)},
                        {"unfrozen_by", i.unfrozen_by},
                        {"last_sent", time_json(i.last_sent)},
                        {"still_sending", a.sent_last_hour > 0},
                        {"sent_last_hour", a.sent_last_hour},
                        {"sent_since_first_detection", i.sent_since},
                        {"flagged_messages", i.messages},
                        {"malicious", i.malicious},
                        {"suspicious", i.messages - i.malicious},
                        {"recipients", i.recipients},
                        {"domains", i.domains},
                        {"counts_capped", i.recipients_capped},
                        {"findings", i.findings},
                        {"attachment_sha256", i.attachment_hashes},
                        {"queue_ids", i.queue_ids}});
  }
  json addresses = json::array();
  for (const state::AddressCount& c : r.addresses)
    addresses.push_back({{"event", std::string(to_string(c.event))},
                         {"address", c.address},
                         {"count", c.count},
                         {"first", time_json(c.first_at)},
                         {"last", time_json(c.last_at)}});
  json domains = json::object();
  for (const auto& [d, c] : r.domains) domains[d] = {{"backscatter", c.backscatter}, {"spoofed_sender", c.spoofed_sender}};
  return {{"generated_at", iso_time(r.now)},
          {"since", iso_time(r.since)},
          {"totals",
           {{"accounts", r.accounts.size()},
            {"flagged_messages", r.flagged},
            {"frozen", r.frozen_now},
            {"still_sending", r.still_sending}}},
          {"accounts", accounts},
          {"addresses", addresses},
          {"domains", domains}};
}

// The words of the text report, one table per language.
struct Words {
  const char* title;
  const char* accounts_n;
  const char* flagged_n;
  const char* frozen_n;
  const char* sending_n;
  const char* no_incidents;
  const char* account;
  const char* first;
  const char* last;
  const char* frozen;
  const char* not_frozen;
  const char* unfrozen;
  const char* by;
  const char* why;
  const char* last_sent;
  const char* still;
  const char* yes_in_hour;  // "yes (N messages in the last hour)": N between the halves
  const char* yes_in_hour_end;
  const char* no;
  const char* flagged;
  const char* recipients;
  const char* in_domains;
  const char* in_domains_end;
  const char* at_least;
  const char* sent_since;
  const char* findings;
  const char* hashes;
  const char* queue_ids;
  const char* ours;
  const char* backscatter;
  const char* spoofed;
  const char* count_unit;
  const char* none;          // an empty list, a time never set
  const char* none_since;    // no message sent since the first detection
};

constexpr Words kEnglish = {
    "Outbound incident report", "accounts with flagged outbound mail: ", "flagged messages: ",
    "frozen now: ", "still sending: ", "No outbound incidents.", "Account ", "first outbound detection: ",
    "last outbound detection:  ", "frozen:                   ", "not frozen", "unfrozen ", " by ", "why: ",
    "last message sent:        ", "still sending:            ", "yes (", " message(s) in the last hour)", "no",
    "flagged messages:         ", "distinct recipients:      ", " in ", " domain(s)",
    "at least ", "sent since first detection: ", "findings:                 ", "attachment SHA-256:       ",
    "queue ids:                ", "Mail in our name that we did not send",
    "backscatter (bounces for mail we never sent): ", "spoofed_sender (our address forged from outside): ", "",
    "none", "none since the first detection"};

constexpr Words kJapanese = {
    "送信メール インシデント報告", "不審な送信を検知したアカウント: ", "検知した送信メール: ",
    "送信停止中: ", "送信継続中: ", "送信メールのインシデントはありません。", "アカウント ",
    "最初の検知日時: ", "最後の検知日時: ", "送信停止: ", "停止していません", "停止解除 ", " 解除者 ",
    "理由: ", "最後の送信日時: ", "送信継続中: ", "はい（直近1時間に ", " 通）", "いいえ",
    "検知した送信メール: ", "宛先（重複を除く）: ", " 件、", " ドメイン", "少なくとも ",
    "最初の検知以降の送信: ", "検知内容: ", "添付ファイルの SHA-256: ", "キュー ID: ",
    "当社が送信していない当社名義のメール",
    "バックスキャッター（当社が送っていないメールへのエラー通知）: ",
    "なりすまし（外部から当社のアドレスを名乗るメール）: ", "件", "なし", "最初の検知以降なし"};

// UTC ISO 8601 in English; "YYYY-MM-DD HH:MM:SS JST" in Japanese.
std::string text_time(std::int64_t t, bool ja, const Words& w) {
  if (t == 0) return w.none;
  if (!ja) return iso_time(t);
  std::time_t jst = static_cast<std::time_t>(t + 9 * kHour);
  std::tm tm{};
  ::gmtime_r(&jst, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S JST", &tm);
  return buf;
}

std::string esc_list(const std::vector<std::string>& v, const Words& w) {
  if (v.empty()) return w.none;
  std::vector<std::string> e;
  for (const std::string& x : v) e.push_back(esc(x));
  return join(e, ", ");
}

void print_text(const IncidentReport& r, bool ja, std::ostream& out) {
  const Words& w = ja ? kJapanese : kEnglish;
  const char* unit = ja ? "件" : "";
  const char* msgs = ja ? "通" : "";
  out << w.title << "  " << text_time(r.now, ja, w) << "  (" << (ja ? "" : "since ") << text_time(r.since, ja, w)
      << (ja ? " 以降" : "") << ")\n";
  out << w.accounts_n << r.accounts.size() << unit << "; " << w.flagged_n << r.flagged << msgs << "; " << w.frozen_n
      << r.frozen_now << unit << "; " << w.sending_n << r.still_sending << unit << "\n";
  if (r.accounts.empty()) out << w.no_incidents << '\n';
  for (const AccountReport& a : r.accounts) {
    const state::Incident& i = a.incident;
    out << '\n' << w.account << esc(i.account) << '\n';
    out << "  " << w.first << text_time(i.first_seen, ja, w) << '\n';
    out << "  " << w.last << text_time(i.last_seen, ja, w) << '\n';
    out << "  " << w.frozen;
    if (i.frozen_at) {
      out << text_time(i.frozen_at, ja, w) << "  " << w.why << esc(i.frozen_why);
      if (i.unfrozen_at) out << "; " << w.unfrozen << text_time(i.unfrozen_at, ja, w) << w.by << esc(i.unfrozen_by);
    } else {
      out << w.not_frozen;
    }
    out << '\n';
    out << "  " << w.last_sent << (i.last_sent ? text_time(i.last_sent, ja, w) : w.none_since) << '\n';
    out << "  " << w.still;
    if (a.sent_last_hour) out << w.yes_in_hour << a.sent_last_hour << w.yes_in_hour_end << '\n';
    else out << w.no << '\n';
    if (ja)
      out << "  " << w.flagged << i.messages << "通（悪性 " << i.malicious << "通、不審 " << i.messages - i.malicious
          << "通）\n";
    else
      out << "  " << w.flagged << i.messages << " (" << i.malicious << " malicious, " << i.messages - i.malicious
          << " suspicious)\n";
    out << "  " << w.recipients << (i.recipients_capped ? w.at_least : "") << i.recipients << w.in_domains
        << i.domains << w.in_domains_end << '\n';
    out << "  " << w.sent_since << i.sent_since << msgs << '\n';
    out << "  " << w.findings << esc_list(i.findings, w) << '\n';
    out << "  " << w.hashes << esc_list(i.attachment_hashes, w) << '\n';
    out << "  " << w.queue_ids << esc_list(i.queue_ids, w) << '\n';
  }
  out << '\n' << w.ours << '\n';
  for (bool back : {true, false}) {
    out << "  " << (back ? w.backscatter : w.spoofed);
    std::vector<std::string> parts;
    for (const auto& [d, c] : r.domains)
      if (std::uint64_t n = back ? c.backscatter : c.spoofed_sender)
        parts.push_back(esc(d) + " " + std::to_string(n) + w.count_unit);
    out << (parts.empty() ? std::string(w.none) : join(parts, ", ")) << '\n';
    for (const state::AddressCount& c : r.addresses)
      if ((c.event == state::AddressEvent::backscatter) == back)
        out << "    " << esc(c.address) << " " << c.count << w.count_unit << "  (" << text_time(c.first_at, ja, w)
            << " - " << text_time(c.last_at, ja, w) << ")\n";
  }
}

}  // namespace

int account_main(const Config& config, const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                 std::int64_t now) {
  const char* usage =
      "usage: emogate account list\n"
      "       emogate account unfreeze USER [--by NAME]\n";
  if (args.empty() || (args[0] != "list" && args[0] != "unfreeze")) {
    err << usage;
    return 2;
  }
  std::string user, by = current_user();
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[0] == "unfreeze" && args[i] == "--by" && i + 1 < args.size()) by = args[++i];
    else if (args[0] == "unfreeze" && user.empty() && !args[i].starts_with("--")) user = args[i];
    else {
      err << usage;
      return 2;
    }
  }
  if (args[0] == "unfreeze" && user.empty()) {
    err << usage;
    return 2;
  }
  auto store = open_store(config, err);
  if (!store) return 2;
  if (args[0] == "list") {
    auto frozen = store->freezes().list_frozen(config.outbound.max_incidents);
    if (!frozen.ok()) {
      err << "emogate account: " << frozen.status().message() << '\n';
      return 2;
    }
    if (frozen->empty()) out << "no frozen accounts\n";
    for (const state::FreezeRecord& f : *frozen)
      out << esc(f.account) << "  frozen since " << iso_time(f.at) << "  " << esc(f.why) << '\n';
    return 0;
  }
  std::string account;
  auto done = outbound::unfreeze_account(*store, user, by, now, &account);
  if (!done.ok()) {
    err << "emogate account: " << done.status().message() << '\n';
    return 2;
  }
  if (!*done) {
    err << "emogate account: " << esc(account) << " is not frozen\n";
    return 1;
  }
  out << esc(account) << " unfrozen by " << esc(by) << '\n';
  return 0;
}

int incident_main(const Config& config, const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                  std::int64_t now) {
  const char* usage = "usage: emogate incident report [--since T] [--account A] [--json] [--lang en|ja]\n";
  if (args.empty() || args[0] != "report") {
    err << usage;
    return 2;
  }
  std::int64_t since = now - static_cast<std::int64_t>(config.outbound.retention_s);
  std::string account, lang = "en";
  bool as_json = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--json") {
      as_json = true;
    } else if (a == "--since" && has_value) {
      auto t = parse_since(args[++i], now);
      if (!t) {
        err << "emogate incident: --since: expected a duration (24h, 7d) or a UTC date (2026-12-01[T09:00:00Z])\n";
        return 2;
      }
      since = *t;
    } else if (a == "--account" && has_value) {
      account = args[++i];
    } else if (a == "--lang" && has_value && (args[i + 1] == "en" || args[i + 1] == "ja")) {
      lang = args[++i];
    } else {
      err << usage;
      return 2;
    }
  }
  auto store = open_store(config, err);
  if (!store) return 2;
  auto report = outbound::gather_incidents(*store, config.outbound, now, since, account);
  if (!report.ok()) {
    err << "emogate incident: " << report.status().message() << '\n';
    return 2;
  }
  if (as_json) out << to_json(*report).dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  else print_text(*report, lang == "ja", out);
  return 0;
}

}  // namespace emogate
