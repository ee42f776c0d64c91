// GET /quarantine: the quarantine list, newest first, filtered by sender,
// recipient, finding type, date and state, fifty entries a page. Entries
// come from the in-memory index (quarantine_index.h), refreshed on each
// request; the PPAP records awaiting a password (state store) are merged
// in. A broken entry is listed under every text filter (its envelope is
// unknown, so it cannot be ruled out), never dropped.
// Trusted input: the configuration; every value printed is escaped.
#include <algorithm>
#include <climits>
#include <ctime>
#include <memory>

#include "common/text.h"
#include "formats/passwords/ppap_blob.h"
#include "quarantine/store.h"
#include "state/store.h"
#include "web/pages/pages.h"
#include "web/pages/quarantine_index.h"

namespace emogate::web {

namespace {

constexpr std::string_view kIndexKey = "quarantine_index";

QuarantineIndex& index_of(Services& s) {
  auto& slot = s.extras[std::string(kIndexKey)];
  if (!slot) slot = std::make_shared<QuarantineIndex>(*s.quarantine);
  return *static_cast<QuarantineIndex*>(slot.get());
}

struct Filters {
  std::string sender, recipient, finding, from, to, state;  // as given
  std::string sender_lc, recipient_lc, finding_lc;          // lower-cased, for matching
  std::int64_t from_t = INT64_MIN, to_t = INT64_MAX;
  bool bad_date = false;
  std::size_t page = 1;
};

// "YYYY-MM-DD" as the unix time of the start of that day, or of the day
// `later` days after it, in the pages' zone.
std::optional<std::int64_t> parse_day(const std::string& s, int later = 0) {
  if (s.size() != 10) return std::nullopt;
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%Y-%m-%d", &tm);
  if (!end || *end) return std::nullopt;
  tm.tm_mday += later;  // mktime carries it into the month and year
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(t);
}

Filters filters_of(const Request& r) {
  Filters f;
  f.sender = r.param("sender");
  f.recipient = r.param("recipient");
  f.finding = r.param("finding");
  f.from = r.param("from");
  f.to = r.param("to");
  f.state = r.param("state");
  f.sender_lc = ascii_lower(f.sender);
  f.recipient_lc = ascii_lower(f.recipient);
  f.finding_lc = ascii_lower(f.finding);
  if (!f.from.empty()) {
    if (auto d = parse_day(f.from)) f.from_t = *d;
    else f.bad_date = true;
  }
  if (!f.to.empty()) {
    if (auto d = parse_day(f.to, 1)) f.to_t = *d - 1;  // 23 or 25 hours on a DST change
    else f.bad_date = true;
  }
  const std::string p = r.param("page");
  if (!p.empty() && p.size() < 10 && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
    f.page = std::max<std::size_t>(1, std::stoul(p));
  return f;
}

constexpr std::string_view kStates[] = {"quarantined", "released", "timed_out", "awaiting", "broken"};

// The state shown for an entry of the store.
std::string_view state_of(const IndexEntry& e) {
  if (e.broken) return "broken";
  if (!e.meta.released_by.empty()) return e.meta.released_to.empty() ? "released" : "partly_released";
  if (e.meta.action == "ppap_timeout") return "timed_out";
  return "quarantined";
}

bool matches(const IndexEntry& e, std::string_view state, const Filters& f) {
  if (!f.state.empty() && state != f.state && !(f.state == "released" && state == "partly_released")) return false;
  if (e.time < f.from_t || e.time > f.to_t) return false;
  if (e.broken) return true;
  if (!f.sender.empty() && e.sender_lc.find(f.sender_lc) == std::string::npos) return false;
  if (!f.recipient.empty() &&
      std::none_of(e.recipients_lc.begin(), e.recipients_lc.end(),
                   [&](const std::string& x) { return x.find(f.recipient_lc) != std::string::npos; }))
    return false;
  if (!f.finding.empty() &&
      std::find(e.finding_types.begin(), e.finding_types.end(), f.finding_lc) == e.finding_types.end())
    return false;
  return true;
}

// A PPAP record awaiting its password, as a list entry ("ppap:ID").
IndexEntry pending_entry(const state::PendingRecord& rec) {
  IndexEntry e;
  e.meta.id = "ppap:" + rec.id;
  e.time = e.meta.time = rec.created_at;
  e.meta.sender = rec.sender_key;
  e.meta.recipients = rec.recipients;
  auto blob = ppap::parse_ppap_blob(rec.blob);
  if (!blob) {
    e.broken = true;
  } else {
    e.subject = blob->subject;
    e.meta.queue_id = blob->queue_id;
    for (const auto& a : blob->archives)
      e.meta.findings.push_back(std::string(a.document() ? "encrypted_document@" : "encrypted_archive@") + a.path);
  }
  e.sender_lc = ascii_lower(e.meta.sender);
  for (const auto& r : e.meta.recipients) e.recipients_lc.push_back(ascii_lower(r));
  for (const auto& x : e.meta.findings) e.finding_types.push_back(ascii_lower(x.substr(0, x.find('@'))));
  return e;
}

struct Item {
  const IndexEntry* e;
  std::size_t pos;  // in the index; SIZE_MAX for a PPAP record
  std::string_view state;
};

std::string query_of(const Filters& f, std::size_t page) {
  std::string q;
  auto add = [&](std::string_view k, const std::string& v) {
    if (v.empty()) return;
    q += q.empty() ? "?" : "&";
    q += std::string(k) + "=" + url_encode(v);
  };
  add("sender", f.sender);
  add("recipient", f.recipient);
  add("finding", f.finding);
  add("from", f.from);
  add("to", f.to);
  add("state", f.state);
  if (page > 1) add("page", std::to_string(page));
  return "/quarantine" + q;
}

std::string text_input(const Request& r, std::string_view name, std::string_view type, const std::string& value) {
  return "<label>" + html_escape(t(r, "q.filter." + std::string(name))) + " <input type=\"" + std::string(type) +
         "\" name=\"" + std::string(name) + "\" value=\"" + html_escape(value) + "\"></label>\n";
}

std::string filter_form(const Request& r, const Filters& f) {
  std::string out = "<form id=\"filters\" class=\"filters\" method=\"get\" action=\"/quarantine\">\n";
  out += text_input(r, "sender", "text", f.sender);
  out += text_input(r, "recipient", "text", f.recipient);
  out += text_input(r, "finding", "text", f.finding);
  out += text_input(r, "from", "date", f.from);
  out += text_input(r, "to", "date", f.to);
  out += "<label>" + html_escape(t(r, "q.filter.state")) + " <select name=\"state\">\n<option value=\"\">" +
         html_escape(t(r, "q.state.all")) + "</option>\n";
  for (std::string_view s : kStates)
    out += "<option value=\"" + std::string(s) + "\"" + (f.state == s ? " selected" : "") + ">" +
           html_escape(t(r, "q.state." + std::string(s))) + "</option>\n";
  out += "</select></label>\n<button type=\"submit\">" + html_escape(t(r, "q.filter.apply")) + "</button>\n";
  out += "<a class=\"reset\" href=\"/quarantine\">" + html_escape(t(r, "q.filter.reset")) + "</a>\n</form>\n";
  return out;
}

std::string types_of(const IndexEntry& e) {
  std::vector<std::string> seen;
  for (const auto& f : e.meta.findings) {
    std::string type = f.substr(0, f.find('@'));
    if (std::find(seen.begin(), seen.end(), type) == seen.end()) seen.push_back(type);
  }
  return seen.empty() ? "-" : join(seen, ", ");
}

std::string row_html(const Request& r, const IndexEntry& e, std::string_view state, bool pending) {
  const std::string href = pending ? "/ppap" : "/quarantine/" + url_encode(e.meta.id);
  std::string subject = e.broken ? std::string(t(r, "q.broken_entry"))
                        : e.subject.empty() ? std::string(t(r, "q.no_subject"))
                                            : e.subject;
  std::string out = "<tr data-id=\"" + html_escape(e.meta.id) + "\" class=\"state-" + std::string(state) + "\">";
  out += "<td class=\"time\">" + html_escape(show_time(e.time)) + "</td>";
  out += "<td class=\"sender\">" + html_escape(e.meta.sender) + "</td>";
  out += "<td class=\"recipients\">" + html_escape(join(e.meta.recipients, ", ")) + "</td>";
  out += "<td class=\"subject\"><a href=\"" + html_escape(href) + "\">" + html_escape(subject) + "</a></td>";
  out += "<td class=\"verdict verdict-" + html_escape(e.meta.verdict.empty() ? "none" : e.meta.verdict) + "\">" +
         html_escape(e.meta.verdict.empty() ? "-" : e.meta.verdict) + "</td>";
  out += "<td class=\"findings\">" + html_escape(types_of(e)) + "</td>";
  out += "<td class=\"state\">" + html_escape(t(r, "q.state." + std::string(state))) + "</td></tr>\n";
  return out;
}

}  // namespace

void warm_pages(Services& s) {
  try {
    index_of(s).refresh();
  } catch (const std::exception&) {
    // the list page says why when it is asked for
  }
}

Response quarantine_list_page(const Request& r, Services& s) {
  const Filters f = filters_of(r);
  QuarantineIndex& index = index_of(s);
  try {
    index.refresh();
  } catch (const std::exception& e) {
    return error_page(r, 500, std::string(t(r, "q.store_error")) + ": " + e.what());
  }
  std::string notes;
  if (f.bad_date) notes += "<p class=\"flash flash-error\">" + html_escape(t(r, "q.bad_date")) + "</p>\n";
  if (!f.state.empty() && std::find(std::begin(kStates), std::end(kStates), f.state) == std::end(kStates))
    notes += "<p class=\"flash flash-error\">" + html_escape(t(r, "q.bad_state")) + "</p>\n";

  // PPAP records awaiting their password, newest first.
  std::vector<IndexEntry> pending;
  if (f.state.empty() || f.state == "awaiting") {
    if (!s.state) {
      notes += "<p class=\"flash flash-error\">" + html_escape(t(r, "state.unavailable")) + ": " +
               html_escape(s.state_error) + "</p>\n";
    } else if (auto recs = s.state->pending().list(state::PendingState::awaiting, kMaxPendingShown); !recs.ok()) {
      notes += "<p class=\"flash flash-error\">" + html_escape(t(r, "state.unavailable")) + ": " +
               html_escape(recs.status().message()) + "</p>\n";
    } else {
      for (auto it = recs->rbegin(); it != recs->rend(); ++it) pending.push_back(pending_entry(*it));
    }
  }
  // Matches, newest first: the index is oldest first, the records too.
  std::vector<Item> items;
  const auto& all = index.entries();
  {
    std::size_t p = 0;
    auto take_pending_newer_than = [&](std::int64_t t) {
      for (; p < pending.size() && pending[p].time > t; ++p)
        if (matches(pending[p], "awaiting", f)) items.push_back({&pending[p], SIZE_MAX, "awaiting"});
    };
    for (std::size_t i = all.size(); i-- > 0;) {
      const IndexEntry& e = all[i];
      take_pending_newer_than(e.time);
      std::string_view st = state_of(e);
      if (matches(e, st, f)) items.push_back({&e, i, st});
    }
    take_pending_newer_than(INT64_MIN);
  }
  const std::size_t total = items.size();
  const std::size_t pages = std::max<std::size_t>(1, (total + kListPageSize - 1) / kListPageSize);
  const std::size_t cur = std::min(f.page, pages);
  const std::size_t first = (cur - 1) * kListPageSize, last = std::min(total, first + kListPageSize);

  std::string body = flash_html(r) + notes + filter_form(r, f);
  body += "<p class=\"count\">" + html_escape(t(r, "q.count")) + ": " + std::to_string(total) + "</p>\n";
  body += "<table id=\"qlist\" class=\"list\">\n<thead><tr>";
  for (std::string_view k : {"q.col.time", "q.col.sender", "q.col.recipients", "q.col.subject", "q.col.verdict",
                             "q.col.findings", "q.col.state"})
    body += "<th>" + html_escape(t(r, k)) + "</th>";
  body += "</tr></thead>\n<tbody>\n";
  for (std::size_t i = first; i < last; ++i) {
    const Item& it = items[i];
    if (it.pos == SIZE_MAX) {
      body += row_html(r, *it.e, it.state, true);
      continue;
    }
    // The rows shown are read afresh: a release or delete by the command
    // line shows at once, even when the filter saw the older state.
    IndexEntry fresh = read_index_entry(*s.quarantine, it.e->meta.id);
    body += row_html(r, fresh, state_of(fresh), false);
  }
  body += "</tbody>\n</table>\n";
  if (total == 0) body += "<p class=\"empty\">" + html_escape(t(r, "q.empty")) + "</p>\n";
  body += "<nav class=\"pager\">";
  if (cur > 1) body += "<a rel=\"prev\" href=\"" + html_escape(query_of(f, cur - 1)) + "\">" + html_escape(t(r, "q.prev")) + "</a> ";
  body += "<span class=\"page\">" + html_escape(t(r, "q.page")) + " " + std::to_string(cur) + " / " +
          std::to_string(pages) + "</span>";
  if (cur < pages) body += " <a rel=\"next\" href=\"" + html_escape(query_of(f, cur + 1)) + "\">" + html_escape(t(r, "q.next")) + "</a>";
  body += "</nav>\n";
  Response resp;
  resp.body = page(r, t(r, "q.title"), body);
  return resp;
}

}  // namespace emogate::web
