// The [ppap] section: defaults, durations, choices, and file:line errors.
#include <gtest/gtest.h>

#include "emogate/config.h"

using namespace emogate;

namespace {
ConfigError ppap_error(const std::string& text) {
  try {
    parse_config(text, "/etc/emogate/test.toml");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return ConfigError("", 0, "");
}
}  // namespace

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
  ConfigError e = ppap_error("[ppap]\nenabled = true\nwindow = \"30x\"\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(std::string(e.what()).find("ppap.window"), std::string::npos) << e.what();
  e = ppap_error("[ppap]\nwindow = 10\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(std::string(e.what()).find("between 60 and 604800"), std::string::npos) << e.what();
  e = ppap_error("[ppap]\n\nmatch = \"sender\"\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(std::string(e.what()).find("\"envelope\", \"from\""), std::string::npos) << e.what();
  e = ppap_error("[ppap]\non_timeout = \"bounce\"\n");
  EXPECT_EQ(e.line, 2);
  e = ppap_error("[ppap]\nmax_candidates_per_entry = 0\n");
  EXPECT_EQ(e.line, 2);
  e = ppap_error("[ppap]\nwindw = \"30m\"\n");
  EXPECT_NE(std::string(e.what()).find("unknown key 'windw' in [ppap]"), std::string::npos) << e.what();
  EXPECT_EQ(parse_duration_s("30m"), 1800u);
  EXPECT_FALSE(parse_duration_s("-5m"));
  EXPECT_FALSE(parse_duration_s("5 m"));
  EXPECT_FALSE(parse_duration_s("99999999999999999999"));
}
