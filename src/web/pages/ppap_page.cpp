// GET /ppap: the messages held for the password of their encrypted
// attachments (the state store's pending records awaiting one, and those
// matched and being rescanned), with their time left.
// Trusted input: the configuration; the records and their blobs came from
// mail and from a shared store: blobs go through parse_ppap_blob(), every
// value printed is escaped.
#include <cstdio>

#include "common/text.h"
#include "formats/passwords/ppap_blob.h"
#include "state/store.h"
#include "web/pages/pages.h"

namespace emogate::web {

namespace {

// "2h 05m" (or "4m 10s" under an hour); "0m" when past.
std::string time_left(std::int64_t s) {
  if (s <= 0) return "0m";
  char buf[48];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

}  // namespace

Response ppap_page(const Request& r, Services& s) {
  if (!s.state)
    return error_page(r, 503, std::string(t(r, "state.unavailable")) + ": " + s.state_error);
  const std::int64_t now = now_of(s);
  std::string rows;
  std::size_t count = 0;
  for (state::PendingState st : {state::PendingState::awaiting, state::PendingState::matched}) {
    auto recs = s.state->pending().list(st, kMaxPendingShown);
    if (!recs.ok())
      return error_page(r, 503, std::string(t(r, "state.unavailable")) + ": " + recs.status().message());
    for (const state::PendingRecord& rec : *recs) {
      ++count;
      std::string err;
      auto blob = ppap::parse_ppap_blob(rec.blob, &err);
      const std::string state_name(state::to_string(st));
      rows += "<tr data-id=\"" + html_escape(rec.id) + "\" class=\"state-" + state_name + (blob ? "" : " broken") + "\">";
      rows += "<td class=\"time\">" + html_escape(show_time(rec.created_at)) + "</td>";
      rows += "<td class=\"sender\">" + html_escape(blob ? blob->sender : rec.sender_key) + "</td>";
      rows += "<td class=\"recipients\">" + html_escape(join(rec.recipients, ", ")) + "</td>";
      if (blob) {
        std::vector<std::string> names;
        for (const auto& a : blob->archives) names.push_back(a.name.empty() ? a.path : a.name);
        rows += "<td class=\"subject\">" + html_escape(blob->subject) + "</td>";
        rows += "<td class=\"archives\">" + html_escape(join(names, ", ")) + "</td>";
        rows += "<td class=\"queue-id\">" + html_escape(blob->queue_id) + "</td>";
      } else {
        rows += "<td class=\"subject broken\" colspan=\"3\">" + html_escape(t(r, "p.broken")) + ": " +
                html_escape(err) + "</td>";
      }
      rows += "<td class=\"state\">" + html_escape(t(r, "p.state." + state_name)) + "</td>";
      rows += "<td class=\"expires\">" + html_escape(show_time(rec.expires_at)) + "</td>";
      rows += "<td class=\"left\">" + html_escape(time_left(rec.expires_at - now)) + "</td></tr>\n";
    }
  }
  std::string body = "<p class=\"count\">" + html_escape(t(r, "p.count")) + ": " + std::to_string(count) + "</p>\n";
  body += "<table id=\"ppap\" class=\"list\">\n<thead><tr>";
  for (std::string_view k : {"p.col.time", "p.col.sender", "p.col.recipients", "p.col.subject", "p.col.archives",
                             "p.col.queue_id", "p.col.state", "p.col.expires", "p.col.left"})
    body += "<th>" + html_escape(t(r, k)) + "</th>";
  body += "</tr></thead>\n<tbody>\n" + rows + "</tbody>\n</table>\n";
  if (count == 0) body += "<p class=\"empty\">" + html_escape(t(r, "p.empty")) + "</p>\n";
  Response resp;
  resp.body = page(r, t(r, "p.title"), body);
  return resp;
}

}  // namespace emogate::web
