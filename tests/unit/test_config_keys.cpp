// The loader's key table (describe_config, `emogate config-keys`): every key
// a real file sets is in it, with the type, default and range the loader
// applies; it is what emogate.toml(5) is generated from.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "emogate/config.h"

using namespace emogate;

namespace emogate::test {
namespace {

const ConfigKey* find_key(const std::vector<ConfigKey>& keys, const std::string& name) {
  auto it = std::find_if(keys.begin(), keys.end(), [&](const ConfigKey& k) { return k.key == name; });
  return it == keys.end() ? nullptr : &*it;
}

TEST(ConfigKeys, EveryKeyOfTheExampleConfigIsDescribed) {
  // A key the loader reads only under a condition (never on an empty file)
  // would be missing from the table and so from the man page.
  Config c = load_config(std::string(EMOGATE_SOURCE_DIR) + "/config/emogate.toml");
  const auto keys = describe_config();
  ASSERT_GT(c.lines.size(), 50u);
  for (const auto& [key, line] : c.lines) EXPECT_NE(find_key(keys, key), nullptr) << key << " (line " << line << ")";
}

TEST(ConfigKeys, EachKeyOnceWithTheLoadersDefault) {
  const auto keys = describe_config();
  std::set<std::string> seen;
  for (const ConfigKey& k : keys) {
    EXPECT_TRUE(seen.insert(k.key).second) << k.key;
    EXPECT_FALSE(k.type.empty()) << k.key;
    EXPECT_FALSE(k.default_value.empty()) << k.key;
  }
  const ConfigKey* depth = find_key(keys, "limits.max_depth");
  ASSERT_NE(depth, nullptr);
  EXPECT_EQ(depth->type, "integer");
  EXPECT_EQ(depth->default_value, std::to_string(Limits{}.max_depth));
  EXPECT_EQ(depth->range, "1 to 64");
  const ConfigKey* extracted = find_key(keys, "limits.max_extracted_bytes");
  ASSERT_NE(extracted, nullptr);
  EXPECT_EQ(extracted->default_value, "512M");
  const ConfigKey* mode = find_key(keys, "milter.socket_mode");
  ASSERT_NE(mode, nullptr);
  EXPECT_EQ(mode->default_value, "0o660");
  const ConfigKey* yara = find_key(keys, "verdicts.yara");
  ASSERT_NE(yara, nullptr);
  EXPECT_EQ(yara->default_value, "\"malicious\"");
  const ConfigKey* sendmail = find_key(keys, "quarantine.sendmail");
  ASSERT_NE(sendmail, nullptr);
  EXPECT_EQ(sendmail->default_value, "\"/usr/sbin/sendmail\"");
  const ConfigKey* list = find_key(keys, "passwords.static_list");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->default_value, "[\"infected\", \"password\", \"1234\"]");
}

TEST(ConfigKeys, DescribingLeavesLoadingAlone) {
  // The recorder is off again: a typo is still an error after describing.
  (void)describe_config();
  EXPECT_THROW(parse_config("[limits]\nmax_dpeth = 3\n", "t.toml"), ConfigError);
  EXPECT_EQ(parse_config("[verdicts]\nyara = \"suspicious\"\n", "t.toml").baseline(FindingType::yara),
            Verdict::suspicious);
  EXPECT_EQ(parse_config("", "t.toml").verdicts.size(), 0u);
}

}  // namespace
}  // namespace emogate::test
