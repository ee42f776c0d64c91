// Parses the abuse.ch URLhaus and Feodo Tracker exports; see url_intel.h.
// Trusted input: list files are parsed line by line; malformed lines are skipped.
#include "services/url_intel.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/text.h"
#include "formats/url/extract.h"
#include "engine/services.h"

namespace emogate {

namespace {

// Calls fn(line) for every non-empty, non-comment line.
template <class Fn>
void for_each_line(std::string_view text, Fn fn) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim(text.substr(pos, nl - pos), " \t\r");
    pos = nl + 1;
    if (!line.empty() && line[0] != '#') fn(line);
  }
}

}  // namespace

std::string read_intel_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read intel list");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": cannot read intel list");
  return ss.str();
}

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(std::move(cur));
  return out;
}

std::size_t UrlIntel::add_urlhaus(std::string_view text) {
  std::size_t bad = 0;
  for_each_line(text, [&](std::string_view line) {
    // CSV export: "id","dateadded","url","url_status","last_online","threat",
    // "tags","urlhaus_link","reporter". The plain-text export is one URL a line.
    IntelEntry e{"URLhaus", {}, {}, {}};
    std::string url;
    if (line[0] == '"' || line.find("\",\"") != std::string_view::npos) {
      auto f = split_csv_line(line);
      if (f.size() < 3 || f[2] == "url") {
        bad += f.size() < 3;
        return;
      }
      url = f[2];
      e.date = f[1];
      if (f.size() > 5) e.tag = f[5];
      if (f.size() > 6 && !f[6].empty()) e.tag += (e.tag.empty() ? "" : " ") + f[6];
    } else {
      url = std::string(line);
    }
    auto norm = normalize_url(url);
    if (!norm) {
      ++bad;
      return;
    }
    e.key = *norm;
    hosts_.emplace(url_host(*norm), e);
    urls_.emplace(*norm, std::move(e));
  });
  return bad;
}

std::size_t UrlIntel::add_feodo(std::string_view text) {
  std::size_t bad = 0;
  for_each_line(text, [&](std::string_view line) {
    // CSV: "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware";
    // plain text: one IP a line.
    IntelEntry e{"Feodo Tracker", {}, {}, {}};
    if (line.find(',') != std::string_view::npos) {
      auto f = split_csv_line(line);
      if (f.size() < 2 || f[1] == "dst_ip") {
        bad += f.size() < 2;
        return;
      }
      e.key = std::string(trim(f[1], " \t\r"));
      e.date = f[0];
      if (f.size() > 5) e.tag = f[5];
    } else {
      e.key = std::string(line);
    }
    if (!is_ipv4(e.key)) {
      ++bad;
      return;
    }
    std::string key = e.key;
    ips_.emplace(std::move(key), std::move(e));
  });
  return bad;
}

const IntelEntry* UrlIntel::find_url(const std::string& u) const {
  auto it = urls_.find(u);
  return it == urls_.end() ? nullptr : &it->second;
}
const IntelEntry* UrlIntel::find_host(const std::string& h) const {
  auto it = hosts_.find(h);
  return it == hosts_.end() ? nullptr : &it->second;
}
const IntelEntry* UrlIntel::find_ip(const std::string& ip) const {
  auto it = ips_.find(ip);
  return it == ips_.end() ? nullptr : &it->second;
}

std::shared_ptr<const UrlIntel> UrlIntel::load(const IntelSettings& s,
                                               std::vector<std::string>& warnings) {
  auto intel = std::make_shared<UrlIntel>();
  if (!s.urlhaus_path.empty()) {
    std::size_t bad = intel->add_urlhaus(read_intel_file(s.urlhaus_path));
    if (bad) warnings.push_back(s.urlhaus_path + ":0: " + std::to_string(bad) + " unparsable URLhaus lines skipped");
    if (intel->url_count() == 0) warnings.push_back(s.urlhaus_path + ":0: no URLs in URLhaus list");
  }
  if (!s.feodo_path.empty()) {
    std::size_t bad = intel->add_feodo(read_intel_file(s.feodo_path));
    if (bad) warnings.push_back(s.feodo_path + ":0: " + std::to_string(bad) + " unparsable Feodo Tracker lines skipped");
    if (intel->ip_count() == 0) warnings.push_back(s.feodo_path + ":0: no IPs in Feodo Tracker list");
  }
  return intel;
}

}  // namespace emogate

namespace emogate {

// Registry hook: the lists are re-read on every reload (cron refreshes them).
void build_url_intel(const Config& cfg, ServiceSet& out, std::vector<std::string>& warnings) {
  out.put<UrlIntel>(UrlIntel::load(cfg.intel, warnings));
}

}  // namespace emogate
