// Finding::limit, the structured name of what stopped an analysis: set on
// every limit_exceeded finding and on none other, written to the JSON
// report and the milter's JSON log line only when set, and the only thing
// the worker pool reads to tell a timed-out scan (never the detail text).
// Trusted input: none (reports built here).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "emogate/scanner.h"
#include "milter/log.h"
#include "unit/fixtures.h"
#include "worker/worker_pool.h"

using namespace emogate;
using namespace emogate::test;

namespace {

void expect_limit_only_on_limit_exceeded(const Report& r) {
  for (const Finding& f : r.findings) {
    if (f.type == FindingType::limit_exceeded) {
      EXPECT_FALSE(f.limit.empty()) << f.path << ": " << f.detail;
      // The human text still opens with the same name.
      EXPECT_EQ(f.detail.rfind(f.limit, 0), 0u) << f.limit << " / " << f.detail;
    } else {
      EXPECT_TRUE(f.limit.empty()) << to_string(f.type) << " " << f.limit;
    }
  }
}

}  // namespace

TEST(FindingLimit, EngineLimitsNameTheirSetting) {
  Config c;
  c.rules.paths.clear();
  c.limits.max_depth = 2;
  c.limits.max_objects = 6;
  std::string data = fake_pe();
  std::string name = "payload.exe";
  for (int i = 0; i < 5; ++i) {
    data = make_zip({{name, data}, {"a.txt", "a"}, {"b.txt", "b"}});
    name = "level" + std::to_string(i) + ".zip";
  }
  Report r = Scanner(c).scan_file(data, "outer.zip");
  ASSERT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "max_depth"})) << dump(r);
  expect_limit_only_on_limit_exceeded(r);
}

TEST(FindingLimit, UnusableTempDirIsTheLimit) {
  Config c;
  c.rules.paths.clear();
  c.limits.temp_dir = "/nonexistent/emogate-test";
  c.limits.max_object_memory = 1024;
  Report r = Scanner(c).scan_file(make_zip({{"big.txt", std::string(64 * 1024, 'x')}}), "a.zip");
  ASSERT_TRUE(has_finding(r, FindingType::limit_exceeded, {.limit = "temp_dir"})) << dump(r);
  expect_limit_only_on_limit_exceeded(r);
}

TEST(FindingLimit, JsonCarriesTheLimitOnlyWhenSet) {
  Report r;
  r.findings.push_back({FindingType::limit_exceeded, "a.zip", "max_depth: nesting deeper than 2",
                        Verdict::suspicious, "max_depth"});
  r.findings.push_back({FindingType::yara, "a.zip", "rule X", Verdict::malicious});
  auto j = nlohmann::json::parse(to_json(r));
  EXPECT_EQ(j["findings"][0]["limit"], "max_depth");
  EXPECT_EQ(j["findings"][0]["detail"], "max_depth: nesting deeper than 2");
  EXPECT_FALSE(j["findings"][1].contains("limit")) << j.dump();
  MessageLog m;
  m.findings = r.findings;
  auto line = nlohmann::json::parse(format_json_line(m, 0));
  EXPECT_EQ(line["findings"][0]["limit"], "max_depth");
  EXPECT_FALSE(line["findings"][1].contains("limit")) << line.dump();
}

TEST(FindingLimit, TimeoutIsReadFromTheFieldNotTheDetail) {
  Report by_field;
  by_field.findings.push_back(
      {FindingType::limit_exceeded, "(message)", "scan time ran out", Verdict::suspicious, "scan_timeout_ms"});
  EXPECT_TRUE(report_timed_out(by_field));
  Report by_text;
  by_text.findings.push_back(
      {FindingType::limit_exceeded, "a.zip", "scan_timeout_ms: named by a file", Verdict::suspicious, "max_depth"});
  EXPECT_FALSE(report_timed_out(by_text));
  Report other_type;
  other_type.findings.push_back(
      {FindingType::malformed, "a.zip", "scan_timeout_ms", Verdict::suspicious, "scan_timeout_ms"});
  EXPECT_FALSE(report_timed_out(other_type));
}

TEST(FindingLimit, WorkerFailureNamesItsCause) {
  WorkerPool::Outcome o;
  o.cause = "worker_memory";
  o.error = "ran out of memory";
  o.attempts = 2;
  Report r = content_failure_report(o, Verdict::suspicious, "q");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].limit, "worker_memory");
  expect_limit_only_on_limit_exceeded(r);
}
