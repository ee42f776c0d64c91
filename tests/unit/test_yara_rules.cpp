// YaraRuleSet: compile per file with file:line warnings, strict mode,
// external variables, match details, timeouts, threads, and a folder of
// typical third-party YARA 4 rules (modules, private/global rules, include).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <atomic>
#include <cstdio>

#include <openssl/evp.h>

#include "services/yara_rules.h"
#include "unit/test_files.h"

using namespace emogate;
namespace fs = std::filesystem;
using emogate::test::TempDir;

namespace {


std::shared_ptr<const YaraRuleSet> compile_dir(const TempDir& d, std::vector<std::string>& w,
                                               bool strict = false) {
  RuleSettings s;
  s.paths = {d.path.string()};
  s.strict = strict;
  return YaraRuleSet::compile(s, w);
}

std::vector<std::string> names(const YaraScanResult& r) {
  std::vector<std::string> n;
  for (const auto& m : r.matches) n.push_back(m.rule);
  std::sort(n.begin(), n.end());
  return n;
}

const char* kGood = "rule Good : t1 t2 { meta: description = \"good one\" verdict = \"suspicious\" "
                    "score = 70 final = true strings: $a = \"needle-123\" condition: $a }\n";

TEST(YaraRuleSet, BrokenFileIsSkippedWithFileAndLine) {
  TempDir d;
  d.write("a_good.yar", kGood);
  std::string bad = d.write("b_bad.yara", "rule Fine { condition: true }\n\nrule Broken {\n  condition: $nope\n}\n");
  d.write("notes.txt", "rule NotARuleFile { condition: true }");
  std::vector<std::string> w;
  auto set = compile_dir(d, w);
  EXPECT_EQ(set->rule_count(), 1u);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find(bad + ":5: "), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("$nope"), std::string::npos) << w[0];
  EXPECT_EQ(names(set->scan("xx needle-123 xx", {}, 1000)), std::vector<std::string>{"Good"});
}

TEST(YaraRuleSet, StrictFailsOnBrokenFile) {
  TempDir d;
  d.write("a_good.yar", kGood);
  std::string bad = d.write("b_bad.yar", "rule X { condition: undefined_thing }\n");
  std::vector<std::string> w;
  try {
    compile_dir(d, w, true);
    FAIL() << "strict compile should throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ":1: "), std::string::npos) << e.what();
  }
}

TEST(YaraRuleSet, MissingPathWarnsOrFailsWhenStrict) {
  RuleSettings s;
  s.paths = {"/nonexistent/emogate-rules"};
  std::vector<std::string> w;
  auto set = YaraRuleSet::compile(s, w);
  EXPECT_EQ(set->rule_count(), 0u);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("/nonexistent/emogate-rules:0:"), std::string::npos);
  EXPECT_TRUE(set->scan("anything", {}, 100).matches.empty());
  s.strict = true;
  EXPECT_THROW(YaraRuleSet::compile(s, w), std::runtime_error);
}

TEST(YaraRuleSet, MatchCarriesNamespaceTagsAndMeta) {
  TempDir d;
  std::string file = d.write("r.yar", kGood);
  std::vector<std::string> w;
  auto set = compile_dir(d, w);
  auto r = set->scan("needle-123", {}, 1000);
  ASSERT_EQ(r.matches.size(), 1u);
  const auto& m = r.matches[0];
  EXPECT_EQ(m.ns, file);
  EXPECT_EQ(m.tags, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(m.meta_value("description"), "good one");
  EXPECT_EQ(m.meta_value("verdict"), "suspicious");
  EXPECT_EQ(m.meta_value("score"), "70");
  EXPECT_EQ(m.meta_value("final"), "true");
  EXPECT_EQ(m.meta_value("absent"), "");
}

TEST(YaraRuleSet, ExternalVariablesDescribeTheObject) {
  TempDir d;
  d.write("ext.yar",
          "rule Ctx { condition: filename == \"a.xls\" and extension == \".xls\" and path == \"m.zip/d/a.xls\""
          " and depth == 2 and type == \"ole2\" and mime == \"application/vnd.ms-excel\""
          " and parent_type == \"zip\" and from_encrypted and filepath == \"d\" and filetype == \"OLE\""
          " and owner == \"\" and truncated }\n"
          "rule NotEncrypted { condition: not from_encrypted }\n");
  std::vector<std::string> w;
  auto set = compile_dir(d, w, true);
  YaraVars v{"a.xls", ".xls", "m.zip/d/a.xls", 2, "ole2", "application/vnd.ms-excel", "zip", true, true, "d", "OLE"};
  EXPECT_EQ(names(set->scan("x", v, 1000)), std::vector<std::string>{"Ctx"});
  v.from_encrypted = false;
  EXPECT_EQ(names(set->scan("x", v, 1000)), std::vector<std::string>{"NotEncrypted"});
  // Values do not leak from one scan to the next.
  EXPECT_EQ(names(set->scan("x", YaraVars{}, 1000)), std::vector<std::string>{"NotEncrypted"});
}

TEST(YaraRuleSet, TimeoutStopsASlowRule) {
  TempDir d;
  d.write("slow.yar",
          "rule Slow { condition: for all i in (0..filesize - 1) : ("
          " for all j in (0..1000) : ( uint8(i) == 0 ) ) }\n");
  std::vector<std::string> w;
  auto set = compile_dir(d, w);
  std::string data(1 << 20, '\0');
  auto t0 = std::chrono::steady_clock::now();
  auto r = set->scan(data, {}, 200);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(r.timed_out);
  EXPECT_NE(r.error.find("timed out"), std::string::npos);
  EXPECT_LT(ms, 5000);
}

TEST(YaraRuleSet, LargeObjectsStillMatchInFastMode) {
  // Past 16 MB only each string's first match is kept (bounded memory on
  // hostile input); plain presence rules behave the same.
  TempDir d;
  d.write("r.yar", "rule Present { strings: $a = \"needle-123\" condition: $a }\n"
                   "rule Tail { condition: uint32(filesize - 4) == 0x64636261 }\n");
  std::vector<std::string> w;
  auto set = compile_dir(d, w, true);
  std::string big;
  big.reserve(20u << 20);
  while (big.size() < (20u << 20)) big += "needle-123 http://x ";
  big += "abcd";
  auto r = set->scan(big, {}, 10000);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(names(r), (std::vector<std::string>{"Present", "Tail"}));
}

TEST(YaraRuleSet, ConcurrentScansShareOneSet) {
  TempDir d;
  d.write("r.yar", kGood);
  std::vector<std::string> w;
  auto set = compile_dir(d, w);
  std::atomic<int> ok{0};
  std::vector<std::thread> th;
  for (int t = 0; t < 4; ++t)
    th.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string data = (i + t) % 2 ? "needle-123" : "hay";
        YaraVars v;
        v.depth = i;
        auto r = set->scan(data, v, 1000);
        if (r.matches.size() == ((i + t) % 2 ? 1u : 0u)) ++ok;
      }
    });
  for (auto& x : th) x.join();
  EXPECT_EQ(ok.load(), 800);
}

TEST(YaraRuleSet, NewSetSeesAddedFile) {
  // What a reload does: compile the folder again into a new set; the old
  // set keeps working for scans that still hold it.
  TempDir d;
  d.write("a.yar", kGood);
  std::vector<std::string> w;
  auto old_set = compile_dir(d, w);
  d.write("b.yar", "rule Added { strings: $a = \"fresh-indicator\" condition: $a }\n");
  auto new_set = compile_dir(d, w);
  EXPECT_TRUE(old_set->scan("fresh-indicator", {}, 1000).matches.empty());
  EXPECT_EQ(names(new_set->scan("fresh-indicator", {}, 1000)), std::vector<std::string>{"Added"});
  EXPECT_EQ(new_set->files().size(), 2u);
}

TEST(YaraRuleSet, ThirdPartyYara4FolderLoadsAndRuns) {
  TempDir d;
  const std::string payload = "TP-MARKER abc";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(payload.data(), payload.size(), md, &len, EVP_md5(), nullptr);
  char hex[3];
  std::string md5;
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", md[i]);
    md5 += hex;
  }
  // An index file that includes shared private rules, as many published
  // sets ship; the included file has a non-rule extension so it is only
  // compiled through the include.
  d.write("vendor/common.inc",
          "private rule IsSmall { condition: filesize < 1MB }\n"
          "private rule HasMarker { strings: $m = \"TP-MARKER\" condition: $m }\n");
  d.write("vendor/index.yar",
          "include \"common.inc\"\n"
          "import \"pe\"\nimport \"math\"\nimport \"hash\"\nimport \"elf\"\nimport \"dotnet\"\n"
          "global rule OnlySmallFiles { condition: IsSmall }\n"
          "rule TP_Marker_Not_PE : thirdparty { meta: author = \"vendor\" "
          "condition: HasMarker and not pe.is_pe and not defined dotnet.number_of_streams and not defined elf.type }\n"
          "rule TP_Hash { condition: hash.md5(0, filesize) == \"" + md5 + "\" }\n"
          "rule TP_Entropy { condition: math.entropy(0, filesize) < 4.0 and HasMarker }\n");
  d.write("vendor/pe_rules.yara",
          "import \"pe\"\nimport \"magic\"\n"
          "rule TP_PE_Exports { condition: pe.is_pe and pe.exports(\"DllRegisterServer\") }\n"
          "rule TP_Magic_Text { condition: magic.mime_type() == \"text/plain\" and filesize < 100 }\n");
  std::vector<std::string> w;
  auto set = compile_dir(d, w, true);
  EXPECT_TRUE(w.empty()) << w[0];
  EXPECT_EQ(set->files().size(), 2u);
  EXPECT_EQ(names(set->scan(payload, {}, 1000)),
            (std::vector<std::string>{"OnlySmallFiles", "TP_Entropy", "TP_Hash", "TP_Magic_Text", "TP_Marker_Not_PE"}));
  // The global rule gates every rule of its namespace (file) only.
  std::string big(2u << 20, 'A');
  big += "TP-MARKER";
  EXPECT_TRUE(set->scan(big, {}, 1000).matches.empty());
}

}  // namespace
