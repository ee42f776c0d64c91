// libFuzzer target: the web view's request side on arbitrary bytes. Beast's
// HTTP parser with the server's limits, then the App (path, query, form,
// cookies, language, authentication, CSRF, routing) on what it parsed; the
// parsing helpers alone; and html_escape, which must leave no markup
// character and only valid UTF-8 whatever it is given.
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/mime/charset.h"
#include "quarantine/store.h"
#include "web/app.h"
#include "web/request.h"

namespace {

using namespace emogate;

struct World {
  Config config;
  QuarantineStore quarantine{"/nonexistent/emogate-fuzz-quarantine"};
  web::Services services;
  std::unique_ptr<web::App> app;
  World() {
    config.web.max_header_size = 8192;
    config.web.max_request_size = 65536;
    config.web.trusted_proxies = {"127.0.0.2"};
    config.web.proxy_user_header = "X-Remote-User";
    services.config = &config;
    services.quarantine = &quarantine;
    services.now = [] { return std::int64_t{1700000000}; };
    std::vector<web::Route> routes;
    routes.push_back({"GET", "/echo/", [](const web::Request& r, web::Services&) {
                        web::Response res;
                        res.body = web::page(r, r.path, web::html_escape(r.param("q")));
                        return res;
                      }});
    routes.push_back({"POST", "/echo/", [](const web::Request& r, web::Services&) { return web::redirect(r.param("to")); }});
    app = std::make_unique<web::App>(services, std::move(routes));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // The helpers alone.
  std::multimap<std::string, std::string> pairs;
  web::parse_pairs(bytes, 1000, pairs);
  std::string path;
  web::parse_path(bytes, path);
  web::cookie_value(bytes, "emogate_session");
  web::choose_lang("", "", bytes);
  const std::string escaped = web::html_escape(bytes);
  if (escaped.find_first_of("<>\"'") != std::string::npos || !is_valid_utf8(escaped)) __builtin_trap();

  // A whole request, as the server reads it.
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.header_limit(world.config.web.max_header_size);
  parser.body_limit(world.config.web.max_request_size);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (used < bytes.size() && !parser.is_done()) {
    const std::size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec || n == 0) break;
    used += n;
  }
  if (!parser.is_done()) return 0;
  auto& req = parser.get();
  web::HttpRequest in;
  in.method = std::string(req.method_string());
  in.target = std::string(req.target());
  in.peer = (size & 1) ? "127.0.0.2" : "127.0.0.1";
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (char& c : name) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    in.headers.emplace_back(name, std::string(f.value()));
  }
  in.body = req.body();
  const web::Response res = world.app->handle(in);
  if (res.status < 200 || res.status > 599) __builtin_trap();
  return 0;
}
