// Config loading: defaults, sizes, verdict and action maps, and errors that
// name the line.
#include <gtest/gtest.h>

#include "emogate/config.h"

using namespace emogate;

namespace {

ConfigError error_of(const std::string& text) {
  try {
    parse_config(text, "/etc/emogate/test.toml");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for: " << text;
  return ConfigError("", 0, "");
}

}  // namespace

TEST(Config, DefaultsAreSafe) {
  Config c = parse_config("", "x.toml");
  EXPECT_EQ(c.limits.max_depth, 12);
  EXPECT_EQ(c.actions.on_error, Action::tempfail);
  EXPECT_EQ(c.baseline(FindingType::dangerous_type), Verdict::malicious);
  EXPECT_EQ(c.baseline(FindingType::limit_exceeded), Verdict::suspicious);
  EXPECT_EQ(c.baseline(FindingType::archive_decrypted), Verdict::clean);
  EXPECT_EQ(c.passwords.opened_archive_verdict, Verdict::clean);
}

TEST(Config, ValuesSizesAndMaps) {
  Config c = parse_config(R"(
[limits]
max_object_memory = "8M"
max_extracted_bytes = 1073741824
max_compression_ratio = 100
[verdicts]
malformed = "clean"
[passwords]
opened_archive_verdict = "clean"
max_document_candidates = 2
[actions]
suspicious = "quarantine"
[actions.findings]
encrypted_archive = "hold"
[rules]
paths = ["rules", "/abs/extra.yar"]
)",
                          "/etc/emogate/emogate.toml");
  EXPECT_EQ(c.limits.max_object_memory, 8u << 20);
  EXPECT_EQ(c.limits.max_extracted_bytes, 1u << 30);
  EXPECT_DOUBLE_EQ(c.limits.max_compression_ratio, 100.0);
  EXPECT_EQ(c.baseline(FindingType::malformed), Verdict::clean);
  EXPECT_EQ(c.passwords.opened_archive_verdict, Verdict::clean);
  EXPECT_EQ(c.passwords.max_document_candidates, 2u);
  EXPECT_EQ(c.actions.suspicious, Action::quarantine);
  EXPECT_EQ(c.actions.findings.at(FindingType::encrypted_archive), Action::hold);
  ASSERT_EQ(c.rules.paths.size(), 2u);
  EXPECT_EQ(c.rules.paths[0], "/etc/emogate/rules");  // relative to the config file
  EXPECT_EQ(c.rules.paths[1], "/abs/extra.yar");
}

TEST(Config, UnknownKeyNamesLine) {
  ConfigError e = error_of("[limits]\nmax_depth = 3\nmax_dpeth = 4\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(std::string(e.what()).find("unknown key 'max_dpeth' in [limits]"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("/etc/emogate/test.toml:3"), std::string::npos) << e.what();
}

TEST(Config, BadValuesNameLine) {
  EXPECT_EQ(error_of("[actions]\n\nclean = \"bounce\"\n").line, 3);
  EXPECT_EQ(error_of("[limits]\nmax_depth = \"deep\"\n").line, 2);
  EXPECT_EQ(error_of("[limits]\nmax_object_memory = \"16X\"\n").line, 2);
  EXPECT_EQ(error_of("[verdicts]\nyara = \"evil\"\n").line, 2);
  EXPECT_EQ(error_of("[passwords]\nopened_archive_verdict = \"ok\"\n").line, 2);
  EXPECT_EQ(error_of("[actions.findings]\nnot_a_type = \"hold\"\n").line, 2);
  EXPECT_EQ(error_of("[nosuchsection]\na = 1\n").line, 1);
  ConfigError syntax = error_of("[limits\nmax_depth = 3\n");
  EXPECT_GT(syntax.line, 0);
}

TEST(Config, MissingFile) {
  EXPECT_THROW(load_config("/nonexistent/emogate.toml"), ConfigError);
}

TEST(Config, SizesNeverWrapOrTakeSignsOrBlanks) {
  for (const char* v : {"\"17179869185G\"", "\"18446744073709551616\"", "\"-1\"", "\" 16M\"", "\"+16M\"", "\"\""}) {
    ConfigError e = error_of(std::string("[limits]\n\nmax_object_size = ") + v + "\n");
    EXPECT_EQ(e.line, 3) << v << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("limits.max_object_size"), std::string::npos) << e.what();
  }
  EXPECT_EQ(parse_config("[limits]\nmax_extracted_bytes = \"16G\"\n", "x.toml").limits.max_extracted_bytes, 16ull << 30);
}

TEST(Config, RatiosMustBeFinite) {
  for (const char* v : {"nan", "inf", "-inf", "0.0"})
    EXPECT_EQ(error_of(std::string("[limits]\nmax_compression_ratio = ") + v + "\n").line, 2) << v;
}

TEST(Config, WebTimeZoneMustBeAZoneOfTheSystem) {
  EXPECT_EQ(parse_config("", "x.toml").web.time_zone, "");
  EXPECT_EQ(parse_config("[web]\ntime_zone = \"Asia/Tokyo\"\n", "x.toml").web.time_zone, "Asia/Tokyo");
  EXPECT_EQ(parse_config("[web]\ntime_zone = \"UTC\"\n", "x.toml").web.time_zone, "UTC");
  for (const char* bad : {"Asia/Nowhere", "../../../etc/passwd", "/usr/share/zoneinfo/UTC", "Asia", "JST-9"}) {
    ConfigError e = error_of(std::string("[web]\n\ntime_zone = \"") + bad + "\"\n");
    EXPECT_EQ(e.line, 3) << bad << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("time_zone"), std::string::npos) << e.what();
  }
}

TEST(Config, SocketListenAndSendmailAreChecked) {
  for (const char* bad : {"[milter]\nsocket = \"garbage:xyz\"\n", "[milter]\nsocket = \"inet:99999@localhost\"\n",
                          "[metrics]\nlisten = \"0.0.0.0:9357\"\n", "[metrics]\nlisten = \"127.0.0.1:x\"\n",
                          "[quarantine]\nsendmail = \"bin/sendmail\"\n"})
    EXPECT_EQ(error_of(bad).line, 2) << bad;
  Config ok = parse_config(
      "[milter]\nsocket = \"inet6:7357@[::1]\"\n[metrics]\nlisten = \"[::1]:9357\"\n", "x.toml");
  EXPECT_EQ(ok.metrics.listen, "[::1]:9357");
  parse_config("[milter]\nsocket = \"/run/emogate.sock\"\n[metrics]\nlisten = \"127.0.0.2:1\"\n", "x.toml");
}

TEST(Config, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "x = " + std::string(10000, '[');
  ConfigError e = error_of("[limits]\n" + deep + "\n");
  EXPECT_EQ(e.line, 2);
  // Keys of thousands of parts take toml11 minutes: refused before it sees them.
  std::string dotted = "x";
  for (int i = 0; i < 300000; ++i) dotted += ".x";
  EXPECT_EQ(error_of("[limits]\n" + dotted + " = 1\n").line, 2);
  EXPECT_EQ(error_of("\n[" + dotted + "]\n").line, 2);
  EXPECT_EQ(error_of("a = {b = 1, " + dotted + " = 2}\n").line, 1);
  // Floats and dotted strings in values are not key parts.
  std::string floats = "[limits]\nmax_compression_ratio = 2.5\n[macros]\nallow_sender_domains = [";
  for (int i = 0; i < 100; ++i) floats += "\"a.b.c.d\", 1.5, ";
  ConfigError typed = error_of(floats + "]\n");  // 1.5 is not a string: a type error, not nesting
  EXPECT_NE(std::string(typed.what()).find("expected an array of strings"), std::string::npos) << typed.what();
  // Brackets inside strings and comments do not count.
  std::string fine = "# " + std::string(100, '[') + "\n[rules]\npaths = [\"" + std::string(100, '[') +
                     "\", '''" + std::string(100, '{') + "''']\n";
  EXPECT_EQ(parse_config(fine, "x.toml").rules.paths.size(), 2u);
}

TEST(Config, EnvironmentProblemsNameTheKeyLine) {
  Config c = parse_config(
      "[limits]\ntemp_dir = \"/nonexistent/emogate-tmp\"\n[quarantine]\ndir = \"/proc/version/q\"\n"
      "sendmail = \"/nonexistent/sendmail\"\n[milter]\nuser = \"no-such-user-emogate\"\n",
      "/etc/emogate/e.toml");
  auto problems = check_environment(c);
  std::string all;
  for (const auto& p : problems) all += std::string(p.what()) + "\n";
  EXPECT_EQ(problems.size(), 4u) << all;
  EXPECT_NE(all.find("/etc/emogate/e.toml:2: limits.temp_dir"), std::string::npos) << all;
  EXPECT_NE(all.find("/etc/emogate/e.toml:4: quarantine.dir"), std::string::npos) << all;
  EXPECT_NE(all.find("/etc/emogate/e.toml:5: quarantine.sendmail"), std::string::npos) << all;
  EXPECT_NE(all.find("/etc/emogate/e.toml:7: milter.user"), std::string::npos) << all;
}

// [ppap]: defaults, durations, choices, and file:line errors.
TEST(PpapConfig, DefaultsAndEveryKey) {
  Config d = parse_config("", "x.toml");
  EXPECT_TRUE(d.ppap.enabled);
  EXPECT_EQ(d.ppap.window_s, 1800u);
  EXPECT_EQ(d.ppap.match, PpapMatch::envelope);
  EXPECT_EQ(d.ppap.hold_in, PpapHoldIn::emogate);
  EXPECT_EQ(d.ppap.on_timeout, PpapTimeout::keep);
  Config c = parse_config(
      "[ppap]\nenabled = false\nwindow = \"2h\"\nmatch = \"from\"\nhold_in = \"postfix\"\non_timeout = \"return\"\n"
      "max_pending_per_sender = 3\nmax_pending = 50\nmax_candidates_per_entry = 7\nmax_held_bytes = \"64M\"\n",
      "x.toml");
  EXPECT_FALSE(c.ppap.enabled);
  EXPECT_EQ(c.ppap.window_s, 7200u);
  EXPECT_EQ(c.ppap.match, PpapMatch::from);
  EXPECT_EQ(c.ppap.hold_in, PpapHoldIn::postfix);
  EXPECT_EQ(c.ppap.on_timeout, PpapTimeout::return_to_sender);
  EXPECT_EQ(c.ppap.max_pending_per_sender, 3u);
  EXPECT_EQ(c.ppap.max_pending, 50u);
  EXPECT_EQ(c.ppap.max_candidates_per_entry, 7u);
  EXPECT_EQ(c.ppap.max_held_bytes, 64ull << 20);
  EXPECT_EQ(parse_config("[ppap]\nwindow = 90\n", "x").ppap.window_s, 90u);
  EXPECT_EQ(parse_config("[ppap]\nwindow = \"1d\"\n", "x").ppap.window_s, 86400u);
}

TEST(PpapConfig, BadValuesNameFileAndLine) {
  ConfigError e = error_of("[ppap]\nenabled = true\nwindow = \"30x\"\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(std::string(e.what()).find("ppap.window"), std::string::npos) << e.what();
  e = error_of("[ppap]\nwindow = 10\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(std::string(e.what()).find("between 60 and 604800"), std::string::npos) << e.what();
  e = error_of("[ppap]\n\nmatch = \"sender\"\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(std::string(e.what()).find("\"envelope\", \"from\""), std::string::npos) << e.what();
  e = error_of("[ppap]\non_timeout = \"bounce\"\n");
  EXPECT_EQ(e.line, 2);
  e = error_of("[ppap]\nmax_candidates_per_entry = 0\n");
  EXPECT_EQ(e.line, 2);
  e = error_of("[ppap]\nwindw = \"30m\"\n");
  EXPECT_NE(std::string(e.what()).find("unknown key 'windw' in [ppap]"), std::string::npos) << e.what();
  EXPECT_EQ(parse_duration_s("30m"), 1800u);
  EXPECT_FALSE(parse_duration_s("-5m"));
  EXPECT_FALSE(parse_duration_s("5 m"));
  EXPECT_FALSE(parse_duration_s("99999999999999999999"));
}
