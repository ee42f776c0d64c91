// The checks `emogate update-intel` applies to a downloaded list before it
// may replace the current one (the daemon's own parser counts the entries),
// and the [intel]/[rules] settings they read.
#include <gtest/gtest.h>

#include <string>

#include "cli/update_intel.h"

using namespace emogate;

namespace {

std::string urlhaus_rows(int n) {
  std::string s = "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\r\n";
  for (int i = 1; i <= n; ++i)
    s += "\"" + std::to_string(i) + "\",\"2026-12-01 10:00:00\",\"http://203.0.113." + std::to_string(i) +
         "/x.exe\",\"online\",\"\",\"malware_download\",\"emotet\",\"https://urlhaus.abuse.ch/url/" +
         std::to_string(i) + "/\",\"r\"\r\n";
  return s;
}

std::string feodo_rows(int n) {
  std::string s = "\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n";
  for (int i = 1; i <= n; ++i)
    s += "\"2026-11-30 08:00:00\",\"198.51.100." + std::to_string(i) + "\",\"443\",\"online\",\"\",\"Emotet\"\n";
  return s;
}

IntelSettings settings(std::uint64_t min_entries, double min_ratio) {
  IntelSettings s;
  s.min_entries = min_entries;
  s.min_ratio = min_ratio;
  return s;
}

}  // namespace

TEST(UpdateIntel, CountsWithTheDaemonsParser) {
  ListCount c = count_list(IntelList::urlhaus, urlhaus_rows(7) + "not a url at all\r\n");
  EXPECT_EQ(c.entries, 7u);
  EXPECT_EQ(c.bad, 1u);
  ListCount f = count_list(IntelList::feodo, feodo_rows(4) + "999.1.2.3\n");
  EXPECT_EQ(f.entries, 4u);
  EXPECT_EQ(f.bad, 1u);
}

TEST(UpdateIntel, AcceptsAGrowingOrSlightlySmallerList) {
  std::string cur = urlhaus_rows(100);
  EXPECT_TRUE(check_list(IntelList::urlhaus, urlhaus_rows(120), cur, settings(10, 0.5)).ok());
  EXPECT_TRUE(check_list(IntelList::urlhaus, urlhaus_rows(50), cur, settings(10, 0.5)).ok());
  // No current list: only min_entries applies.
  EXPECT_TRUE(check_list(IntelList::feodo, feodo_rows(3), std::nullopt, settings(3, 0.5)).ok());
}

TEST(UpdateIntel, RefusesATruncatedList) {
  std::string cur = urlhaus_rows(100);
  std::string cut = urlhaus_rows(100).substr(0, urlhaus_rows(100).size() / 3);
  ListCheck r = check_list(IntelList::urlhaus, cut, cur, settings(10, 0.5));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.why.find("min_ratio"), std::string::npos) << r.why;
  ASSERT_TRUE(r.current);
  EXPECT_EQ(r.current->entries, 100u);
  EXPECT_LT(r.fresh.entries, 50u);
}

TEST(UpdateIntel, RefusesGarbageAndEmptyLists) {
  const std::string html = "<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>\n";
  ListCheck r = check_list(IntelList::urlhaus, html, std::nullopt, settings(1, 0.5));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.why.find("min_entries"), std::string::npos) << r.why;
  EXPECT_EQ(r.fresh.entries, 0u);
  EXPECT_GT(r.fresh.bad, 0u);
  EXPECT_FALSE(check_list(IntelList::feodo, "", std::nullopt, settings(1, 0.5)).ok());
  EXPECT_FALSE(check_list(IntelList::feodo, html, feodo_rows(2), settings(1, 0.5)).ok());
}

TEST(UpdateIntel, SettingsParseAndAreBounded) {
  Config c = parse_config(R"(
[rules]
update_command = "git -C /etc/emogate/rules.d pull --ff-only"
update_timeout_s = 60
[intel]
urlhaus_url = "http://127.0.0.1:8080/u.csv"
feodo_url = ""
min_entries = 100
min_ratio = 0.8
max_download_size = "8M"
download_timeout_s = 30
)", "x.toml");
  EXPECT_EQ(c.rules.update_command, "git -C /etc/emogate/rules.d pull --ff-only");
  EXPECT_EQ(c.rules.update_timeout_s, 60u);
  EXPECT_EQ(c.intel.urlhaus_url, "http://127.0.0.1:8080/u.csv");
  EXPECT_EQ(c.intel.feodo_url, "");
  EXPECT_EQ(c.intel.min_entries, 100u);
  EXPECT_DOUBLE_EQ(c.intel.min_ratio, 0.8);
  EXPECT_EQ(c.intel.max_download_size, 8u << 20);
  EXPECT_EQ(c.intel.download_timeout_s, 30u);
  EXPECT_THROW(parse_config("[intel]\nmin_ratio = 1.5\n", "x.toml"), ConfigError);
  EXPECT_THROW(parse_config("[intel]\nmax_download_size = 10\n", "x.toml"), ConfigError);
  EXPECT_THROW(parse_config("[rules]\nupdate_timeout_s = 0\n", "x.toml"), ConfigError);
}
