// Prometheus metrics: text format and the loopback-only HTTP endpoint.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74 asio needs it first under C++20
#include <boost/asio.hpp>

#include <chrono>
#include <filesystem>

#include "milter/metrics.h"
#include "unit/test_files.h"

using namespace emogate;

TEST(Metrics, RendersCountersHistogramAndGauges) {
  Metrics m;
  m.message("clean", Action::tag, 3.0);
  m.message("clean", Action::tag, 30.0);
  m.message("suspicious", Action::hold, 700.0);
  m.finding(FindingType::vba_macro);
  m.set_queue_depth([] { return 7u; });
  m.rules_loaded_now();
  std::string t = m.render();
  EXPECT_NE(t.find("emogate_messages_total{verdict=\"clean\",action=\"tag\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("emogate_messages_total{verdict=\"suspicious\",action=\"hold\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("emogate_findings_total{type=\"vba_macro\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("emogate_scan_duration_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("emogate_scan_duration_seconds_bucket{le=\"0.05\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("emogate_scan_duration_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("emogate_scan_duration_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(t.find("emogate_scan_queue_depth 7\n"), std::string::npos);
  EXPECT_NE(t.find("emogate_ruleset_age_seconds 0\n"), std::string::npos);
}

TEST(Metrics, OutboundWatchCpuIsSummedInSeconds) {
  Metrics m;
  EXPECT_NE(m.render().find("\nemogate_outbound_cpu_seconds_total 0.000000\n"), std::string::npos);
  m.outbound_cpu(1500000);
  m.outbound_cpu(2000000000);
  EXPECT_NE(m.render().find("\nemogate_outbound_cpu_seconds_total 2.001500\n"), std::string::npos) << m.render();
}

TEST(Metrics, WorkerForkFailuresAreCountedApartFromRestarts) {
  Metrics m;
  EXPECT_NE(m.render().find("\nemogate_worker_fork_failures_total 0\n"), std::string::npos) << m.render();
  m.worker_fork_failed();
  m.worker_fork_failed();
  m.worker_ended("worker_crash", false, 3);
  const std::string t = m.render();
  EXPECT_NE(t.find("\nemogate_worker_fork_failures_total 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("emogate_worker_restarts_total{cause=\"worker_crash\"} 1\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("fork_failed"), std::string::npos) << t;
}

TEST(Metrics, RuleSetUseIsSummedPerSet) {
  Metrics m;
  EXPECT_EQ(m.render().find("emogate_rule_set_"), std::string::npos);
  m.rule_sets({{"signature-base", 3, 1, 4, 4096, 2.5}, {"default", 7, 0, 7, 9000, 0.75}});
  m.rule_sets({{"signature-base", 2, 2, 0, 0, 0}, {"odd\"set", 1, 0, 1, 10, 1}});
  const std::string t = m.render();
  EXPECT_NE(t.find("emogate_rule_set_objects_total{set=\"signature-base\"} 5\n"), std::string::npos) << t;
  EXPECT_NE(t.find("emogate_rule_set_cache_hits_total{set=\"signature-base\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("emogate_rule_set_passes_total{set=\"default\"} 7\n"), std::string::npos) << t;
  EXPECT_NE(t.find("emogate_rule_set_bytes_total{set=\"signature-base\"} 4096\n"), std::string::npos) << t;
  EXPECT_NE(t.find("emogate_rule_set_cpu_seconds_total{set=\"default\"} 0.000750\n"), std::string::npos) << t;
  EXPECT_NE(t.find("emogate_rule_set_objects_total{set=\"odd\\\"set\"} 1\n"), std::string::npos) << t;
}

TEST(Metrics, RefusesNonLoopback) {
  Metrics m;
  EXPECT_THROW(m.start("0.0.0.0:9357"), std::runtime_error);
  EXPECT_THROW(m.start("192.0.2.1:9357"), std::runtime_error);
  EXPECT_THROW(m.start("nonsense"), std::runtime_error);
}

TEST(Metrics, ServesOverHttpOnLoopback) {
  Metrics m;
  m.message("malicious", Action::reject, 1.0);
  m.start("127.0.0.1:0");
  ASSERT_NE(m.port(), 0);
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), m.port()});
  std::string req = "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n";
  asio::write(s, asio::buffer(req));
  std::string resp;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    resp.append(buf, n);
    if (ec) break;
  }
  EXPECT_EQ(resp.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << resp;
  EXPECT_NE(resp.find("emogate_messages_total{verdict=\"malicious\",action=\"reject\"} 1"), std::string::npos);
  m.stop();
}

TEST(Metrics, IntelAgeComesFromTheListFilesMtime) {
  emogate::test::TempDir d;
  IntelSettings intel;
  intel.urlhaus_path = d.write("urlhaus.csv", "http://203.0.113.1/x\n");
  intel.feodo_path = d.write("feodo.txt", "198.51.100.1\n");
  const auto two_hours_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(2);
  std::filesystem::last_write_time(intel.urlhaus_path, two_hours_ago);
  Metrics m;
  EXPECT_EQ(m.render().find("emogate_intel_age_seconds"), std::string::npos);  // no list loaded yet
  m.intel_loaded(intel);
  std::string t = m.render();
  auto at = t.find("emogate_intel_age_seconds{list=\"urlhaus\"} ");
  ASSERT_NE(at, std::string::npos) << t;
  double age = std::stod(t.substr(at + std::string("emogate_intel_age_seconds{list=\"urlhaus\"} ").size()));
  EXPECT_NEAR(age, 7200, 60);
  at = t.find("emogate_intel_age_seconds{list=\"feodo\"} ");
  ASSERT_NE(at, std::string::npos) << t;
  EXPECT_LT(std::stod(t.substr(at + std::string("emogate_intel_age_seconds{list=\"feodo\"} ").size())), 60);
  // A list switched off is no longer reported.
  intel.feodo_path.clear();
  m.intel_loaded(intel);
  EXPECT_EQ(m.render().find("list=\"feodo\""), std::string::npos);
}
