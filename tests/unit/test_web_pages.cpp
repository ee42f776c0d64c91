// The web view's pages, called directly with a Request and a Services over
// a temp quarantine store and a temp SQLite state store: the list's
// filters, paging and broken entries, a message with hostile Subject and
// file names (escaped), release to some recipients (a fake sendmail),
// delete, the raw download, the PPAP holds, the incidents with unfreeze,
// and a Japanese text for every key a page uses.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "formats/passwords/ppap_blob.h"
#include "quarantine/store.h"
#include "state/store.h"
#include "unit/test_files.h"
#include "web/html.h"
#include "web/pages/pages.h"
#include "web/pages/quarantine_index.h"
#include "web/web.h"

using namespace emogate;
using namespace emogate::web;

namespace {

constexpr std::int64_t kNow = 1796000000;  // 2026-11-30

std::size_t count_of(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

std::string header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

std::string read_file(const std::string& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class WebPages : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg.quarantine.dir = (dir.path / "quarantine").string();
    store = std::make_unique<QuarantineStore>(cfg.quarantine.dir);
    store->ensure_dir();
    cfg.state.backend = "sqlite";
    cfg.state.path = (dir.path / "state" / "state.db").string();
    auto st = state::open_state_store(cfg.state);
    ASSERT_TRUE(st.ok()) << st.status().message();
    state_store = std::move(*st);
    // A stand-in for sendmail that records its arguments and input.
    sendmail = (dir.path / "sendmail").string();
    write_sendmail(0);
    cfg.quarantine.sendmail = sendmail;
    svc.config = &cfg;
    svc.quarantine = store.get();
    svc.state = state_store.get();
    svc.now = [] { return kNow; };
    set_action_sink([this](const std::string& line) { actions.push_back(line); });
  }
  void TearDown() override { set_action_sink(nullptr); }

  void write_sendmail(int status) {
    std::ofstream(sendmail) << "#!/bin/sh\nprintf '%s\\n' \"$@\" > " << (dir.path / "args").string() << "\ncat > "
                            << (dir.path / "stdin").string() << "\nexit " << status << "\n";
    ::chmod(sendmail.c_str(), 0755);
  }

  Request get(const std::string& path, std::multimap<std::string, std::string> query = {}, Lang lang = Lang::en) {
    Request r;
    r.method = "GET";
    r.path = path;
    r.query = std::move(query);
    r.operator_name = "helpdesk";
    r.csrf_token = "csrf-token-1";
    r.remote = "127.0.0.1";
    r.lang = lang;
    return r;
  }
  Request post(const std::string& path, std::multimap<std::string, std::string> form) {
    Request r = get(path);
    r.method = "POST";
    r.form = std::move(form);
    return r;
  }

  std::string put(const std::string& subject_header, QuarantineMeta m, const std::string& report = "{}") {
    std::string msg = "From: a@example.org\r\nTo: b@example.com\r\nSubject: " + subject_header +
                      "\r\nMessage-ID: <1@example.org>\r\n\r\nbody\r\n";
    return store->put(msg, report, std::move(m));
  }

  static QuarantineMeta meta(const std::string& sender, std::vector<std::string> rcpts,
                             std::vector<std::string> findings = {"vba_macro@invoice.docm/word/vbaProject.bin"}) {
    QuarantineMeta m;
    m.queue_id = "4Xk2Lq0abcz";
    m.sender = sender;
    m.recipients = std::move(rcpts);
    m.client = "192.0.2.7";
    m.verdict = "suspicious";
    m.action = "quarantine";
    m.findings = std::move(findings);
    m.size = 42;
    return m;
  }

  test::TempDir dir;
  Config cfg;
  std::unique_ptr<QuarantineStore> store;
  std::unique_ptr<state::StateStore> state_store;
  std::string sendmail;
  Services svc;
  std::vector<std::string> actions;
};

// Sets the pages' zone for a test and puts $TZ back after it.
struct ZoneForTest {
  explicit ZoneForTest(const std::string& zone) {
    if (const char* tz = std::getenv("TZ")) saved = tz;
    use_time_zone(zone);
  }
  ~ZoneForTest() {
    if (saved) ::setenv("TZ", saved->c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
  }
  std::optional<std::string> saved;
};

TEST_F(WebPages, DatesAreShownAndFilteredInThePagesZone) {
  // The column heads name the zone the texts are first made in (here the
  // test process's own).
  EXPECT_EQ(tr(Lang::en, "q.col.time"), "Date (" + time_zone_label() + ")");
  EXPECT_EQ(tr(Lang::ja, "q.col.time"), "日時（" + time_zone_label() + "）");
  constexpr std::int64_t kLate = 1795451400;  // 2026-11-23 16:30:00 UTC, 2026-11-24 01:30:00 in Tokyo
  const std::string id = put("late", meta("alice@example.org", {"carol@example.com"}));
  auto m = *store->meta(id);
  m.time = kLate;
  store->update_meta(m);
  const auto listed = [&](const std::string& from, const std::string& to) {
    Response r = quarantine_list_page(get("/quarantine", {{"from", from}, {"to", to}}), svc);
    return r.body.find("data-id=\"" + id + "\"") != std::string::npos ? r.body : std::string();
  };
  {
    ZoneForTest tokyo("Asia/Tokyo");
    EXPECT_EQ(time_zone_label(), "Asia/Tokyo");
    const std::string day = listed("2026-11-24", "2026-11-24");
    EXPECT_NE(day.find("2026-11-24 01:30:00"), std::string::npos) << day.substr(0, 2000);
    EXPECT_TRUE(listed("2026-11-23", "2026-11-23").empty());
    EXPECT_TRUE(listed("2026-11-25", "2026-11-30").empty());
  }
  {
    ZoneForTest utc("UTC");
    EXPECT_EQ(time_zone_label(), "UTC");
    const std::string day = listed("2026-11-23", "2026-11-23");
    EXPECT_NE(day.find("2026-11-23 16:30:00"), std::string::npos) << day.substr(0, 2000);
    EXPECT_TRUE(listed("2026-11-24", "2026-11-24").empty());
  }
}

TEST_F(WebPages, ListFiltersPagesAndKeepsBrokenEntries) {
  std::vector<std::string> ids;
  for (int i = 0; i < 120; ++i) {
    const bool alice = i % 3 == 0;
    ids.push_back(put("Invoice " + std::to_string(i),
                      meta(alice ? "alice@example.org" : "bob@example.net", {"Carol@Example.com"},
                           i % 2 ? std::vector<std::string>{"vba_macro@a.docm/vbaProject.bin"}
                                 : std::vector<std::string>{"encrypted_archive@a.zip"})));
  }
  // A date filter: entry 5 a week earlier; entry 7 released (kept).
  auto m5 = *store->meta(ids[5]);
  m5.time = kNow - 7 * 86400;
  store->update_meta(m5);
  auto m7 = *store->meta(ids[7]);
  m7.released_by = "postmaster";
  m7.released_at = kNow;
  store->update_meta(m7);
  // A broken entry: its meta.json is missing.
  const std::string broken = "20261101-000000-0000beef";
  ASSERT_EQ(::mkdir((cfg.quarantine.dir + "/" + broken).c_str(), 0700), 0);

  Response all = quarantine_list_page(get("/quarantine"), svc);
  EXPECT_EQ(all.status, 200);
  EXPECT_NE(all.body.find("id=\"qlist\""), std::string::npos);
  EXPECT_NE(all.body.find("id=\"filters\""), std::string::npos);
  EXPECT_EQ(count_of(all.body, "<tr data-id="), kListPageSize);
  EXPECT_NE(all.body.find(": 121</p>"), std::string::npos);  // the count: 120 and the broken one
  // Newest first (by ID: entries put in one second come in any order); each row links to its page.
  const std::string newest = *std::max_element(ids.begin(), ids.end());
  EXPECT_EQ(all.body.find("<tr data-id="), all.body.find("<tr data-id=\"" + newest + "\""));
  const auto newest_i = std::max_element(ids.begin(), ids.end()) - ids.begin();
  EXPECT_NE(all.body.find("<td class=\"subject\"><a href=\"/quarantine/" + newest + "\">Invoice " +
                          std::to_string(newest_i) + "</a>"),
            std::string::npos);

  Response last = quarantine_list_page(get("/quarantine", {{"page", "3"}}), svc);
  EXPECT_EQ(count_of(last.body, "<tr data-id="), 21u);
  EXPECT_NE(last.body.find("data-id=\"" + broken + "\""), std::string::npos);
  EXPECT_NE(last.body.find("state-broken"), std::string::npos);
  EXPECT_NE(last.body.find("rel=\"prev\" href=\"/quarantine?page=2\""), std::string::npos);

  // Sender (case-insensitive substring): 40 alice entries and the broken one.
  Response alice = quarantine_list_page(get("/quarantine", {{"sender", "ALICE@"}, {"page", "1"}}), svc);
  EXPECT_NE(alice.body.find(": 41</p>"), std::string::npos) << alice.body.substr(0, 3000);
  EXPECT_EQ(alice.body.find("bob@example.net"), std::string::npos);
  EXPECT_EQ(alice.body.find("rel=\"next\""), std::string::npos);
  // Recipient and finding type.
  Response vba = quarantine_list_page(get("/quarantine", {{"recipient", "carol@example"}, {"finding", "vba_macro"}}), svc);
  EXPECT_NE(vba.body.find(": 61</p>"), std::string::npos);
  EXPECT_NE(vba.body.find("rel=\"next\" href=\"/quarantine?recipient=carol%40example&amp;finding=vba_macro&amp;page=2\""),
            std::string::npos)
      << vba.body.substr(vba.body.find("<nav class=\"pager\">"), 300);
  Response none = quarantine_list_page(get("/quarantine", {{"recipient", "nobody@"}}), svc);
  EXPECT_EQ(count_of(none.body, "<tr data-id="), 1u);  // only the broken entry
  // Dates: only entry 5 is a week old.
  Response old = quarantine_list_page(
      get("/quarantine", {{"from", "2026-11-01"}, {"to", "2026-11-23"}, {"sender", "@"}}), svc);
  EXPECT_NE(old.body.find("data-id=\"" + ids[5] + "\""), std::string::npos);
  EXPECT_NE(old.body.find("data-id=\"" + broken + "\""), std::string::npos);
  EXPECT_EQ(count_of(old.body, "<tr data-id="), 2u);
  Response bad_date = quarantine_list_page(get("/quarantine", {{"from", "yesterday"}}), svc);
  EXPECT_NE(bad_date.body.find("YYYY-MM-DD"), std::string::npos);
  // State.
  Response released = quarantine_list_page(get("/quarantine", {{"state", "released"}}), svc);
  EXPECT_EQ(count_of(released.body, "<tr data-id="), 1u);
  EXPECT_NE(released.body.find("data-id=\"" + ids[7] + "\""), std::string::npos);

  // The index follows the store: a deleted entry leaves, a new one comes.
  // (Entries of the same second are ordered by their random ID suffix, so
  // the removed one is taken from the first page and the new one is found
  // by its sender.)
  const std::size_t first = all.body.find("<tr data-id=\"");
  ASSERT_NE(first, std::string::npos);
  const std::string gone = all.body.substr(first + 13, ids[0].size());
  ASSERT_TRUE(QuarantineStore::valid_id(gone)) << gone;
  ASSERT_TRUE(store->remove(gone));
  const std::string fresh = put("Fresh", meta("dave@example.org", {"x@example.com"}));
  Response again = quarantine_list_page(get("/quarantine"), svc);
  EXPECT_EQ(again.body.find("data-id=\"" + gone + "\""), std::string::npos);
  EXPECT_EQ(count_of(again.body, "<tr data-id="), kListPageSize);
  Response dave = quarantine_list_page(get("/quarantine", {{"sender", "dave@"}}), svc);
  EXPECT_NE(dave.body.find("data-id=\"" + fresh + "\""), std::string::npos);
}

// The index with and without its inotify watch: entries that come and go
// are seen at the next refresh; a broken one stays, marked broken.
TEST_F(WebPages, IndexFollowsTheStoreWithAndWithoutTheWatch) {
  for (bool watch : {true, false}) {
    SCOPED_TRACE(watch ? "inotify" : "rescan");
    QuarantineIndex index(*store, watch);
    const std::string a = put("A", meta("a@example.org", {"x@example.com"}));
    index.refresh();
    const std::size_t before = index.entries().size();
    ASSERT_GE(before, 1u);
    const std::string b = put("B =?UTF-8?B?6KuL5rGC5pu4?=", meta("b@example.org", {"x@example.com"}));
    ASSERT_TRUE(store->remove(a));
    const std::string broken = watch ? "20261101-000000-0000bee1" : "20261101-000000-0000bee2";
    ASSERT_EQ(::mkdir((cfg.quarantine.dir + "/" + broken).c_str(), 0700), 0);
    index.refresh();
    std::map<std::string, const IndexEntry*> by_id;
    for (const IndexEntry& e : index.entries()) by_id[e.meta.id] = &e;
    EXPECT_EQ(index.entries().size(), before + 1);
    EXPECT_FALSE(by_id.count(a));
    ASSERT_TRUE(by_id.count(b));
    EXPECT_EQ(by_id[b]->subject, "B 請求書");
    EXPECT_EQ(by_id[b]->sender_lc, "b@example.org");
    ASSERT_TRUE(by_id.count(broken));
    EXPECT_TRUE(by_id[broken]->broken);
    EXPECT_EQ(by_id[broken]->time, 1793491200);  // 2026-11-01, from its ID
  }
}

TEST_F(WebPages, HostileSubjectAndFileNamesAreEscaped) {
  const std::string payload = "<script>alert(1)</script>\"onload=alert(2)";
  nlohmann::json report = {
      {"verdict", "malicious"},
      {"findings",
       {{{"type", "vba_macro"}, {"path", "x.zip/" + payload + ".docm"}, {"detail", payload}, {"verdict", "malicious"}}}},
      {"objects",
       {{{"path", "x.zip"}, {"type", "zip"}, {"mime", "application/zip"}, {"size", 10}, {"sha256", "ab12"}, {"depth", 0}},
        {{"path", "x.zip/" + payload + ".docm"},
         {"name", payload + ".docm"},
         {"type", "docm"},
         {"mime", "application/vnd.ms-word"},
         {"size", 5},
         {"sha256", "cd34"},
         {"depth", 1},
         {"provenance", "decrypted with the password from mail 4QX"}}}},
      {"errors", {payload}},
      {"urls", {"http://example.com/" + payload}}};
  const std::string id = put(payload, meta(payload + "@example.org", {"bob@example.com"}, {"vba_macro@" + payload}),
                             report.dump());
  const std::string ja = put("=?UTF-8?B?6KuL5rGC5pu4?=", meta("billing@example.co.jp", {"bob@example.com"}));

  Response list = quarantine_list_page(get("/quarantine"), svc);
  Response page = quarantine_get(get("/quarantine/" + id), svc);
  ASSERT_EQ(page.status, 200);
  for (const std::string& body : {list.body, page.body}) {
    EXPECT_EQ(body.find("<script"), std::string::npos);
    EXPECT_EQ(body.find("\"onload"), std::string::npos);
    EXPECT_NE(body.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;onload=alert(2)"), std::string::npos);
  }
  // The findings tree: the object inside the ZIP, its hash, its decryption trail.
  EXPECT_NE(page.body.find("id=\"findings\""), std::string::npos);
  EXPECT_NE(page.body.find("<ul class=\"tree\">\n<li class=\"object\"><span class=\"oname\">x.zip</span>"),
            std::string::npos);
  EXPECT_NE(page.body.find("<ul class=\"tree\">\n<li class=\"object\"><span class=\"oname\">&lt;script&gt;"),
            std::string::npos);
  EXPECT_NE(page.body.find("sha256:cd34"), std::string::npos);
  EXPECT_NE(page.body.find("decrypted with the password from mail 4QX"), std::string::npos);
  // The action forms, each with the CSRF token.
  EXPECT_NE(page.body.find("<form id=\"release\""), std::string::npos);
  EXPECT_NE(page.body.find("<form id=\"delete\""), std::string::npos);
  EXPECT_NE(page.body.find("action=\"/quarantine/" + id + "/release\""), std::string::npos);
  EXPECT_NE(page.body.find("/release\">\n<input type=\"hidden\" name=\"csrf\" value=\"csrf-token-1\">"), std::string::npos);
  EXPECT_NE(page.body.find("/delete\">\n<input type=\"hidden\" name=\"csrf\" value=\"csrf-token-1\">"), std::string::npos);
  // Japanese: the encoded Subject decoded in the list and in the headers.
  EXPECT_NE(list.body.find(">請求書</a>"), std::string::npos) << list.body.substr(list.body.find("<tbody>"), 1500);
  Response jpage = quarantine_get(get("/quarantine/" + ja), svc);
  EXPECT_NE(jpage.body.find("<tr><th>Subject</th><td>請求書</td></tr>"), std::string::npos) << jpage.body;
  // A report that is not JSON is shown as broken, the page still works.
  const std::string bad = put("Bad report", meta("a@example.org", {"b@example.com"}), "{not json");
  Response bp = quarantine_get(get("/quarantine/" + bad), svc);
  EXPECT_EQ(bp.status, 200);
  EXPECT_NE(bp.body.find("class=\"broken\""), std::string::npos);
  // Unknown and malformed IDs.
  EXPECT_EQ(quarantine_get(get("/quarantine/20261101-000000-00000000"), svc).status, 404);
  EXPECT_EQ(quarantine_get(get("/quarantine/../etc"), svc).status, 404);
}

TEST_F(WebPages, ReleaseToSomeRecipientsThenTheRest) {
  const std::string id = put("Invoice", meta("alice@example.org", {"bob@example.com", "carol@example.com"}));
  quarantine_list_page(get("/quarantine"), svc);  // builds the index
  Response r1 = quarantine_post(post("/quarantine/" + id + "/release", {{"rcpt", "carol@example.com"}}), svc);
  EXPECT_EQ(r1.status, 303);
  EXPECT_EQ(header(r1, "Location"), "/quarantine/" + id + "?msg=released_some");
  EXPECT_EQ(read_file((dir.path / "args").string()), "-i\n-f\nalice@example.org\n--\ncarol@example.com\n");
  EXPECT_EQ(read_file((dir.path / "stdin").string()).rfind("X-Emogate-Released: by helpdesk at ", 0), 0u);
  auto m = store->meta(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->released_by, "helpdesk");
  EXPECT_EQ(m->released_to, std::vector<std::string>{"carol@example.com"});
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_NE(actions[0].find("operator=helpdesk"), std::string::npos) << actions[0];
  EXPECT_NE(actions[0].find("action=release"), std::string::npos) << actions[0];
  EXPECT_NE(actions[0].find(id), std::string::npos) << actions[0];
  // The message page marks carol as released and bob still checked.
  Response page = quarantine_get(get("/quarantine/" + id, {{"msg", "released_some"}}), svc);
  EXPECT_NE(page.body.find("value=\"bob@example.com\" checked"), std::string::npos);
  EXPECT_NE(page.body.find("value=\"carol@example.com\">"), std::string::npos);
  EXPECT_NE(page.body.find("class=\"flash flash-ok\""), std::string::npos);
  Response partly = quarantine_list_page(get("/quarantine", {{"state", "released"}}), svc);
  EXPECT_NE(partly.body.find("state-partly_released"), std::string::npos);

  // Not one of its recipients: refused, nothing sent.
  ::unlink((dir.path / "args").c_str());
  Response bad = quarantine_post(post("/quarantine/" + id + "/release", {{"rcpt", "mallory@evil.example"}}), svc);
  EXPECT_EQ(header(bad, "Location"), "/quarantine/" + id + "?msg=bad_recipient");
  EXPECT_FALSE(std::filesystem::exists(dir.path / "args"));
  // The form with no recipient ticked: refused, nothing sent.
  Response none = quarantine_post(post("/quarantine/" + id + "/release", {{"pick", "1"}}), svc);
  EXPECT_EQ(header(none, "Location"), "/quarantine/" + id + "?msg=no_recipient");
  EXPECT_FALSE(std::filesystem::exists(dir.path / "args"));
  EXPECT_TRUE(store->meta(id));
  // A failing sendmail keeps the entry.
  write_sendmail(75);
  Response failed = quarantine_post(post("/quarantine/" + id + "/release", {{"rcpt", "bob@example.com"}}), svc);
  EXPECT_EQ(header(failed, "Location"), "/quarantine/" + id + "?msg=release_failed");
  EXPECT_TRUE(store->meta(id));
  EXPECT_NE(actions.back().find("outcome=failed"), std::string::npos) << actions.back();
  // The rest: now every recipient had it, the entry goes (as the CLI's release).
  write_sendmail(0);
  Response r2 = quarantine_post(post("/quarantine/" + id + "/release", {{"rcpt", "bob@example.com"}}), svc);
  EXPECT_EQ(header(r2, "Location"), "/quarantine?msg=released");
  EXPECT_FALSE(store->meta(id));
  Response list = quarantine_list_page(get("/quarantine"), svc);
  EXPECT_EQ(list.body.find(id), std::string::npos);

  // Default (no rcpt): all recipients; with keep, the entry stays as released.
  const std::string id2 = put("Kept", meta("alice@example.org", {"bob@example.com", "carol@example.com"}));
  Response r3 = quarantine_post(post("/quarantine/" + id2 + "/release", {{"keep", "1"}}), svc);
  EXPECT_EQ(header(r3, "Location"), "/quarantine/" + id2 + "?msg=released");
  EXPECT_EQ(read_file((dir.path / "args").string()),
            "-i\n-f\nalice@example.org\n--\nbob@example.com\ncarol@example.com\n");
  ASSERT_TRUE(store->meta(id2));
  EXPECT_TRUE(store->meta(id2)->released_to.empty());
  EXPECT_EQ(store->meta(id2)->released_by, "helpdesk");
}

// The engine lists a first attachment's derived text after the next
// attachment's members; the tree puts it under its own parent, by path.
TEST_F(WebPages, ObjectsTreeFollowsPathsNotListOrder) {
  const std::string report = R"({"verdict":"malicious","findings":[],"objects":[
    {"path":"a.xls","type":"sylk","size":10,"sha256":"aa","depth":1},
    {"path":"b.zip","type":"zip","size":20,"sha256":"bb","depth":1},
    {"path":"b.zip/c.xls","type":"sylk","size":5,"sha256":"cc","depth":2},
    {"path":"a.xls/XLM/SYLK.txt","type":"text","size":3,"sha256":"","depth":2}]})";
  const std::string id = put("Tree", meta("alice@example.org", {"bob@example.com"}), report);
  const Response res = quarantine_get(get("/quarantine/" + id), svc);
  ASSERT_EQ(res.status, 200);
  const std::string& b = res.body;
  const std::size_t a = b.find(">a.xls<"), zip = b.find(">b.zip<"), sylk = b.find(">a.xls/XLM/SYLK.txt<");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(zip, std::string::npos);
  ASSERT_NE(sylk, std::string::npos);
  // a.xls, then its derived text in a nested list, then b.zip.
  EXPECT_LT(a, sylk);
  EXPECT_LT(sylk, zip) << b.substr(b.find("id=\"findings\""));
  EXPECT_EQ(b.substr(zip, b.find(">b.zip/c.xls<") - zip).find("</ul>"), std::string::npos);
  EXPECT_NE(b.substr(a, sylk - a).find("<ul class=\"tree\">"), std::string::npos);
  // No hash, no empty "sha256:" label.
  EXPECT_EQ(b.find("sha256:</code>"), std::string::npos);
  EXPECT_NE(b.find("sha256:cc</code>"), std::string::npos);
}

TEST_F(WebPages, DeleteAndRawDownload) {
  const std::string id = put("<b>Invoice</b>", meta("alice@example.org", {"bob@example.com"}));
  Response raw = quarantine_get(get("/quarantine/" + id + "/raw"), svc);
  EXPECT_EQ(raw.status, 200);
  EXPECT_EQ(raw.content_type, "application/octet-stream");
  EXPECT_EQ(header(raw, "Content-Disposition"), "attachment; filename=\"" + id + ".eml\"");
  EXPECT_EQ(raw.body, store->message(id));
  EXPECT_EQ(quarantine_get(get("/quarantine/" + id + "/other"), svc).status, 404);

  Response del = quarantine_post(post("/quarantine/" + id + "/delete", {}), svc);
  EXPECT_EQ(del.status, 303);
  EXPECT_EQ(header(del, "Location"), "/quarantine?msg=deleted");
  EXPECT_FALSE(store->meta(id));
  ASSERT_FALSE(actions.empty());
  EXPECT_NE(actions.back().find("action=delete"), std::string::npos);
  EXPECT_NE(actions.back().find("outcome=ok"), std::string::npos);
  Response again = quarantine_post(post("/quarantine/" + id + "/delete", {}), svc);
  EXPECT_EQ(header(again, "Location"), "/quarantine/" + id + "?msg=delete_failed");
  EXPECT_EQ(quarantine_get(get("/quarantine/" + id + "/raw"), svc).status, 404);
}

ppap::PpapBlob hold_blob(const std::string& subject) {
  ppap::PpapBlob b;
  b.sender = "tanaka@example.co.jp";
  b.from = "tanaka@example.co.jp";
  b.subject = subject;
  b.queue_id = "4QHOLD1";
  b.recipients = {"user@example.jp"};
  zip::MemberCheck c;
  c.flags = 1;  // encrypted
  c.crc = 0x12345678;
  c.header = std::string(12, '\x01');
  b.archives = {{"<img src=x>.zip", "<img src=x>.zip", {{"見積書.docx", ppap::zip_lock(c)}}}};
  return b;
}

TEST_F(WebPages, PpapHoldsWithTimeLeft) {
  auto blob = ppap::encode_ppap_blob(hold_blob("お見積書 <script>x</script>"));
  ASSERT_TRUE(blob);
  state::PendingRecord rec;
  rec.id = "4QHOLD1.0a0b";
  rec.sender_key = "tanaka@example.co.jp";
  rec.recipients = {"user@example.jp"};
  rec.created_at = kNow - 600;
  rec.expires_at = kNow + 3600 + 5 * 60;
  rec.purge_at = kNow + 86400;
  rec.blob = *blob;
  ASSERT_TRUE(state_store->pending().put(rec, "held message", {}).ok());
  state::PendingRecord junk = rec;
  junk.id = "junk.1";
  junk.blob = "not a blob";
  ASSERT_TRUE(state_store->pending().put(junk, "held", {}).ok());

  Response p = ppap_page(get("/ppap"), svc);
  ASSERT_EQ(p.status, 200);
  EXPECT_NE(p.body.find("id=\"ppap\""), std::string::npos);
  EXPECT_NE(p.body.find("data-id=\"4QHOLD1.0a0b\""), std::string::npos);
  EXPECT_NE(p.body.find("お見積書 &lt;script&gt;"), std::string::npos);
  EXPECT_NE(p.body.find("&lt;img src=x&gt;.zip"), std::string::npos);
  EXPECT_EQ(p.body.find("<script"), std::string::npos);
  EXPECT_EQ(p.body.find("<img"), std::string::npos);
  EXPECT_NE(p.body.find("<td class=\"left\">1h 05m</td>"), std::string::npos);
  EXPECT_NE(p.body.find("data-id=\"junk.1\" class=\"state-awaiting broken\""), std::string::npos);  // shown, not dropped

  // The list merges the hold in, as awaiting a password.
  Response list = quarantine_list_page(get("/quarantine", {{"state", "awaiting"}}), svc);
  EXPECT_NE(list.body.find("data-id=\"ppap:4QHOLD1.0a0b\" class=\"state-awaiting\""), std::string::npos);
  EXPECT_NE(list.body.find("data-id=\"ppap:junk.1\""), std::string::npos);

  // Without a state store, the page says why.
  svc.state = nullptr;
  svc.state_error = "cannot open <db>";
  Response down = ppap_page(get("/ppap"), svc);
  EXPECT_EQ(down.status, 503);
  EXPECT_NE(down.body.find("cannot open &lt;db&gt;"), std::string::npos);
}

TEST_F(WebPages, IncidentsFrozenAccountsAndUnfreeze) {
  state::FlaggedMessage f;
  f.account = "alice<script>";
  f.at = kNow - 3600;
  f.malicious = true;
  f.queue_id = "4QOUT1";
  f.recipients = {"k1@partner.com"};
  f.findings = {"vba_macro"};
  f.attachment_hashes = {"beef01"};
  ASSERT_TRUE(state_store->incidents().flag(f, cfg.outbound).ok());
  ASSERT_TRUE(*state_store->freezes().freeze("alice<script>", "malicious >= 1", kNow - 3500));

  Response p = incidents_page(get("/incidents"), svc);
  ASSERT_EQ(p.status, 200);
  EXPECT_NE(p.body.find("id=\"incidents\""), std::string::npos);
  EXPECT_NE(p.body.find("id=\"frozen\""), std::string::npos);
  EXPECT_NE(p.body.find("<td class=\"account\">alice&lt;script&gt;</td>"), std::string::npos);
  EXPECT_NE(p.body.find("beef01"), std::string::npos);
  EXPECT_NE(p.body.find("action=\"/accounts/unfreeze\""), std::string::npos);
  EXPECT_NE(p.body.find("name=\"account\" value=\"alice&lt;script&gt;\""), std::string::npos);
  EXPECT_EQ(p.body.find("<script"), std::string::npos);

  Response u = unfreeze_action(post("/accounts/unfreeze", {{"account", "alice<script>"}}), svc);
  EXPECT_EQ(header(u, "Location"), "/incidents?msg=unfrozen");
  auto frozen = state_store->freezes().is_frozen("alice<script>");
  ASSERT_TRUE(frozen.ok());
  EXPECT_FALSE(*frozen);
  ASSERT_FALSE(actions.empty());
  EXPECT_NE(actions.back().find("action=unfreeze"), std::string::npos) << actions.back();
  EXPECT_NE(actions.back().find("operator=helpdesk"), std::string::npos) << actions.back();
  auto inc = state_store->incidents().get("alice<script>");
  ASSERT_TRUE(inc.ok());
  EXPECT_EQ(inc->unfrozen_by, "helpdesk");
  Response again = unfreeze_action(post("/accounts/unfreeze", {{"account", "alice<script>"}}), svc);
  EXPECT_EQ(header(again, "Location"), "/incidents?msg=not_frozen");
  Response after = incidents_page(get("/incidents", {{"msg", "unfrozen"}}), svc);
  EXPECT_NE(after.body.find("flash-ok"), std::string::npos);
  EXPECT_EQ(count_of(after.body, "class=\"unfreeze\""), 0u);
}

TEST_F(WebPages, EveryKeyAPageUsesHasAJapaneseText) {
  std::set<std::string> used;
  pages_used_keys = &used;
  const std::string id = put("x", meta("alice@example.org", {"bob@example.com"}),
                             R"({"verdict":"suspicious","incomplete":true,"findings":[{"type":"vba_macro","path":"a","rule_set":"r","score":3}],)"
                             R"("objects":[{"path":"a","type":"docm","depth":0,"declared_type":"pdf","truncated":true,"derived":true,"provenance":"p"}],)"
                             R"("locked":[{"archive":"z","member":"m"}],"errors":["e"],"urls":["u"]})");
  auto m = *store->meta(id);
  m.released_by = "x";
  store->update_meta(m);
  ASSERT_EQ(::mkdir((cfg.quarantine.dir + "/20261101-000000-0000beef").c_str(), 0700), 0);
  auto blob = ppap::encode_ppap_blob(hold_blob("s"));
  state::PendingRecord rec;
  rec.id = "h.1";
  rec.sender_key = "s@example.jp";
  rec.recipients = {"u@example.jp"};
  rec.created_at = kNow;
  rec.expires_at = kNow + 60;
  rec.purge_at = kNow + 600;
  rec.blob = *blob;
  ASSERT_TRUE(state_store->pending().put(rec, "m", {}).ok());
  rec.id = "h.2";
  rec.blob = "x";
  ASSERT_TRUE(state_store->pending().put(rec, "m", {}).ok());
  state::FlaggedMessage f;
  f.account = "alice";
  f.at = kNow;
  f.queue_id = "Q";
  f.recipients = {"k@partner.com"};
  ASSERT_TRUE(state_store->incidents().flag(f, cfg.outbound).ok());
  ASSERT_TRUE(*state_store->freezes().freeze("alice", "why", kNow));
  ASSERT_TRUE(state_store->incidents().count(state::AddressEvent::backscatter, "me@example.jp", kNow, cfg.outbound).ok());
  ASSERT_TRUE(state_store->incidents().count(state::AddressEvent::spoofed_sender, "me@example.jp", kNow, cfg.outbound).ok());

  for (const char* msg : {"released", "released_some", "deleted", "unfrozen", "release_failed", "delete_failed",
                          "not_frozen", "unfreeze_failed", "bad_recipient", "not_removed", "no_recipient"})
    quarantine_get(get("/quarantine/" + id, {{"msg", msg}}, Lang::ja), svc);
  for (const char* st : {"", "quarantined", "released", "timed_out", "awaiting", "broken", "bogus"})
    quarantine_list_page(get("/quarantine", {{"state", st}, {"from", "x"}}, Lang::ja), svc);
  quarantine_list_page(get("/quarantine", {{"sender", "nobody-at-all"}, {"state", "released"}}, Lang::ja), svc);
  quarantine_get(get("/quarantine/20261101-000000-0000beef", {}, Lang::ja), svc);
  quarantine_get(get("/quarantine/20261101-000000-00000000", {}, Lang::ja), svc);
  ppap_page(get("/ppap", {}, Lang::ja), svc);
  incidents_page(get("/incidents", {}, Lang::ja), svc);
  svc.state = nullptr;
  ppap_page(get("/ppap", {}, Lang::ja), svc);
  pages_used_keys = nullptr;

  EXPECT_GT(used.size(), 100u);
  for (const std::string& k : used) {
    EXPECT_NE(tr(Lang::ja, k), k) << "no text for " << k;
    EXPECT_NE(tr(Lang::ja, k), tr(Lang::en, k)) << "no Japanese text for " << k;
  }
  for (const Text& t : page_texts()) {
    EXPECT_FALSE(t.en.empty()) << t.key;
    EXPECT_FALSE(t.ja.empty()) << t.key;
  }
}

}  // namespace
