// GET /incidents: the outbound incidents (gather_incidents(), as `emogate
// incident report` shows them) and the frozen accounts, each with an
// unfreeze form; POST /accounts/unfreeze (unfreeze_account(), as `emogate
// account unfreeze`), logged with the operator's name.
// Trusted input: the configuration; accounts, findings, hashes and reasons
// came from mail: every value printed is escaped.
#include <initializer_list>

#include "common/text.h"
#include "outbound/incident_report.h"
#include "state/store.h"
#include "web/pages/pages.h"

namespace emogate::web {

namespace {

std::string cell(std::string_view cls, const std::string& v) {
  return "<td class=\"" + std::string(cls) + "\">" + html_escape(v) + "</td>";
}

std::string unfreeze_form(const Request& r, const std::string& account) {
  return "<form class=\"unfreeze\" method=\"post\" action=\"/accounts/unfreeze\">" + csrf_field(r) +
         "<input type=\"hidden\" name=\"account\" value=\"" + html_escape(account) + "\"><button type=\"submit\">" +
         html_escape(t(r, "i.unfreeze")) + "</button></form>";
}

std::string header_row(const Request& r, std::initializer_list<std::string_view> keys) {
  std::string out = "<thead><tr>";
  for (std::string_view k : keys) out += "<th>" + html_escape(t(r, k)) + "</th>";
  return out + "</tr></thead>\n";
}

}  // namespace

Response incidents_page(const Request& r, Services& s) {
  if (!s.state)
    return error_page(r, 503, std::string(t(r, "state.unavailable")) + ": " + s.state_error);
  const std::int64_t now = now_of(s);
  const OutboundSettings& set = s.config->outbound;
  auto report = outbound::gather_incidents(*s.state, set, now, now - static_cast<std::int64_t>(set.retention_s), "");
  if (!report.ok())
    return error_page(r, 503, std::string(t(r, "state.unavailable")) + ": " + report.status().message());
  auto frozen = s.state->freezes().list_frozen(set.max_incidents);
  if (!frozen.ok())
    return error_page(r, 503, std::string(t(r, "state.unavailable")) + ": " + frozen.status().message());

  std::string body = flash_html(r);
  body += "<h2>" + html_escape(t(r, "i.incidents")) + "</h2>\n";
  body += "<p class=\"count\">" + html_escape(t(r, "i.accounts")) + ": " + std::to_string(report->accounts.size()) +
          "; " + html_escape(t(r, "i.flagged")) + ": " + std::to_string(report->flagged) + "; " +
          html_escape(t(r, "i.frozen_now")) + ": " + std::to_string(report->frozen_now) + "; " +
          html_escape(t(r, "i.still_sending")) + ": " + std::to_string(report->still_sending) + "</p>\n";
  body += "<table id=\"incidents\" class=\"list\">\n" +
          header_row(r, {"i.col.account", "i.col.first", "i.col.last", "i.col.messages", "i.col.recipients",
                         "i.col.frozen", "i.col.sending", "i.col.findings", "i.col.hashes"}) +
          "<tbody>\n";
  for (const outbound::AccountReport& a : report->accounts) {
    const state::Incident& i = a.incident;
    std::string frozen_text = a.frozen ? std::string(t(r, "i.yes")) + " " + show_time(a.frozen->at) + " " + a.frozen->why
                              : i.unfrozen_at ? std::string(t(r, "i.unfrozen")) + " " + show_time(i.unfrozen_at) + " " +
                                                    std::string(t(r, "i.by")) + " " + i.unfrozen_by
                                              : std::string(t(r, "i.no"));
    body += "<tr data-account=\"" + html_escape(i.account) + "\"" + (a.frozen ? " class=\"frozen\"" : "") + ">";
    body += cell("account", i.account) + cell("time", show_time(i.first_seen)) + cell("time", show_time(i.last_seen));
    body += cell("messages", std::to_string(i.messages) + " (" + std::to_string(i.malicious) + " " +
                                 std::string(t(r, "i.malicious")) + ")");
    body += cell("recipients", std::string(i.recipients_capped ? "≥" : "") + std::to_string(i.recipients) + " / " +
                                   std::to_string(i.domains) + " " + std::string(t(r, "i.domains")));
    body += cell("frozen", frozen_text);
    body += cell("sending", a.sent_last_hour ? std::to_string(a.sent_last_hour) + " " + std::string(t(r, "i.last_hour"))
                                             : std::string(t(r, "i.no")));
    body += cell("findings", join(i.findings, ", "));
    body += "<td class=\"hashes\">";
    for (const std::string& h : i.attachment_hashes) body += "<code class=\"hash\">" + html_escape(h) + "</code> ";
    body += "</td></tr>\n";
  }
  body += "</tbody>\n</table>\n";
  if (report->accounts.empty()) body += "<p class=\"empty\">" + html_escape(t(r, "i.no_incidents")) + "</p>\n";

  body += "<h2>" + html_escape(t(r, "i.frozen_accounts")) + "</h2>\n";
  body += "<table id=\"frozen\" class=\"list\">\n" + header_row(r, {"i.col.account", "i.col.since", "i.col.why", "i.col.action"}) +
          "<tbody>\n";
  for (const state::FreezeRecord& f : *frozen) {
    body += "<tr data-account=\"" + html_escape(f.account) + "\">" + cell("account", f.account) +
            cell("time", show_time(f.at)) + cell("why", f.why) + "<td>" + unfreeze_form(r, f.account) + "</td></tr>\n";
  }
  body += "</tbody>\n</table>\n";
  if (frozen->empty()) body += "<p class=\"empty\">" + html_escape(t(r, "i.none_frozen")) + "</p>\n";

  if (!report->addresses.empty()) {
    body += "<h2>" + html_escape(t(r, "i.ours")) + "</h2>\n<table id=\"addresses\" class=\"list\">\n" +
            header_row(r, {"i.col.event", "i.col.address", "i.col.count", "i.col.first", "i.col.last"}) + "<tbody>\n";
    for (const state::AddressCount& c : report->addresses)
      body += "<tr>" + cell("event", std::string(t(r, "i.event." + std::string(state::to_string(c.event))))) +
              cell("address", c.address) + cell("count", std::to_string(c.count)) + cell("time", show_time(c.first_at)) +
              cell("time", show_time(c.last_at)) + "</tr>\n";
    body += "</tbody>\n</table>\n";
  }
  Response resp;
  resp.body = page(r, t(r, "i.title"), body);
  return resp;
}

Response unfreeze_action(const Request& r, Services& s) {
  const std::string user = r.param("account");
  if (user.empty()) return redirect("/incidents?msg=unfreeze_failed");
  if (!s.state) {
    log_action(r, "unfreeze", user, "failed: " + s.state_error);
    return redirect("/incidents?msg=unfreeze_failed");
  }
  std::string account;
  auto done = outbound::unfreeze_account(*s.state, user, r.operator_name, now_of(s), &account);
  if (!done.ok()) {
    log_action(r, "unfreeze", account, "failed: " + done.status().message());
    return redirect("/incidents?msg=unfreeze_failed");
  }
  log_action(r, "unfreeze", account, *done ? "ok" : "not_frozen");
  return redirect(*done ? "/incidents?msg=unfrozen" : "/incidents?msg=not_frozen");
}

}  // namespace emogate::web
