// The web view's status page: the milter daemon's figures fetched from a
// live metrics endpoint, "unavailable" when nothing answers, and the
// Prometheus text parser on odd lines.
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "milter/metrics.h"
#include "unit/web_fixture.h"
#include "web/status.h"

namespace emogate::web {
namespace {

using test::WebFixture;

TEST(WebStatus, ShowsTheDaemonsFigures) {
  Metrics m;
  m.set_workers([] { return 7u; });
  m.set_queue_depth([] { return 3u; });
  m.rules_loaded_now();
  m.message("clean", Action::accept, 1.0);
  m.message("malicious", Action::reject, 2.0);
  m.start("127.0.0.1:0");
  WebFixture f;
  f.config.metrics.listen = "127.0.0.1:" + std::to_string(m.port());
  const std::string sid = f.session();
  const Response res = f.get("/status", std::string(kSessionCookie) + "=" + sid);
  m.stop();
  ASSERT_EQ(res.status, 200);
  const auto row = [&](std::string_view key, std::string_view value) {
    return res.body.find("<th>" + html_escape(tr(Lang::en, key)) + "</th><td>" + std::string(value) + "</td>") !=
           std::string::npos;
  };
  EXPECT_TRUE(row("status.workers", "7")) << res.body;
  EXPECT_TRUE(row("status.queue_depth", "3"));
  EXPECT_TRUE(row("status.messages", "2"));
  EXPECT_NE(res.body.find("<th>" + html_escape(tr(Lang::en, "status.rules_age")) + "</th><td>"), std::string::npos);
  EXPECT_TRUE(row("status.quarantine_count", "0"));
}

TEST(WebStatus, SaysUnavailableWhenTheDaemonIsDown) {
  // A port that was free a moment ago: nothing listens there.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const unsigned short port = a.local_endpoint().port();
  a.close();
  std::string error;
  EXPECT_FALSE(fetch_metrics("127.0.0.1:" + std::to_string(port), 200, error));
  EXPECT_FALSE(error.empty());
  WebFixture f;
  f.config.metrics.listen = "127.0.0.1:" + std::to_string(port);
  const Response res = f.get("/status", std::string(kSessionCookie) + "=" + f.session());
  EXPECT_NE(res.body.find(html_escape(tr(Lang::en, "status.metrics_unavailable"))), std::string::npos);
}

TEST(WebStatus, ParsesPrometheusText) {
  const auto s = parse_metrics(
      "# HELP x y\n# TYPE x gauge\nx 1\nlabelled{a=\"b c\"} 2.5\nbroken\nnovalue \nbad 1x\n\ny +Inf\n");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], (std::pair<std::string, double>("x", 1)));
  EXPECT_EQ(s[1].first, "labelled{a=\"b c\"}");
  EXPECT_EQ(s[1].second, 2.5);
  EXPECT_EQ(s[2].first, "y");
}

}  // namespace
}  // namespace emogate::web
