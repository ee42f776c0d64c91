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
