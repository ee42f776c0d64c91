// config/postfix.h and config/sendmail.h: Postfix's main.cf and master.cf
// as postconf reads them, Sendmail's mail filters, and the warnings
// `emogate check` gives for an MTA that sends no mail to emogate or lets it
// pass unscanned. Each warning has a file that gives it and one that does
// not.
#include <gtest/gtest.h>

#include "config/postfix.h"
#include "config/sendmail.h"

namespace emogate::test {
namespace {

using postfix::check_texts;
using mta::Report;

// Debian 12's master.cf lines for the SMTP server and cleanup.
constexpr std::string_view kDebianMaster =
    "# comment\n"
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
    "cleanup   unix  n       -       y       -       0       cleanup\n";

constexpr std::string_view kChrootSocket = "unix:/var/spool/postfix/emogate/emogate.sock";
constexpr std::uint64_t kWorstMs = 90500;
constexpr std::uint64_t kMaxSize = 64ull << 20;

Report run(std::string_view main_cf, std::string_view master_cf = kDebianMaster,
           std::string_view socket = kChrootSocket) {
  return check_texts(main_cf, master_cf, "/etc/postfix", mta::Milter{std::string(socket), kWorstMs, kMaxSize});
}

std::string texts(const Report& r) {
  std::string out;
  for (const auto& w : r.warnings) out += w.file + ":" + std::to_string(w.line) + ": " + w.text + "\n";
  return out;
}

TEST(PostfixConfig, MainCfLogicalLinesCommentsAndLastDefinition) {
  const auto m = postfix::parse_main_cf(
      "# smtpd_milters = commented\n"
      "smtpd_milters = unix:/a,\n"
      "   unix:/b\n"
      "  # an indented comment does not continue the line\n"
      "\n"
      "milter_default_action=accept\r\n"
      "milter_default_action = tempfail\n"
      "not an assignment\n");
  ASSERT_EQ(m.count("smtpd_milters"), 1u);
  EXPECT_EQ(m.at("smtpd_milters").value, "unix:/a, unix:/b");
  EXPECT_EQ(m.at("smtpd_milters").line, 2u);
  EXPECT_EQ(m.at("milter_default_action").value, "tempfail");
  EXPECT_EQ(m.at("milter_default_action").line, 7u);
  EXPECT_EQ(m.size(), 2u);
}

TEST(PostfixConfig, MasterCfServicesAndOverrides) {
  const auto s = postfix::parse_master_cf(
      "smtp      inet  n       -       y       -       1       postscreen\n"
      "smtpd     pass  -       -       y       -       -       smtpd\n"
      "submission inet n       -       -       -       -       smtpd\n"
      "  -o syslog_name=postfix/submission\n"
      "  -o { smtpd_milters = unix:/x, unix:/y }\n"
      "  -osmtpd_sasl_auth_enable=yes\n"
      "short line\n");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1].name, "smtpd");
  EXPECT_EQ(s[1].type, "pass");
  EXPECT_EQ(s[1].command, "smtpd");
  EXPECT_EQ(s[1].chroot, 'y');
  EXPECT_EQ(s[2].chroot, '-');
  EXPECT_EQ(s[2].line, 3u);
  EXPECT_EQ(s[2].overrides.at("smtpd_milters"), "unix:/x, unix:/y");
  EXPECT_EQ(s[2].overrides.at("syslog_name"), "postfix/submission");
  EXPECT_EQ(s[2].overrides.at("smtpd_sasl_auth_enable"), "yes");
}

TEST(PostfixConfig, ExpansionForms) {
  postfix::MainCf p = postfix::parse_main_cf(
      "a = one\n"
      "b = $a-${a}-$(a)\n"
      "loop = x$loop\n"
      "e =\n");
  EXPECT_EQ(postfix::expand("$b", p), "one-one-one");
  EXPECT_EQ(postfix::expand("${a?set}${e?set}|${a:unset}${e:unset}", p), "set|unset");
  EXPECT_EQ(postfix::expand("$queue_directory/$unknown", p), "/var/spool/postfix/");
  EXPECT_EQ(postfix::expand("$$ and $", p), "$ and $");
  // Self-reference stops at the depth bound.
  EXPECT_EQ(postfix::expand("$loop", p), std::string(postfix::kMaxExpansionDepth, 'x'));
}

TEST(PostfixConfig, ExpansionWorkIsBounded) {
  // Each level names the next 50 times: without a budget, 50^10 lookups.
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += "v" + std::to_string(i) + " =";
    for (int k = 0; k < 50; ++k) text += " $v" + std::to_string(i + 1);
    text += '\n';
  }
  const auto p = postfix::parse_main_cf(text);
  EXPECT_LE(postfix::expand("$v0", p).size(), postfix::kMaxValueBytes);
}

TEST(PostfixConfig, MilterListsAndTheirOwnSettings) {
  const auto l = postfix::parse_milter_list(
      "unix:/a, inet:127.0.0.1:7357 { inet:[::1]:8891, default_action = accept, content_timeout=10s },,");
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].address, "unix:/a");
  EXPECT_EQ(l[1].address, "inet:127.0.0.1:7357");
  EXPECT_EQ(l[2].address, "inet:[::1]:8891");
  EXPECT_EQ(l[2].settings.at("default_action"), "accept");
  EXPECT_EQ(l[2].settings.at("content_timeout"), "10s");
}

TEST(PostfixConfig, TimeValues) {
  EXPECT_EQ(postfix::parse_seconds("300s"), 300u);
  EXPECT_EQ(postfix::parse_seconds("5m"), 300u);
  EXPECT_EQ(postfix::parse_seconds("90"), 90u);
  EXPECT_EQ(postfix::parse_seconds("1h"), 3600u);
  EXPECT_FALSE(postfix::parse_seconds("soon"));
  EXPECT_FALSE(postfix::parse_seconds("5x"));
  EXPECT_FALSE(postfix::parse_seconds("99999999999999999999w"));
}

TEST(PostfixConfig, EndpointsAcrossSpellingsAndChroot) {
  // Chrooted smtpd: an absolute path is inside the queue directory.
  EXPECT_TRUE(postfix::same_endpoint(kChrootSocket, "unix:/emogate/emogate.sock", true, "/var/spool/postfix"));
  EXPECT_FALSE(postfix::same_endpoint(kChrootSocket, "unix:/emogate/emogate.sock", false, "/var/spool/postfix"));
  // A relative path is in the queue directory either way.
  EXPECT_TRUE(postfix::same_endpoint(kChrootSocket, "local:emogate/emogate.sock", false, "/var/spool/postfix/"));
  EXPECT_TRUE(postfix::same_endpoint("/run/e.sock", "unix:/run/./x/../e.sock", false, "/var/spool/postfix"));
  EXPECT_TRUE(postfix::same_endpoint("inet:7357@127.0.0.1", "inet:localhost:7357", true, "/q"));
  EXPECT_TRUE(postfix::same_endpoint("inet:7357", "inet:192.0.2.1:7357", false, "/q"));
  EXPECT_TRUE(postfix::same_endpoint("inet6:7357@::1", "inet:[::1]:7357", false, "/q"));
  EXPECT_FALSE(postfix::same_endpoint("inet:7357@127.0.0.1", "inet:127.0.0.1:7358", false, "/q"));
  EXPECT_FALSE(postfix::same_endpoint("inet:7357@127.0.0.1", "inet:192.0.2.1:7357", false, "/q"));
  EXPECT_FALSE(postfix::same_endpoint("inet:7357@127.0.0.1", "unix:/x", false, "/q"));
  EXPECT_FALSE(postfix::same_endpoint("unix:/x", "garbage", false, "/q"));
}

TEST(PostfixConfig, TheReadmeSetupGivesNoWarning) {
  const Report r = run("smtpd_milters = unix:/emogate/emogate.sock\nmilter_default_action = tempfail\n");
  EXPECT_EQ(r.candidates, 1u);
  EXPECT_EQ(r.reaching, 1u);
  EXPECT_TRUE(r.warnings.empty()) << texts(r);
}

TEST(PostfixConfig, EmogateOverTcpIsSaidToWaitForDelayedAcks) {
  const Report r = run("smtpd_milters = inet:127.0.0.1:7357\nmilter_default_action = tempfail\n", kDebianMaster,
                       "inet:7357@127.0.0.1");
  EXPECT_EQ(r.reaching, 1u);
  ASSERT_EQ(r.warnings.size(), 1u) << texts(r);
  EXPECT_EQ(r.warnings[0].file, "/etc/postfix/main.cf");
  EXPECT_EQ(r.warnings[0].line, 1u);
  EXPECT_NE(r.warnings[0].text.find("over TCP (inet:127.0.0.1:7357)"), std::string::npos) << texts(r);
  // A TCP milter that is not emogate is not emogate's to judge.
  const Report other = run("smtpd_milters = unix:/emogate/emogate.sock, inet:127.0.0.1:8891\n");
  EXPECT_TRUE(other.warnings.empty()) << texts(other);
}

TEST(PostfixConfig, NoMilterForTheServiceIsNamedAtItsLine) {
  const Report r = run("myhostname = mx.example\n");
  EXPECT_EQ(r.reaching, 0u);
  ASSERT_EQ(r.warnings.size(), 1u) << texts(r);
  EXPECT_EQ(r.warnings[0].file, "/etc/postfix/master.cf");
  EXPECT_EQ(r.warnings[0].line, 2u);
  EXPECT_NE(r.warnings[0].text.find("its mail is not scanned"), std::string::npos);
}

TEST(PostfixConfig, ASocketOutsideTheChrootIsSaidSo) {
  const Report r = run("smtpd_milters = unix:/run/emogate/emogate.sock\n", kDebianMaster,
                       "unix:/run/emogate/emogate.sock");
  ASSERT_EQ(r.warnings.size(), 1u) << texts(r);
  EXPECT_EQ(r.warnings[0].file, "/etc/postfix/main.cf");
  EXPECT_EQ(r.warnings[0].line, 1u);
  EXPECT_NE(r.warnings[0].text.find("outside the chroot"), std::string::npos);
  // Not chrooted, the same line reaches it.
  const Report ok = run("smtpd_milters = unix:/run/emogate/emogate.sock\n",
                        "smtp inet n - n - - smtpd\n", "unix:/run/emogate/emogate.sock");
  EXPECT_TRUE(ok.warnings.empty()) << texts(ok);
}

TEST(PostfixConfig, DefaultActionAcceptOnceForSharedSettingAndPerMilter) {
  constexpr std::string_view two =
      "smtp inet n - y - - smtpd\n"
      "submission inet n - y - - smtpd\n";
  const Report shared =
      run("smtpd_milters = $m\nm = unix:/emogate/emogate.sock\nmilter_default_action = accept\n", two);
  EXPECT_EQ(shared.reaching, 2u);
  ASSERT_EQ(shared.warnings.size(), 1u) << texts(shared);
  EXPECT_EQ(shared.warnings[0].line, 3u);
  EXPECT_NE(shared.warnings[0].text.find("mail passes unscanned"), std::string::npos);
  // Another milter's accept is not emogate's.
  const Report own =
      run("smtpd_milters = { unix:/emogate/emogate.sock, default_action = accept }, "
          "{ inet:127.0.0.1:8891, default_action = accept }\n");
  ASSERT_EQ(own.warnings.size(), 1u) << texts(own);
  EXPECT_EQ(own.warnings[0].line, 1u);
  const Report other = run(
      "smtpd_milters = unix:/emogate/emogate.sock, { inet:127.0.0.1:8891, default_action = accept }\n");
  EXPECT_TRUE(other.warnings.empty()) << texts(other);
}

TEST(PostfixConfig, ContentTimeoutShorterThanTheWorstCase) {
  const Report r = run("smtpd_milters = unix:/emogate/emogate.sock\nmilter_content_timeout = 60s\n");
  ASSERT_EQ(r.warnings.size(), 1u) << texts(r);
  EXPECT_EQ(r.warnings[0].line, 2u);
  EXPECT_NE(r.warnings[0].text.find("91 s"), std::string::npos);
  // Postfix's default, 300 s, is longer; so is a value near the top of the range.
  EXPECT_TRUE(run("smtpd_milters = unix:/emogate/emogate.sock\n").warnings.empty());
  EXPECT_TRUE(run("smtpd_milters = unix:/emogate/emogate.sock\nmilter_content_timeout = 213503982334601d\n")
                  .warnings.empty());
  // Postfix's default (300 s) against a longer scan deadline: main.cf, no line.
  const Report dflt = check_texts("smtpd_milters = unix:/emogate/emogate.sock\n", kDebianMaster, "/etc/postfix",
                                  {std::string(kChrootSocket), 3 * 120000 + 500, kMaxSize});
  ASSERT_EQ(dflt.warnings.size(), 1u) << texts(dflt);
  EXPECT_EQ(dflt.warnings[0].file, "/etc/postfix/main.cf");
  EXPECT_EQ(dflt.warnings[0].line, 0u);
  EXPECT_NE(dflt.warnings[0].text.find("300s (Postfix's default)"), std::string::npos);
  // A service's own -o setting is named at the service.
  const Report svc = run("smtpd_milters = unix:/emogate/emogate.sock\n",
                         "smtp inet n - y - - smtpd\n  -o milter_content_timeout=30s\n");
  ASSERT_EQ(svc.warnings.size(), 1u) << texts(svc);
  EXPECT_EQ(svc.warnings[0].file, "/etc/postfix/master.cf");
  EXPECT_NE(svc.warnings[0].text.find("service \"smtp\""), std::string::npos);
}

TEST(PostfixConfig, ServicesToldToTakeNoMiltersAreLeftOut) {
  const Report r = run("smtpd_milters = unix:/emogate/emogate.sock\n",
                       "smtp inet n - y - - smtpd\n"
                       "127.0.0.1:10025 inet n - n - - smtpd -o smtpd_milters=\n"
                       "127.0.0.1:10026 inet n - n - - smtpd -o receive_override_options=no_milters\n");
  EXPECT_EQ(r.candidates, 1u);
  EXPECT_TRUE(r.warnings.empty()) << texts(r);
  // A variable that names nothing is not a choice.
  const Report unset = run("smtpd_milters = unix:/emogate/emogate.sock\n",
                           "submission inet n - y - - smtpd -o smtpd_milters=$submission_milters\n");
  EXPECT_EQ(unset.candidates, 1u);
  ASSERT_EQ(unset.warnings.size(), 1u) << texts(unset);
  EXPECT_EQ(unset.warnings[0].file, "/etc/postfix/master.cf");
  const Report none = run("smtpd_milters = unix:/emogate/emogate.sock\n", "pickup unix n - y 60 1 pickup\n");
  ASSERT_EQ(none.warnings.size(), 1u);
  EXPECT_NE(none.warnings[0].text.find("no smtpd service"), std::string::npos);
}

TEST(PostfixConfig, NonSmtpdMiltersNamingEmogate) {
  const Report r = run("smtpd_milters = unix:/emogate/emogate.sock\nnon_smtpd_milters = $smtpd_milters\n");
  ASSERT_EQ(r.warnings.size(), 1u) << texts(r);
  EXPECT_EQ(r.warnings[0].line, 2u);
  EXPECT_NE(r.warnings[0].text.find("held again"), std::string::npos);
  EXPECT_TRUE(run("smtpd_milters = unix:/emogate/emogate.sock\nnon_smtpd_milters =\n").warnings.empty());
}

TEST(PostfixConfig, MessagesPostfixTakesButEmogateRefusesAsTooBig) {
  const Report big = run("smtpd_milters = unix:/emogate/emogate.sock\nmessage_size_limit = 104857600\n");
  ASSERT_EQ(big.warnings.size(), 1u) << texts(big);
  EXPECT_EQ(big.warnings[0].line, 2u);
  EXPECT_NE(big.warnings[0].text.find("max_message_size (67108864 bytes)"), std::string::npos);
  const Report none = run("smtpd_milters = unix:/emogate/emogate.sock\nmessage_size_limit = 0\n");
  ASSERT_EQ(none.warnings.size(), 1u) << texts(none);
  EXPECT_NE(none.warnings[0].text.find("(no limit)"), std::string::npos);
  // Postfix's default (10240000) and a smaller limit are fine.
  EXPECT_TRUE(run("smtpd_milters = unix:/emogate/emogate.sock\nmessage_size_limit = 52428800\n").warnings.empty());
  // Postfix's default is too big for a smaller max_message_size: said without a line.
  const Report small = check_texts("smtpd_milters = unix:/emogate/emogate.sock\n", kDebianMaster, "/etc/postfix",
                                   {std::string(kChrootSocket), kWorstMs, 5u << 20});
  ASSERT_EQ(small.warnings.size(), 1u) << texts(small);
  EXPECT_EQ(small.warnings[0].line, 0u);
  EXPECT_NE(small.warnings[0].text.find("Postfix's default"), std::string::npos);
}

TEST(PostfixConfig, AnUnreadableFolderIsAnError) {
  const Report r = postfix::check("/nonexistent-emogate-test", {std::string(kChrootSocket), kWorstMs, kMaxSize});
  EXPECT_NE(r.error.find("main.cf"), std::string::npos);
}

// --- Sendmail

constexpr std::string_view kRunSocket = "unix:/run/emogate/emogate.sock";

// What sendmail.mc's INPUT_MAIL_FILTER line of the README becomes.
std::string sendmail_cf(std::string_view x_line, std::string_view input = "O InputMailFilters=emogate\n") {
  return "# sendmail.cf (excerpt)\n" + std::string(input) +
         "O Milter.LogLevel=9\n"
         "######################################################################\n" +
         std::string(x_line) + "\n";
}

mta::Report run_sendmail(const std::string& text) {
  return sendmail::check_text(text, "/etc/mail/sendmail.cf", {std::string(kRunSocket), kWorstMs, kMaxSize});
}

TEST(SendmailConfig, FiltersOptionAndContinuationLines) {
  const auto c = sendmail::parse_sendmail_cf(
      "O InputMailFilters=a, emogate\n"
      "Xa, S=inet:8891@localhost, F=R\n"
      "Xemogate, S=unix:/run/emogate/emogate.sock,\n"
      "\tF=T, T=C:10s;S:10s;R:10s;E:5m\n"
      "# Xcommented, S=unix:/x\n");
  ASSERT_EQ(c.filters.size(), 2u);
  EXPECT_EQ(c.filters[1].name, "emogate");
  EXPECT_EQ(c.filters[1].socket, "unix:/run/emogate/emogate.sock");
  EXPECT_EQ(c.filters[1].flags, "T");
  EXPECT_EQ(c.filters[1].line, 3u);
  EXPECT_EQ(sendmail::timeout_of(c.filters[1].timeouts, 'E'), "5m");
  EXPECT_EQ(sendmail::timeout_of(c.filters[1].timeouts, 'W'), "");
  EXPECT_EQ(c.input_filters, (std::vector<std::string>{"a", "emogate"}));
  EXPECT_EQ(c.input_line, 1u);
}

TEST(SendmailConfig, TimeValues) {
  EXPECT_EQ(sendmail::parse_seconds("5m", 's'), 300u);
  EXPECT_EQ(sendmail::parse_seconds("1h30m", 's'), 5400u);
  EXPECT_EQ(sendmail::parse_seconds("90", 's'), 90u);
  EXPECT_FALSE(sendmail::parse_seconds("5x", 's'));
  EXPECT_FALSE(sendmail::parse_seconds("", 's'));
  EXPECT_FALSE(sendmail::parse_seconds("99999999999999999999999w", 's'));
}

TEST(SendmailConfig, TheReadmeLineGivesNoWarning) {
  const auto r = run_sendmail(sendmail_cf("Xemogate, S=unix:/run/emogate/emogate.sock, F=T, T=C:10s;S:10s;R:10s;E:5m"));
  EXPECT_EQ(r.candidates, 1u);
  EXPECT_EQ(r.reaching, 1u);
  EXPECT_TRUE(r.warnings.empty()) << texts(r);
  // The same over TCP, spelled with localhost.
  const auto tcp = sendmail::check_text(sendmail_cf("Xemogate, S=inet:7357@localhost, F=T"), "/etc/mail/sendmail.cf",
                                        {"inet:7357@127.0.0.1", kWorstMs, kMaxSize});
  EXPECT_TRUE(tcp.warnings.empty()) << texts(tcp);
}

TEST(SendmailConfig, NoFilterReachingEmogate) {
  const auto r = run_sendmail(sendmail_cf("Xother, S=inet:8891@127.0.0.1, F=T", "O InputMailFilters=other\n"));
  EXPECT_EQ(r.reaching, 0u);
  ASSERT_EQ(r.warnings.size(), 1u) << texts(r);
  EXPECT_EQ(r.warnings[0].line, 0u);
  EXPECT_NE(r.warnings[0].text.find("sends no mail to emogate"), std::string::npos);
}

TEST(SendmailConfig, AFilterSendmailDoesNotUse) {
  const auto r = run_sendmail(sendmail_cf("Xemogate, S=unix:/run/emogate/emogate.sock, F=T", ""));
  EXPECT_EQ(r.reaching, 0u);
  ASSERT_EQ(r.warnings.size(), 1u) << texts(r);
  EXPECT_EQ(r.warnings[0].line, 4u);
  EXPECT_NE(r.warnings[0].text.find("not in O InputMailFilters"), std::string::npos);
}

TEST(SendmailConfig, WithoutFTorFRMailPassesUnscanned) {
  const auto r = run_sendmail(sendmail_cf("Xemogate, S=unix:/run/emogate/emogate.sock, T=E:5m"));
  ASSERT_EQ(r.warnings.size(), 1u) << texts(r);
  EXPECT_NE(r.warnings[0].text.find("passes mail unscanned"), std::string::npos);
  EXPECT_TRUE(run_sendmail(sendmail_cf("Xemogate, S=unix:/run/emogate/emogate.sock, F=R")).warnings.empty());
}

TEST(SendmailConfig, EndOfMessageTimeoutShorterThanTheWorstCase) {
  const auto r = run_sendmail(sendmail_cf("Xemogate, S=unix:/run/emogate/emogate.sock, F=T, T=C:10s;E:1m"));
  ASSERT_EQ(r.warnings.size(), 1u) << texts(r);
  EXPECT_NE(r.warnings[0].text.find("T=E:1m"), std::string::npos);
  EXPECT_NE(r.warnings[0].text.find("91 s"), std::string::npos);
}

TEST(SendmailConfig, AMaxMessageSizeAboveEmogates) {
  const auto big = run_sendmail(sendmail_cf("Xemogate, S=unix:/run/emogate/emogate.sock, F=T",
                                            "O InputMailFilters=emogate\nO MaxMessageSize=0\n"));
  ASSERT_EQ(big.warnings.size(), 1u) << texts(big);
  EXPECT_EQ(big.warnings[0].line, 3u);
  EXPECT_NE(big.warnings[0].text.find("(no limit)"), std::string::npos);
  // Not set (Sendmail's default) or smaller: no warning.
  EXPECT_TRUE(run_sendmail(sendmail_cf("Xemogate, S=unix:/run/emogate/emogate.sock, F=T",
                                       "O InputMailFilters=emogate\nO MaxMessageSize=10000000\n"))
                  .warnings.empty());
}

TEST(SendmailConfig, AnUnreadableFileIsAnError) {
  EXPECT_NE(sendmail::check("/nonexistent-emogate-test/sendmail.cf", {std::string(kRunSocket), kWorstMs, kMaxSize})
                .error.find("cannot read"),
            std::string::npos);
}

}  // namespace
}  // namespace emogate::test
