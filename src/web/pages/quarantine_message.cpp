// GET /quarantine/ID (envelope, decoded headers, the findings tree from
// the stored report with its objects, hashes and decryption trail, and the
// action forms), GET /quarantine/ID/raw (the stored message as a download,
// never as a page), and the actions POST /quarantine/ID/release (to all
// or some recipients, through release_entry(), as `emogate quarantine
// release`) and POST /quarantine/ID/delete. Every action is logged with
// the operator's name and answered with a redirect.
// Trusted input: the configuration. The stored message, report and meta
// came from mail: parsed defensively, every value escaped.
#include <gmime/gmime.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "common/text.h"
#include "formats/mime/charset.h"
#include "formats/mime/gmime_message.h"
#include "quarantine/release.h"
#include "quarantine/store.h"
#include "web/pages/pages.h"
#include "web/pages/quarantine_index.h"

namespace emogate::web {

namespace {

using nlohmann::json;

// "/quarantine/ID[/ACTION]" split; an empty id when the path is not one.
struct Target {
  std::string id, action;
};
Target target_of(const std::string& path) {
  constexpr std::string_view prefix = "/quarantine/";
  if (!path.starts_with(prefix)) return {};
  std::string rest = path.substr(prefix.size());
  Target tg;
  auto slash = rest.find('/');
  tg.id = rest.substr(0, slash);
  if (slash != std::string::npos) tg.action = rest.substr(slash + 1);
  if (!QuarantineStore::valid_id(tg.id)) return {};
  return tg;
}

// The index the list keeps, when it exists: an action updates its entry.
void reload_index(Services& s, const std::string& id) {
  auto it = s.extras.find("quarantine_index");
  if (it != s.extras.end() && it->second) static_cast<QuarantineIndex*>(it->second.get())->reload(id);
}

std::string esc(std::string_view s) { return html_escape(s); }

// A JSON member as text: strings as they are, numbers and booleans
// printed, anything else (or absent) "".
std::string jstr(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number() || it->is_boolean()) return it->dump();
  return {};
}

std::string unfold(std::string_view v) {
  std::string out;
  for (char c : v)
    if (c != '\r' && c != '\n') out += c == '\t' ? ' ' : c;
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

std::string dl_row(const Request& r, std::string_view key, const std::string& value) {
  return "<dt>" + esc(t(r, key)) + "</dt><dd>" + esc(value) + "</dd>\n";
}

std::string envelope_html(const Request& r, const QuarantineMeta& m) {
  std::string out = "<dl id=\"envelope\" class=\"envelope\">\n";
  out += dl_row(r, "m.id", m.id);
  out += dl_row(r, "m.time", show_time(m.time));
  out += dl_row(r, "m.queue_id", m.queue_id);
  out += dl_row(r, "m.sender", m.sender.empty() ? "<>" : m.sender);
  out += dl_row(r, "m.recipients", join(m.recipients, ", "));
  out += dl_row(r, "m.client", m.client);
  out += dl_row(r, "m.auth_user", m.auth_user.empty() ? "-" : m.auth_user);
  out += dl_row(r, "m.verdict", m.verdict);
  out += dl_row(r, "m.action", m.action);
  out += dl_row(r, "m.size", std::to_string(m.size));
  if (!m.released_by.empty()) {
    out += dl_row(r, "m.released_by", m.released_by);
    out += dl_row(r, "m.released_at", show_time(m.released_at));
    out += dl_row(r, "m.released_to", m.released_to.empty() ? join(m.recipients, ", ") : join(m.released_to, ", "));
  }
  return out + "</dl>\n";
}

// The message's header fields, RFC 2047 words decoded (through GMime's
// parse of the header block).
std::string headers_html(const Request& r, std::string_view raw) {
  std::string_view block = raw;
  for (std::string_view sep : {"\r\n\r\n", "\n\n"})
    if (auto p = raw.find(sep); p != std::string_view::npos) {
      block = raw.substr(0, p + sep.size());
      break;
    }
  std::string head(block);
  head += "\n";
  std::set<std::string> problems;
  ParsedMessage parsed(head, problems);
  std::string out = "<table id=\"headers\" class=\"headers\">\n";
  if (parsed.message()) {
    GMimeHeaderList* list = g_mime_object_get_header_list(GMIME_OBJECT(parsed.message()));
    const int n = list ? g_mime_header_list_get_count(list) : 0;
    for (int i = 0; i < n && static_cast<std::size_t>(i) < kMaxHeadersShown; ++i) {
      GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
      const char* name = h ? g_mime_header_get_name(h) : nullptr;
      const char* value = h ? g_mime_header_get_raw_value(h) : nullptr;
      std::string v = decode_rfc2047(unfold(value ? value : ""));
      if (v.size() > kMaxHeaderValueShown) v = v.substr(0, kMaxHeaderValueShown) + "…";
      out += "<tr><th>" + esc(name ? name : "") + "</th><td>" + esc(v) + "</td></tr>\n";
    }
    if (n > 0 && static_cast<std::size_t>(n) > kMaxHeadersShown)
      out += "<tr><td colspan=\"2\" class=\"more\">" + esc(t(r, "m.more_headers")) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string finding_html(const Request& r, const json& f) {
  const std::string verdict = jstr(f, "verdict");
  std::string out = "<li class=\"finding verdict-" + esc(verdict.empty() ? "none" : verdict) + "\">";
  out += "<span class=\"ftype\">" + esc(jstr(f, "type")) + "</span> ";
  out += "<span class=\"fverdict\">" + esc(verdict) + "</span> ";
  out += "<span class=\"fpath\">" + esc(jstr(f, "path")) + "</span> ";
  out += "<span class=\"fdetail\">" + esc(jstr(f, "detail")) + "</span>";
  if (auto rs = jstr(f, "rule_set"); !rs.empty())
    out += " <span class=\"frule\">" + esc(t(r, "m.rule_set")) + " " + esc(rs) + " (" + esc(jstr(f, "score")) + ")</span>";
  if (auto tr = jstr(f, "trick"); !tr.empty())
    out += " <span class=\"ftrick\">" + esc(tr) + ": " + esc(jstr(f, "sender")) + " / " + esc(jstr(f, "claimed")) +
           "</span>";
  if (auto lim = jstr(f, "limit"); !lim.empty()) out += " <span class=\"flimit\">" + esc(lim) + "</span>";
  return out + "</li>\n";
}

std::string object_html(const Request& r, const json& o, const json& findings) {
  const std::string path = jstr(o, "path");
  std::string name = jstr(o, "name");
  std::string out = "<span class=\"oname\">" + esc(name.empty() ? path : name) + "</span>";
  if (!name.empty()) out += " <span class=\"opath\">" + esc(path) + "</span>";
  out += " <span class=\"otype\">" + esc(jstr(o, "type")) + "</span>";
  out += " <span class=\"omime\">" + esc(jstr(o, "mime")) + "</span>";
  if (auto d = jstr(o, "declared_type"); !d.empty())
    out += " <span class=\"odeclared\">" + esc(t(r, "m.declared")) + " " + esc(d) + "</span>";
  out += " <span class=\"osize\">" + esc(jstr(o, "size")) + " " + esc(t(r, "m.bytes")) + "</span>";
  if (jstr(o, "truncated") == "true") out += " <span class=\"otruncated\">" + esc(t(r, "m.truncated")) + "</span>";
  if (jstr(o, "derived") == "true") out += " <span class=\"oderived\">" + esc(t(r, "m.derived")) + "</span>";
  if (auto h = jstr(o, "sha256"); !h.empty()) out += "<br><code class=\"hash\">sha256:" + esc(h) + "</code>";
  if (auto p = jstr(o, "provenance"); !p.empty())
    out += "<br><span class=\"provenance\">" + esc(t(r, "m.decryption")) + ": " + esc(p) + "</span>";
  std::string own;
  if (findings.is_array())
    for (const json& f : findings)
      if (jstr(f, "path") == path) own += finding_html(r, f);
  if (!own.empty()) out += "<ul class=\"finding-list\">\n" + own + "</ul>\n";
  return out;
}

// The report's objects as a tree. The engine lists an object's derived
// objects (e.g. a macro sheet's text) after its siblings' subtrees, so the
// parent is found by path: the object one level up whose path, plus "/",
// begins this one's; failing that, the last object seen one level up.
std::string tree_html(const Request& r, const json& objects, const json& findings) {
  std::vector<const json*> objs;
  for (const json& o : objects)
    if (o.is_object()) objs.push_back(&o);
  const std::size_t n = objs.size();
  std::vector<std::vector<std::size_t>> kids(n);
  std::vector<std::size_t> roots;
  std::map<std::pair<int, std::string>, std::size_t> by_path;
  std::vector<std::size_t> last_at(kMaxTreeDepth + 1, n);
  for (std::size_t i = 0; i < n; ++i) {
    const json& o = *objs[i];
    int d = 0;
    if (auto it = o.find("depth"); it != o.end() && it->is_number_integer()) d = it->get<int>();
    d = std::clamp(d, 0, kMaxTreeDepth);
    const std::string path = jstr(o, "path");
    std::size_t parent = n;
    if (d > 0) {
      for (std::size_t pos = path.rfind('/'); pos != std::string::npos && pos > 0; pos = path.rfind('/', pos - 1))
        if (auto it = by_path.find({d - 1, path.substr(0, pos)}); it != by_path.end()) {
          parent = it->second;
          break;
        }
      if (parent == n) parent = last_at[d - 1];
    }
    // A parent is always one level up, so a chain is at most
    // kMaxTreeDepth long.
    (parent == n ? roots : kids[parent]).push_back(i);
    by_path.emplace(std::make_pair(d, path), i);
    last_at[d] = i;
    std::fill(last_at.begin() + d + 1, last_at.end(), n);
  }
  // Depth first; the depth is bounded by kMaxTreeDepth, so is the recursion.
  std::function<std::string(const std::vector<std::size_t>&)> list = [&](const std::vector<std::size_t>& ids) {
    std::string out = "<ul class=\"tree\">\n";
    for (std::size_t i : ids) {
      out += "<li class=\"object\">" + object_html(r, *objs[i], findings);
      if (!kids[i].empty()) out += list(kids[i]);
      out += "</li>\n";
    }
    return out + "</ul>\n";
  };
  return roots.empty() ? std::string() : list(roots);
}

std::string list_of(const json& j, const char* key, const char* cls) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_array() || j[key].empty()) return {};
  std::string out = std::string("<ul class=\"") + cls + "\">\n";
  for (const json& x : j[key]) out += "<li>" + esc(x.is_string() ? x.get<std::string>() : x.dump(-1, ' ', false, json::error_handler_t::replace)) + "</li>\n";
  return out + "</ul>\n";
}

std::string findings_html(const Request& r, const std::string& report_text, std::string_view report_error) {
  std::string out = "<section id=\"findings\" class=\"findings\">\n<h2>" + esc(t(r, "m.findings")) + "</h2>\n";
  if (!report_error.empty())
    return out + "<p class=\"broken\">" + esc(t(r, "m.report_broken")) + ": " + esc(report_error) + "</p>\n</section>\n";
  json j = json::parse(report_text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return out + "<p class=\"broken\">" + esc(t(r, "m.report_broken")) + "</p>\n</section>\n";
  out += "<p class=\"verdict verdict-" + esc(jstr(j, "verdict")) + "\">" + esc(t(r, "m.verdict")) + ": " +
         esc(jstr(j, "verdict")) + "</p>\n";
  if (jstr(j, "incomplete") == "true") out += "<p class=\"incomplete\">" + esc(t(r, "m.incomplete")) + "</p>\n";
  const json empty = json::array();
  const json& findings = j.contains("findings") ? j["findings"] : empty;
  out += "<h3>" + esc(t(r, "m.finding_list")) + "</h3>\n";
  if (findings.is_array() && !findings.empty()) {
    out += "<ul class=\"finding-list\">\n";
    for (const json& f : findings) out += finding_html(r, f);
    out += "</ul>\n";
  } else {
    out += "<p class=\"empty\">" + esc(t(r, "m.no_findings")) + "</p>\n";
  }
  out += "<h3>" + esc(t(r, "m.objects")) + "</h3>\n";
  if (j.contains("objects") && j["objects"].is_array()) out += tree_html(r, j["objects"], findings);
  if (j.contains("locked") && j["locked"].is_array() && !j["locked"].empty()) {
    out += "<h3>" + esc(t(r, "m.locked")) + "</h3>\n<ul class=\"locked\">\n";
    for (const json& l : j["locked"])
      out += "<li>" + esc(jstr(l, "archive")) + " : " + esc(jstr(l, "member")) + "</li>\n";
    out += "</ul>\n";
  }
  if (auto e = list_of(j, "errors", "errors"); !e.empty()) out += "<h3>" + esc(t(r, "m.errors")) + "</h3>\n" + e;
  if (auto u = list_of(j, "urls", "urls"); !u.empty()) out += "<h3>" + esc(t(r, "m.urls")) + "</h3>\n" + u;
  return out + "</section>\n";
}

std::string actions_html(const Request& r, const QuarantineMeta& m, bool broken) {
  const std::string base = "/quarantine/" + m.id;
  std::string out = "<section class=\"actions\">\n<h2>" + esc(t(r, "m.actions")) + "</h2>\n";
  if (!broken && !m.recipients.empty()) {
    out += "<form id=\"release\" class=\"action\" method=\"post\" action=\"" + esc(base + "/release") + "\">\n";
    out += csrf_field(r);
    // The form always names its recipients: none ticked is refused, not
    // taken as "all" (which is what a release without the form means).
    out += "<input type=\"hidden\" name=\"pick\" value=\"1\">\n";
    out += "<fieldset><legend>" + esc(t(r, "m.release_to")) + "</legend>\n";
    for (const std::string& rc : m.recipients) {
      const bool had = std::find(m.released_to.begin(), m.released_to.end(), rc) != m.released_to.end();
      out += "<label class=\"rcpt" + std::string(had ? " released" : "") +
             "\"><input type=\"checkbox\" name=\"rcpt\" value=\"" + esc(rc) + "\"" + (had ? "" : " checked") + "> " +
             esc(rc) + (had ? " (" + esc(t(r, "m.already_released")) + ")" : "") + "</label>\n";
    }
    out += "</fieldset>\n<label><input type=\"checkbox\" name=\"keep\" value=\"1\"> " + esc(t(r, "m.keep")) +
           "</label>\n<button type=\"submit\">" + esc(t(r, "m.release")) + "</button>\n</form>\n";
  }
  out += "<form id=\"delete\" class=\"action\" method=\"post\" action=\"" + esc(base + "/delete") + "\">\n" +
         csrf_field(r) + "<button type=\"submit\" class=\"danger\">" + esc(t(r, "m.delete")) + "</button>\n</form>\n";
  out += "<p><a id=\"raw\" class=\"download\" href=\"" + esc(base + "/raw") + "\">" + esc(t(r, "m.download")) +
         "</a></p>\n";
  return out + "</section>\n";
}

Response message_page(const Request& r, Services& s, const std::string& id) {
  auto m = s.quarantine->meta(id);
  std::string raw, raw_error, report, report_error;
  try {
    raw = s.quarantine->message(id);
  } catch (const std::exception& e) {
    raw_error = e.what();
  }
  try {
    report = s.quarantine->report(id);
  } catch (const std::exception& e) {
    report_error = e.what();
  }
  if (!m && !raw_error.empty() && !report_error.empty()) return error_page(r, 404, t(r, "m.not_found"));
  reload_index(s, id);
  std::string body = flash_html(r);
  QuarantineMeta meta;
  meta.id = id;
  if (m) meta = *m;
  const bool broken = !m || !raw_error.empty();
  if (broken) body += "<p class=\"flash flash-error broken\">" + esc(t(r, "m.broken")) + "</p>\n";
  body += "<h2>" + esc(t(r, "m.envelope")) + "</h2>\n" + envelope_html(r, meta);
  body += "<h2>" + esc(t(r, "m.headers")) + "</h2>\n";
  if (raw_error.empty()) body += headers_html(r, raw);
  else body += "<p class=\"broken\">" + esc(raw_error) + "</p>\n";
  body += findings_html(r, report, report_error);
  body += actions_html(r, meta, broken);
  Response resp;
  resp.body = page(r, std::string(t(r, "m.title")) + " " + id, body);
  return resp;
}

Response raw_download(const Request& r, Services& s, const std::string& id) {
  Response resp;
  try {
    resp.body = s.quarantine->message(id);
  } catch (const std::exception&) {
    return error_page(r, 404, t(r, "m.not_found"));
  }
  log_action(r, "download", id, "ok");
  resp.content_type = "application/octet-stream";
  resp.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + id + ".eml\"");
  return resp;
}

}  // namespace

Response quarantine_get(const Request& r, Services& s) {
  const Target tg = target_of(r.path);
  if (tg.id.empty()) return error_page(r, 404, t(r, "m.not_found"));
  if (tg.action.empty()) return message_page(r, s, tg.id);
  if (tg.action == "raw") return raw_download(r, s, tg.id);
  return error_page(r, 404, t(r, "m.not_found"));
}

Response quarantine_post(const Request& r, Services& s) {
  const Target tg = target_of(r.path);
  if (tg.id.empty() || (tg.action != "release" && tg.action != "delete"))
    return error_page(r, 404, t(r, "m.not_found"));
  const std::string back = "/quarantine/" + tg.id;
  if (tg.action == "delete") {
    bool ok = false;
    try {
      ok = s.quarantine->remove(tg.id);
    } catch (const std::exception&) {
      ok = false;
    }
    log_action(r, "delete", tg.id, ok ? "ok" : "failed");
    reload_index(s, tg.id);
    return redirect(ok ? "/quarantine?msg=deleted" : back + "?msg=delete_failed");
  }
  auto m = s.quarantine->meta(tg.id);
  if (!m) {
    log_action(r, "release", tg.id, "not_found");
    return error_page(r, 404, t(r, "m.not_found"));
  }
  const std::vector<std::string> rcpts = r.params("rcpt");
  if (rcpts.empty() && r.param("pick") == "1") {
    log_action(r, "release", tg.id, "refused: no recipient ticked");
    return redirect(back + "?msg=no_recipient");
  }
  const bool keep = r.param("keep") == "1";
  std::ostringstream err;
  const ReleaseOutcome o = release_entry(*s.quarantine, s.config->quarantine.sendmail, *m, rcpts,
                                        r.operator_name, keep, now_of(s), err);
  const std::string to = rcpts.empty() ? "all" : join(rcpts, ",");
  std::string detail = err.str();
  while (!detail.empty() && detail.back() == '\n') detail.pop_back();
  switch (o) {
    case ReleaseOutcome::released: log_action(r, "release", tg.id, "ok to=" + to); break;
    case ReleaseOutcome::bad_recipient: log_action(r, "release", tg.id, "refused: not a recipient"); break;
    default: log_action(r, "release", tg.id, "failed: " + detail); break;
  }
  reload_index(s, tg.id);
  switch (o) {
    case ReleaseOutcome::released: {
      const auto after = s.quarantine->meta(tg.id);
      if (!after) return redirect("/quarantine?msg=released");
      return redirect(back + (after->released_to.empty() ? "?msg=released" : "?msg=released_some"));
    }
    case ReleaseOutcome::bad_recipient: return redirect(back + "?msg=bad_recipient");
    case ReleaseOutcome::not_removed: return redirect(back + "?msg=not_removed");
    default: return redirect(back + "?msg=release_failed");
  }
}

}  // namespace emogate::web
