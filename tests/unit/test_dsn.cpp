// Delivery reports (formats/dsn): RFC 3464 reports in the shapes Postfix,
// Sendmail, Exchange and Gmail send, non-RFC 3464 bounces (qmail, Exim),
// mail that is no bounce, limits, and the real bounces of ../shared/corpus
// (skipped when it is absent).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/dsn/dsn.h"
#include "unit/corpus_fixtures.h"
#include "unit/mail_fixtures.h"

namespace emogate::test {
namespace {

const std::vector<std::string> kLocal = {"example.co.jp"};

DeliveryReport parse(const std::string& raw, bool null_sender = true, DsnLimits lim = {}) {
  return parse_delivery_report(raw, lim, null_sender);
}

// What a report must say: its kind, the one original Message-ID, how many
// recipients, one recipient's fields (those not empty here), and the local
// sender it names.
struct Expected {
  BounceKind kind;
  std::string message_id;
  std::size_t recipients;
  std::size_t index = 0;  // the recipient checked
  std::string final_recipient = {}, action = {}, status = {};
  std::string local_sender = {};
};

void expect_report(const DeliveryReport& r, const Expected& e) {
  EXPECT_EQ(r.kind, e.kind);
  EXPECT_EQ(r.message_ids, std::vector<std::string>{e.message_id});
  ASSERT_EQ(r.recipients.size(), e.recipients);
  const auto& rcpt = r.recipients[e.index];
  if (!e.final_recipient.empty()) {
    EXPECT_EQ(rcpt.final_recipient, e.final_recipient);
  }
  if (!e.action.empty()) {
    EXPECT_EQ(rcpt.action, e.action);
  }
  if (!e.status.empty()) {
    EXPECT_EQ(rcpt.status, e.status);
  }
  EXPECT_EQ(local_sender(r, kLocal), e.local_sender);
}

// The original message, as our user sent it (or as a spammer forged it).
const std::string kOriginalHeaders =
    "Return-Path: <yamada@example.co.jp>\r\n"
    "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.co.jp>\r\n"
    "To: partner@customer.example\r\n"
    "Subject: quote\r\n"
    "Message-ID: <20260101.1234@mail.example.co.jp>\r\n"
    "Date: Thu, 01 Jan 2026 10:00:00 +0900\r\n";

// Postfix: text/plain notice, message/delivery-status, message/rfc822.
std::string postfix_dsn() {
  return "From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)\r\n"
         "Subject: Undelivered Mail Returned to Sender\r\n"
         "To: yamada@example.co.jp\r\n"
         "Auto-Submitted: auto-replied\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=delivery-status;\r\n"
         "\tboundary=\"3F2A1C0.1700000000/mx.customer.example\"\r\n"
         "Message-Id: <20260101010000.3F2A1C0@mx.customer.example>\r\n"
         "\r\n"
         "This is a MIME-encapsulated message.\r\n\r\n"
         "--3F2A1C0.1700000000/mx.customer.example\r\n"
         "Content-Description: Notification\r\n"
         "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
         "This is the mail system at host mx.customer.example.\r\n\r\n"
         "<partner@customer.example>: host mail.customer.example said: 550 5.1.1 User unknown\r\n\r\n"
         "--3F2A1C0.1700000000/mx.customer.example\r\n"
         "Content-Description: Delivery report\r\n"
         "Content-Type: message/delivery-status\r\n\r\n"
         "Reporting-MTA: dns; mx.customer.example\r\n"
         "X-Postfix-Queue-ID: 3F2A1C0\r\n"
         "Arrival-Date: Thu,  1 Jan 2026 10:00:01 +0900 (JST)\r\n\r\n"
         "Final-Recipient: rfc822; Partner@Customer.example\r\n"
         "Original-Recipient: rfc822;partner@customer.example\r\n"
         "Action: failed\r\n"
         "Status: 5.1.1\r\n"
         "Remote-MTA: dns; mail.customer.example\r\n"
         "Diagnostic-Code: smtp; 550 5.1.1 <partner@customer.example>: Recipient\r\n"
         "    address rejected: User unknown\r\n\r\n"
         "--3F2A1C0.1700000000/mx.customer.example\r\n"
         "Content-Description: Undelivered Message\r\n"
         "Content-Type: message/rfc822\r\n\r\n" +
         kOriginalHeaders + "\r\nHello\r\n\r\n--3F2A1C0.1700000000/mx.customer.example--\r\n";
}

TEST(Dsn, PostfixReport) {
  DeliveryReport r = parse(postfix_dsn());
  expect_report(r, {.kind = BounceKind::dsn, .message_id = "20260101.1234@mail.example.co.jp", .recipients = 1,
                    .final_recipient = "partner@customer.example", .action = "failed", .status = "5.1.1",
                    .local_sender = "yamada@example.co.jp"});
  EXPECT_EQ(r.reporting_mta, "mx.customer.example");
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].original_recipient, "partner@customer.example");
  EXPECT_NE(r.recipients[0].diagnostic.find("User unknown"), std::string::npos);
  EXPECT_EQ(r.senders.front(), "yamada@example.co.jp");
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
}

// Sendmail: the original's headers only, as text/rfc822-headers; two recipients.
TEST(Dsn, SendmailReportWithHeadersOnly) {
  std::string raw =
      "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.partner.example>\r\n"
      "To: <sato@example.co.jp>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=\"Delivery-Status\";\r\n\tboundary=\"x1\"\r\n"
      "Subject: Returned mail: see transcript for details\r\n\r\n"
      "--x1\r\nContent-Type: text/plain\r\n\r\n   ----- The following addresses had permanent fatal errors -----\r\n\r\n"
      "--x1\r\nContent-Type: message/delivery-status\r\n\r\n"
      "Reporting-MTA: dns; relay.partner.example\r\nArrival-Date: Thu, 1 Jan 2026 10:00:00 +0900\r\n\r\n"
      "Final-Recipient: RFC822; a@partner.example\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n"
      "Final-Recipient: RFC822; b@partner.example\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n"
      "--x1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
      "Return-Path: <sato@example.co.jp>\r\nFrom: Sato <sato@example.co.jp>\r\n"
      "Message-ID:\r\n <abc.def@example.co.jp>\r\nSubject: hi\r\n\r\n--x1--\r\n";
  expect_report(parse(raw), {.kind = BounceKind::dsn, .message_id = "abc.def@example.co.jp", .recipients = 2,
                             .index = 1, .final_recipient = "b@partner.example", .action = "delayed",
                             .local_sender = "sato@example.co.jp"});
}

// Exchange / Gmail style: base64 delivery-status, the original attached,
// and a backscatter case: the original's From is ours, its Message-ID not.
TEST(Dsn, ExchangeStyleBase64Parts) {
  std::string status = "Reporting-MTA: dns;EX01.customer.example\r\n\r\n"
                       "Final-Recipient: rfc822;nobody@customer.example\r\nAction: failed\r\n"
                       "Status: 5.1.10\r\nDiagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound\r\n";
  std::string raw =
      "From: postmaster@customer.example\r\nTo: <ceo@example.co.jp>\r\n"
      "Subject: =?utf-8?B?5YSq5bCG5LiN6IO9OiDoq4vmsYLmm7g=?=\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"_b_\"\r\n"
      "MIME-Version: 1.0\r\n\r\n"
      "--_b_\r\nContent-Type: multipart/alternative; boundary=\"_a_\"\r\n\r\n"
      "--_a_\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDelivery has failed.\r\n--_a_--\r\n\r\n"
      "--_b_\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      base64(status) +
      "\r\n--_b_\r\nContent-Type: message/rfc822\r\n\r\n"
      "From: CEO <ceo@example.co.jp>\r\nTo: nobody@customer.example\r\nMessage-ID: <forged-1@spam.example>\r\n"
      "Subject: invoice\r\n\r\nx\r\n--_b_--\r\n";
  expect_report(parse(raw, false), {.kind = BounceKind::dsn, .message_id = "forged-1@spam.example", .recipients = 1,
                                    .status = "5.1.10", .local_sender = "ceo@example.co.jp"});
}

// qmail: no MIME report, the original quoted after a marker line.
TEST(Dsn, QmailBounceWithQuotedOriginal) {
  std::string raw =
      "From: MAILER-DAEMON@mail.partner.example\r\nTo: yamada@example.co.jp\r\n"
      "Subject: failure notice\r\n\r\n"
      "Hi. This is the qmail-send program at mail.partner.example.\r\n"
      "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
      "<gone@partner.example>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
      "--- Below this line is a copy of the message.\r\n\r\n"
      "Return-Path: <yamada@example.co.jp>\r\nReceived: (qmail 1 invoked by uid 0);\r\n"
      "  1 Jan 2026 01:00:00 -0000\r\nMessage-ID: <q-77@example.co.jp>\r\n"
      "From: yamada@example.co.jp\r\nSubject: hello\r\n\r\nbody\r\n";
  expect_report(parse(raw), {.kind = BounceKind::bounce, .message_id = "q-77@example.co.jp", .recipients = 1,
                             .final_recipient = "gone@partner.example", .local_sender = "yamada@example.co.jp"});
}

// Exim: X-Failed-Recipients, and a ">"-quoted header block with an indented Message-ID.
TEST(Dsn, EximBounceWithFailedRecipientsHeader) {
  std::string raw =
      "From: Mail Delivery System <Mailer-Daemon@mx.partner.example>\r\nTo: kato@example.co.jp\r\n"
      "X-Failed-Recipients: x@partner.example, y@partner.example\r\n"
      "Subject: Mail delivery failed: returning message to sender\r\n\r\n"
      "This message was created automatically by mail delivery software.\r\n\r\n"
      "------ This is a copy of the message's headers. ------\r\n\r\n"
      "> From: kato@example.co.jp\r\n> To: x@partner.example\r\n>    Message-Id: <E1abc-0001@example.co.jp>\r\n"
      "> Subject: report\r\n\r\n";
  expect_report(parse(raw, false), {.kind = BounceKind::bounce, .message_id = "E1abc-0001@example.co.jp",
                                    .recipients = 2, .index = 1, .final_recipient = "y@partner.example",
                                    .local_sender = "kato@example.co.jp"});
}

TEST(Dsn, OrdinaryMailAutoRepliesAndReceiptsAreNoBounce) {
  // A reply that quotes headers is not a bounce.
  DeliveryReport r = parse("From: partner@customer.example\r\nTo: yamada@example.co.jp\r\nSubject: Re: quote\r\n\r\n"
                           "> Message-ID: <20260101.1234@mail.example.co.jp>\r\n",
                           false);
  EXPECT_EQ(r.kind, BounceKind::none);
  EXPECT_TRUE(r.message_ids.empty());
  // A vacation auto-reply comes from the null sender but says nothing of delivery.
  r = parse("From: partner@customer.example\r\nTo: yamada@example.co.jp\r\nAuto-Submitted: auto-replied\r\n"
            "Subject: =?UTF-8?B?5LiN5Zyo44Gu44GK55+l44KJ44Gb?=\r\n\r\nI am out of office.\r\n");
  EXPECT_EQ(r.kind, BounceKind::none);
  // A read receipt is a report, but not a delivery report.
  r = parse("From: partner@customer.example\r\nTo: yamada@example.co.jp\r\nSubject: Read: quote\r\n"
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=m\r\n\r\n"
            "--m\r\nContent-Type: text/plain\r\n\r\nread\r\n--m\r\nContent-Type: message/disposition-notification\r\n\r\n"
            "Final-Recipient: rfc822; partner@customer.example\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
            "--m--\r\n");
  EXPECT_EQ(r.kind, BounceKind::none);
  EXPECT_TRUE(r.recipients.empty());
}

TEST(Dsn, ABounceWithoutTheOriginalSaysSo) {
  DeliveryReport r = parse("From: MAILER-DAEMON@mx.example\r\nTo: a@example.co.jp\r\nSubject: Undeliverable\r\n\r\n"
                           "Your message could not be delivered.\r\n");
  EXPECT_EQ(r.kind, BounceKind::bounce);
  EXPECT_TRUE(r.message_ids.empty());
  EXPECT_NE(std::find(r.problems.begin(), r.problems.end(), "no original Message-ID in the bounce"), r.problems.end());
  EXPECT_EQ(local_sender(r, kLocal), "a@example.co.jp");  // the bounce's To
  EXPECT_EQ(local_sender(r, {"other.example"}), std::nullopt);
}

TEST(Dsn, RecipientsAndIdsAreBounded) {
  std::string status = "Reporting-MTA: dns; mx\r\n\r\n";
  for (int i = 0; i < 50; ++i)
    status += "Final-Recipient: rfc822; u" + std::to_string(i) + "@p.example\r\nAction: failed\r\n\r\n";
  std::string raw = "From: MAILER-DAEMON@mx.example\r\nTo: a@example.co.jp\r\n"
                    "Content-Type: multipart/report; report-type=delivery-status; boundary=z\r\n\r\n"
                    "--z\r\nContent-Type: message/delivery-status\r\n\r\n" + status + "--z--\r\n";
  DsnLimits lim;
  lim.max_recipients = 10;
  DeliveryReport r = parse(raw, true, lim);
  EXPECT_EQ(r.recipients.size(), 10u);
  EXPECT_NE(std::find(r.problems.begin(), r.problems.end(), "more than 10 recipients"), r.problems.end());
  // A part past max_text is read in part, and said so.
  lim = {};
  lim.max_text = 64;
  r = parse(postfix_dsn(), true, lim);
  bool said = false;
  for (const auto& p : r.problems) said |= p.find("larger than max_text") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(Dsn, GarbageNeverThrows) {
  for (const std::string& raw : {std::string(), std::string("\r\n\r\n"), std::string("Content-Type: multipart/report\r\n"),
                                  std::string(5000, '>'), std::string("From: <>\r\n\r\n<>:\r\n<@>:\r\n")}) {
    DeliveryReport r = parse(raw);
    EXPECT_TRUE(r.message_ids.empty());
  }
}

// The real bounces of ../shared/corpus: MimeKit's Postfix report (whose
// per-recipient block a gateway re-encoded in base64) and ruby-mail's two
// Sendmail warnings.
TEST(Dsn, CorpusBounces) {
  const std::filesystem::path corpus = libzip_corpus_dir().parent_path();
  struct Case {
    const char* rel;
    const char* id;
    const char* rcpt;
    const char* action;
    const char* sender;
  } cases[] = {
      {"mimekit/messages/bounce.txt", "44565655.JitbitHelpdesk.13439.691a0afc-a0a0-457c-8208-f20b7c4a4cb1@jitbit.com",
       "netec.test@netecgc.com", "failed", "helpdesk@netecgc.com"},
      {"ruby-mail/multipart_report_emails/report_422.eml",
       "15655788.13.1200472642578.JavaMail.Administrator@mail.ttttt.com.au", "fraser@oooooooo.com.au", "delayed",
       "jennifer@sss.sssssss.net.au"},
      {"ruby-mail/mime_emails/raw_email_with_mimepart_without_content_type.eml", nullptr,
       "larose.julie@courrier.uqam.ca", "delayed", "roor32@gmail.com"},
  };
  int seen = 0;
  for (const Case& c : cases) {
    std::ifstream in(corpus / c.rel, std::ios::binary);
    if (!in) continue;
    ++seen;
    std::stringstream ss;
    ss << in.rdbuf();
    DeliveryReport r = parse(ss.str(), true);
    EXPECT_EQ(r.kind, BounceKind::dsn) << c.rel;
    ASSERT_FALSE(r.recipients.empty()) << c.rel;
    EXPECT_EQ(r.recipients[0].action, c.action) << c.rel;
    if (c.rcpt) {
      EXPECT_EQ(r.recipients[0].final_recipient, c.rcpt) << c.rel;
    }
    if (c.id) {
      EXPECT_NE(std::find(r.message_ids.begin(), r.message_ids.end(), c.id), r.message_ids.end()) << c.rel;
    } else {
      EXPECT_FALSE(r.message_ids.empty()) << c.rel;
    }
    if (c.sender) {
      EXPECT_EQ(r.senders.front(), c.sender) << c.rel;
    }
  }
  if (seen == 0) GTEST_SKIP() << "../shared/corpus is absent: no real bounces to read";
}

}  // namespace
}  // namespace emogate::test
