// The sender module through the scanner: spoofed_sender with its structured
// facts when ScanOptions::sender_checks asks, nothing when it does not; the
// thread-hijack condition read from a report; and the measurement on the
// real mail of ../shared/corpus (skipped when absent): no ordinary message
// there raises spoofed_sender.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "emogate/scanner.h"
#include "engine/sender_findings.h"
#include "unit/corpus_fixtures.h"
#include "unit/findings.h"
#include "unit/mail_fixtures.h"

namespace emogate::test {
namespace {

Report scan(const std::string& msg, const ScanOptions& opts) {
  Config cfg;
  cfg.rules.paths.clear();
  Scanner s(cfg);
  return s.scan_message(msg, {}, opts);
}

ScanOptions checks_on() {
  ScanOptions o;
  o.sender_checks = true;
  o.local_domains = {"example.co.jp"};
  o.local_names = {"山田 太郎"};
  return o;
}

const std::string kSpoofed =
    "From: \"ceo@example.co.jp\" <jdoe123@mail-hosting.example>\r\nTo: a@example.co.jp\r\nSubject: invoice\r\n\r\nhi\r\n";

TEST(SenderModule, DisplayNameAddressIsASpoofedSenderFinding) {
  Report r = scan(kSpoofed, checks_on());
  const Finding* f = find_finding(r, FindingType::spoofed_sender, {.path = "From"});
  ASSERT_NE(f, nullptr) << dump(r);
  EXPECT_EQ(f->verdict, Verdict::suspicious);
  EXPECT_EQ(f->trick, "display_name_address");
  EXPECT_EQ(f->sender, "jdoe123@mail-hosting.example");
  EXPECT_EQ(f->claimed, "ceo@example.co.jp");
  EXPECT_NE(dump(r).find("\"trick\":\"display_name_address\""), std::string::npos);
}

TEST(SenderModule, ColleagueNameOnAnOutsideAddress) {
  std::string name = base64("山田 太郎");
  while (name.back() == '\n' || name.back() == '\r') name.pop_back();
  Report r = scan("From: =?UTF-8?B?" + name + "?= <yamada.t@freemail.example>\r\nTo: a@example.co.jp\r\n"
                  "Subject: x\r\n\r\nhi\r\n",
                  checks_on());
  const Finding* f = find_finding(r, FindingType::spoofed_sender);
  ASSERT_NE(f, nullptr) << dump(r);
  EXPECT_EQ(f->trick, "colleague_name");
  // The same name on our own address is the colleague.
  r = scan("From: =?UTF-8?B?" + name + "?= <yamada@example.co.jp>\r\nTo: a@example.co.jp\r\nSubject: x\r\n\r\nhi\r\n",
           checks_on());
  EXPECT_FALSE(has_finding(r, FindingType::spoofed_sender)) << dump(r);
}

TEST(SenderModule, OffByDefaultAndOnlyOnTheMessageItself) {
  EXPECT_FALSE(has_finding(scan(kSpoofed, {}), FindingType::spoofed_sender));
  // A forwarded message with the trick inside is not this mail's sender.
  std::string fwd = "From: a@example.co.jp\r\nTo: b@example.co.jp\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
                    "--b\r\nContent-Type: message/rfc822\r\n\r\n" + kSpoofed + "--b--\r\n";
  Report r = scan(fwd, checks_on());
  EXPECT_FALSE(has_finding(r, FindingType::spoofed_sender)) << dump(r);
}

TEST(SenderModule, AttachmentOrLinkFromTheReport) {
  ScanOptions o;
  Report plain = scan("From: a@x.example\r\nSubject: s\r\n\r\nplain words\r\n", o);
  EXPECT_FALSE(carries_attachment_or_link(plain)) << dump(plain);
  Report link = scan("From: a@x.example\r\nSubject: s\r\n\r\nsee https://files.example.net/invoice\r\n", o);
  EXPECT_TRUE(carries_attachment_or_link(link)) << dump(link);
  Report zip = scan(make_mail("s", {{"text/plain", "hello", ""}, {"application/zip", "PK\x05\x06" + std::string(18, '\0'), "a.zip"}}), o);
  EXPECT_TRUE(carries_attachment_or_link(zip)) << dump(zip);
}

// Every message of the corpus (ordinary mail: mailing lists, Japanese names,
// bounces, forwarded messages) scanned with the checks on.
TEST(SenderModule, CorpusMailRaisesNoSpoofedSender) {
  const std::filesystem::path corpus = libzip_corpus_dir().parent_path();
  Config cfg;
  cfg.rules.paths.clear();
  Scanner s(cfg);
  ScanOptions o = checks_on();
  int messages = 0;
  for (const ManifestRow& row : manifest_rows(corpus)) {
    if (row.cols.size() < 5 || row.cols[4] != "eml") continue;
    std::ifstream in(row.file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    Report r = s.scan_message(ss.str(), {}, o);
    ++messages;
    EXPECT_FALSE(has_finding(r, FindingType::spoofed_sender)) << row.rel << ": " << dump(r);
  }
  if (messages == 0) GTEST_SKIP() << "../shared/corpus is absent: no real mail to measure on";
  RecordProperty("messages", messages);
}

}  // namespace
}  // namespace emogate::test
