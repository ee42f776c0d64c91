// Sender-trick checks (formats/sender): each trick with a message that shows
// it and one that must pass, Japanese display names in RFC 2047 words, raw
// ISO-2022-JP and full-width forms included.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "formats/mime/gmime_message.h"
#include "formats/sender/sender.h"
#include "unit/mail_fixtures.h"

namespace emogate::test {
namespace {

// The sender headers of a message with these header lines.
SenderHeaders headers(const std::string& header_lines) {
  std::string raw = header_lines + "To: partner@example.com\r\nSubject: x\r\n\r\nbody\r\n";
  std::set<std::string> problems;
  ParsedMessage m(raw, problems);
  return read_sender_headers(m.message(), 50);
}

std::string b64_word(const std::string& utf8) {
  std::string b = base64(utf8);
  while (!b.empty() && (b.back() == '\n' || b.back() == '\r')) b.pop_back();
  return "=?UTF-8?B?" + b + "?=";
}

std::string iso2022_word(const std::string& utf8) {
  std::string b = base64(convert(utf8, "ISO-2022-JP"));
  while (!b.empty() && (b.back() == '\n' || b.back() == '\r')) b.pop_back();
  return "=?ISO-2022-JP?B?" + b + "?=";
}

const std::vector<std::string> kLocal = {"example.co.jp"};

TEST(SenderHeaders, ReadsNameAddressAndThreadIds) {
  SenderHeaders h = headers("From: \"Taro\" <Taro@Example.CO.JP>\r\nIn-Reply-To: <a1@example.co.jp>\r\n"
                            "References: <r1@x> <r2@y>\r\n <a1@example.co.jp>\r\n");
  EXPECT_EQ(h.display_name, "Taro");
  EXPECT_EQ(h.address, "taro@example.co.jp");
  EXPECT_EQ(h.in_reply_to, std::vector<std::string>{"a1@example.co.jp"});
  EXPECT_EQ(h.references, (std::vector<std::string>{"r1@x", "r2@y", "a1@example.co.jp"}));
}

TEST(SenderHeaders, DecodesJapaneseDisplayNames) {
  EXPECT_EQ(headers("From: " + iso2022_word("山田 太郎") + " <taro@example.co.jp>\r\n").display_name, "山田 太郎");
  EXPECT_EQ(headers("From: " + b64_word("営業部 佐藤") + " <sato@example.co.jp>\r\n").display_name, "営業部 佐藤");
  // Raw ISO-2022-JP bytes in the header, as some old mailers send.
  EXPECT_EQ(headers("From: " + convert("鈴木一郎", "ISO-2022-JP") + " <suzuki@example.co.jp>\r\n").display_name,
            "鈴木一郎");
}

TEST(SenderHeaders, KeepsTheNewestReferences) {
  std::string refs = "References:";
  for (int i = 0; i < 100; ++i) refs += " <id" + std::to_string(i) + "@x>";
  SenderHeaders h = headers("From: a@b.example\r\n" + refs + "\r\n");
  ASSERT_EQ(h.references.size(), 50u);
  EXPECT_EQ(h.references.back(), "id99@x");
}

TEST(DisplayNameAddress, AnotherAddressInTheNameIsATrick) {
  auto t = display_name_address(headers("From: \"ceo@example.co.jp\" <jdoe123@mail-hosting.example>\r\n"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->trick, "display_name_address");
  EXPECT_EQ(t->header, "From");
  EXPECT_EQ(t->sender, "jdoe123@mail-hosting.example");
  EXPECT_EQ(t->claimed, "ceo@example.co.jp");
  // Japanese name around the address, as Emotet copied it from a stolen thread.
  t = display_name_address(
      headers("From: " + b64_word("山田太郎 <yamada@example.co.jp>") + " <info@shop.example.net>\r\n"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->claimed, "yamada@example.co.jp");
  // Full-width at sign and letters.
  t = display_name_address(headers("From: " + b64_word("ｙａｍａｄａ＠example.co.jp") + " <x@evil.example>\r\n"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->claimed, "yamada@example.co.jp");
}

TEST(DisplayNameAddress, TheSameAddressIsNotATrick) {
  for (const std::string& from : {
           std::string("From: \"taro@example.co.jp\" <taro@example.co.jp>\r\n"),
           std::string("From: \"TARO@Example.Co.Jp\" <taro@example.co.jp>\r\n"),
           std::string("From: \"'taro@example.co.jp'\" <taro@example.co.jp>\r\n"),
           std::string("From: \"Taro Yamada [mailto:taro@example.co.jp]\" <Taro@example.co.jp>\r\n"),
           "From: " + b64_word("山田太郎(taro@example.co.jp)様") + " <taro@example.co.jp>\r\n",
           "From: " + b64_word("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ") + " <taro@example.co.jp>\r\n",
           // IDN: the Unicode domain in the name, its ASCII form in the address.
           "From: " + b64_word("info@例え.jp") + " <info@xn--r8jz45g.jp>\r\n",
           std::string("From: Taro Yamada <taro@example.co.jp>\r\n"),
           std::string("From: taro@example.co.jp\r\n"),
           // Mailing lists that rewrite From (DMARC) keep the poster in the name.
           std::string("From: \"taro@example.co.jp via dev\" <dev@lists.example.org>\r\n"),
           std::string("From: \"'taro@example.co.jp' via Group\" <group@groups.example.com>\r\n"),
       })
    EXPECT_FALSE(display_name_address(headers(from))) << from;
}

TEST(ColleagueName, AColleaguesNameOnAnOutsideAddressIsATrick) {
  NameLookup names = name_list_lookup({"山田 太郎", "Sato Hanako"});
  auto t = colleague_name(headers("From: " + iso2022_word("山田　太郎") + " <yamada.t1985@freemail.example>\r\n"),
                          kLocal, names);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->trick, "colleague_name");
  EXPECT_EQ(t->claimed, "山田　太郎");
  EXPECT_EQ(t->sender, "yamada.t1985@freemail.example");
  EXPECT_TRUE(colleague_name(headers("From: \"SATO  HANAKO\" <boss@evil.example>\r\n"), kLocal, names));
}

TEST(ColleagueName, OurAddressesRelaysAndStrangersPass) {
  NameLookup names = name_list_lookup({"山田 太郎"});
  // The colleague's own address.
  EXPECT_FALSE(colleague_name(headers("From: " + b64_word("山田 太郎") + " <yamada@example.co.jp>\r\n"), kLocal,
                              names));
  // A subdomain of ours.
  EXPECT_FALSE(colleague_name(headers("From: " + b64_word("山田 太郎") + " <yamada@tokyo.example.co.jp>\r\n"),
                              kLocal, names));
  // "Name (via Service)": a document share sent by a service on their behalf.
  EXPECT_FALSE(colleague_name(
      headers("From: " + b64_word("山田 太郎 (via Google Docs)") + " <drive-shares-noreply@google.example>\r\n"),
      kLocal, names));
  // Someone else.
  EXPECT_FALSE(colleague_name(headers("From: " + b64_word("田中 次郎") + " <tanaka@partner.example>\r\n"), kLocal,
                              names));
  // No list, no check.
  EXPECT_FALSE(colleague_name(headers("From: x <y@z.example>\r\n"), kLocal, NameLookup{}));
}

TEST(OwnDomain, OurDomainFromOutsideUnauthenticatedIsATrick) {
  auto t = own_domain_from_outside(headers("From: \"Boss\" <boss@Example.co.jp>\r\n"), kLocal, Arrival{});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->trick, "own_domain_unauthenticated");
  EXPECT_EQ(t->claimed, "example.co.jp");
  EXPECT_TRUE(own_domain_from_outside(headers("From: a@osaka.example.co.jp\r\n"), kLocal, Arrival{}));
}

TEST(OwnDomain, AuthenticatedTrustedOrForeignPasses) {
  EXPECT_FALSE(own_domain_from_outside(headers("From: boss@example.co.jp\r\n"), kLocal, Arrival{true, false}));
  EXPECT_FALSE(own_domain_from_outside(headers("From: boss@example.co.jp\r\n"), kLocal, Arrival{false, true}));
  EXPECT_FALSE(own_domain_from_outside(headers("From: boss@partner.example\r\n"), kLocal, Arrival{}));
  // A look-alike domain is not ours (and not this check's business).
  EXPECT_FALSE(own_domain_from_outside(headers("From: boss@badexample.co.jp\r\n"), kLocal, Arrival{}));
}

// Our outbound log: one message sent to a partner.
SentLookup outbound_log(std::map<std::string, SentMessage>& log, std::vector<std::string>& asked) {
  log["sent-1@example.co.jp"] = SentMessage{"yamada", {"Partner@Customer.example"}, 1700000000};
  return [&](std::string_view id) -> std::optional<SentMessage> {
    asked.emplace_back(id);
    auto it = log.find(std::string(id));
    if (it == log.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ThreadHijack, AReplyFromAThirdAddressWithAnAttachmentIsATrick) {
  std::map<std::string, SentMessage> log;
  std::vector<std::string> asked;
  SentLookup sent = outbound_log(log, asked);
  ThreadCheck check{kLocal, true};
  auto t = thread_hijack(headers("From: \"partner@customer.example\" <x9@hacked-shop.example>\r\n"
                                 "In-Reply-To: <sent-1@example.co.jp>\r\n"),
                         sent, check);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->trick, "thread_hijack");
  EXPECT_EQ(t->header, "In-Reply-To");
  EXPECT_EQ(t->claimed, "sent-1@example.co.jp");
  EXPECT_EQ(t->sender, "x9@hacked-shop.example");
  // Only References names our message (the newest is asked first).
  asked.clear();
  t = thread_hijack(headers("From: x9@hacked-shop.example\r\nReferences: <old@x> <sent-1@example.co.jp> <new@y>\r\n"),
                    sent, check);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->header, "References");
  EXPECT_EQ(asked, (std::vector<std::string>{"new@y", "sent-1@example.co.jp"}));
}

TEST(ThreadHijack, TheRecipientsReplyAndHarmlessRepliesPass) {
  std::map<std::string, SentMessage> log;
  std::vector<std::string> asked;
  SentLookup sent = outbound_log(log, asked);
  const std::string reply = "In-Reply-To: <sent-1@example.co.jp>\r\n";
  // The original recipient answers (case differs): nothing.
  EXPECT_FALSE(thread_hijack(headers("From: partner@customer.example\r\n" + reply), sent, {kLocal, true}));
  // A third address without attachment or link: nothing.
  EXPECT_FALSE(thread_hijack(headers("From: x9@hacked-shop.example\r\n" + reply), sent, {kLocal, false}));
  // A colleague of ours in the thread: nothing.
  EXPECT_FALSE(thread_hijack(headers("From: sato@example.co.jp\r\n" + reply), sent, {kLocal, true}));
  // A message we never sent: nothing.
  EXPECT_FALSE(thread_hijack(headers("From: x9@hacked-shop.example\r\nIn-Reply-To: <other@x>\r\n"), sent,
                             {kLocal, true}));
  // The partner's colleague, when the site accepts the recipient's domain.
  ThreadCheck lenient{kLocal, true, true};
  EXPECT_FALSE(thread_hijack(headers("From: boss@customer.example\r\n" + reply), sent, lenient));
  EXPECT_TRUE(thread_hijack(headers("From: boss@customer.example\r\n" + reply), sent, {kLocal, true}));
}

TEST(ThreadHijack, LookupsAreBounded) {
  std::map<std::string, SentMessage> log;
  std::vector<std::string> asked;
  SentLookup sent = outbound_log(log, asked);
  std::string refs = "References:";
  for (int i = 0; i < 40; ++i) refs += " <id" + std::to_string(i) + "@x>";
  ThreadCheck check{kLocal, true};
  check.max_lookups = 7;
  EXPECT_FALSE(thread_hijack(headers("From: x@y.example\r\n" + refs + "\r\n"), sent, check));
  EXPECT_EQ(asked.size(), 7u);
}

}  // namespace
}  // namespace emogate::test
