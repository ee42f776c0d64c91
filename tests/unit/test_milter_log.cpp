// Per-message log line (syslog, Postfix style) and JSON line, and the JSON
// file reopened after log rotation.
#include <gtest/gtest.h>
#include <syslog.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "milter/log.h"

using namespace emogate;

namespace {
MessageLog sample() {
  MessageLog m;
  m.env.queue_id = "4Xk2Lq0abcz";
  m.env.sender = "alice@example.org";
  m.env.recipients = {"bob@example.com", "carol@example.com"};
  m.env.client_addr = "192.0.2.7";
  m.verdict = "suspicious";
  m.action = Action::hold;
  m.findings = {{FindingType::vba_macro, "invoice.docm/word/vbaProject.bin", "AutoOpen", Verdict::suspicious},
                {FindingType::encrypted_archive, "a b,c.zip", "", Verdict::suspicious}};
  m.size = 123456;
  m.scan_ms = 3.25;
  return m;
}
}  // namespace

TEST(MilterLog, PostfixStyleLine) {
  EXPECT_EQ(format_log_line(sample()),
            "4Xk2Lq0abcz: verdict=suspicious action=hold "
            "findings=vba_macro@invoice.docm/word/vbaProject.bin,encrypted_archive@a%20b%2Cc.zip "
            "size=123456 scan_ms=3.2 from=<alice@example.org> nrcpt=2 client=192.0.2.7");
}

TEST(MilterLog, NoQueueIdNoFindingsAndHostileSender) {
  MessageLog m;
  m.verdict = "error";
  m.action = Action::tempfail;
  m.why = "scan deadline passed";
  m.env.sender = "x>\n4Xk: verdict=clean";
  EXPECT_EQ(format_log_line(m),
            "NOQUEUE: verdict=error action=tempfail findings=- size=0 scan_ms=0.0 "
            "from=<x%3E%0A4Xk:%20verdict=clean> nrcpt=0 client=- (scan deadline passed)");
}

TEST(MilterLog, QuarantineAndSasl) {
  MessageLog m = sample();
  m.action = Action::quarantine;
  m.env.auth_user = "alice";
  m.quarantine_id = "20261125-200102-0a1b2c3d";
  std::string l = format_log_line(m);
  EXPECT_NE(l.find(" sasl_username=alice quarantine=20261125-200102-0a1b2c3d"), std::string::npos) << l;
}

TEST(MilterLog, JsonLineParsesAndSurvivesBadUtf8) {
  MessageLog m = sample();
  m.findings[0].path = "bad\xff\xfe.doc";
  std::string j = format_json_line(m, 1764100000.5);
  EXPECT_EQ(j.find('\n'), std::string::npos);
  auto p = nlohmann::json::parse(j);
  EXPECT_EQ(p["queue_id"], "4Xk2Lq0abcz");
  EXPECT_EQ(p["action"], "hold");
  EXPECT_EQ(p["findings"].size(), 2u);
  EXPECT_EQ(p["findings"][1]["type"], "encrypted_archive");
  EXPECT_EQ(p["rcpts"][1], "carol@example.com");
}

// The log line writes a finding as the report's JSON does, structured
// facts included.
TEST(MilterLog, JsonLineCarriesTheFindingsStructuredFacts) {
  MessageLog m = sample();
  Finding spoof{FindingType::spoofed_sender, "From", "display name carries another address", Verdict::suspicious};
  spoof.trick = "display_name_address";
  spoof.sender = "attacker@example.net";
  spoof.claimed = "taro@example.co.jp";
  m.findings.push_back(spoof);
  auto p = nlohmann::json::parse(format_json_line(m, 0));
  const auto& f = p["findings"][2];
  EXPECT_EQ(f["type"], "spoofed_sender");
  EXPECT_EQ(f["trick"], "display_name_address");
  EXPECT_EQ(f["sender"], "attacker@example.net");
  EXPECT_EQ(f["claimed"], "taro@example.co.jp");
  EXPECT_EQ(f, finding_json(spoof));
}

TEST(MilterLog, Facilities) {
  EXPECT_EQ(syslog_facility("mail"), LOG_MAIL);
  EXPECT_EQ(syslog_facility("local3"), LOG_LOCAL3);
  EXPECT_EQ(syslog_facility("kern"), -1);
}

namespace {
std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

// logrotate renames the JSON file and sends SIGHUP: after reopen() the next
// line goes to a new file at the configured path (0600), none to the old.
// A path that cannot be opened keeps the old file in use and says why.
TEST(MilterLog, ReopenFollowsARotatedJsonFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("emogate-logrotate-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  LogSettings s;
  s.json_path = (dir / "emogate.json").string();
  MailLog log;
  log.open(s);
  MessageLog m = sample();
  m.env.queue_id = "QBEFORE";
  log.message(m);
  std::filesystem::rename(dir / "emogate.json", dir / "emogate.json.1");
  EXPECT_EQ(log.reopen(), "");
  m.env.queue_id = "QAFTER";
  log.message(m);
  const std::string old_file = read_all(dir / "emogate.json.1"), new_file = read_all(dir / "emogate.json");
  EXPECT_NE(old_file.find("QBEFORE"), std::string::npos) << old_file;
  EXPECT_EQ(old_file.find("QAFTER"), std::string::npos) << old_file;
  EXPECT_NE(new_file.find("QAFTER"), std::string::npos) << new_file;
  EXPECT_EQ(new_file.find("QBEFORE"), std::string::npos) << new_file;
  EXPECT_EQ(std::filesystem::status(dir / "emogate.json").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // The path now names a directory: the reopen fails, lines go on to the
  // file already open.
  std::filesystem::rename(dir / "emogate.json", dir / "emogate.json.2");
  std::filesystem::create_directory(dir / "emogate.json");
  const std::string err = log.reopen();
  EXPECT_NE(err.find("cannot reopen [log] json_path"), std::string::npos) << err;
  m.env.queue_id = "QKEPT";
  log.message(m);
  EXPECT_NE(read_all(dir / "emogate.json.2").find("QKEPT"), std::string::npos);

  // No JSON file configured: nothing to reopen.
  MailLog plain;
  plain.open(LogSettings{});
  EXPECT_EQ(plain.reopen(), "");
  std::filesystem::remove_all(dir);
}
