// UrlIntel: local copies of abuse.ch lists, loaded once per configuration
// (so SIGHUP picks up the files cron refreshed): the URLhaus CSV export
// (full URLs, also indexed by host) and the Feodo Tracker botnet C2 IP
// blocklist (plain "one IP per line" or CSV). Lookups take normalised
// URLs/hosts/IPs as produced by url_extract.h.
// Trusted input: the list files are admin-fetched but parsed defensively (bad
// lines are skipped and counted, never fatal).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emogate/config.h"

namespace emogate {

struct IntelEntry {
  std::string list;  // "URLhaus" or "Feodo Tracker"
  std::string key;   // the listed URL or IP as normalised
  std::string tag;   // URLhaus threat + tags, Feodo malware family
  std::string date;  // URLhaus dateadded, Feodo first_seen_utc
};

class UrlIntel {
 public:
  // Reads the files named in settings (empty path = that list off). Throws
  // std::runtime_error when a configured file cannot be read.
  static std::shared_ptr<const UrlIntel> load(const IntelSettings& settings,
                                              std::vector<std::string>& warnings);

  // Parsers, public for tests. Return the number of lines skipped as bad.
  std::size_t add_urlhaus(std::string_view text);
  std::size_t add_feodo(std::string_view text);

  const IntelEntry* find_url(const std::string& normalized_url) const;
  const IntelEntry* find_host(const std::string& host) const;  // any listed URL on host
  const IntelEntry* find_ip(const std::string& ip) const;

  std::size_t url_count() const { return urls_.size(); }
  std::size_t ip_count() const { return ips_.size(); }
  bool empty() const { return urls_.empty() && ips_.empty(); }

 private:
  std::unordered_map<std::string, IntelEntry> urls_, hosts_, ips_;
};

// A list file's bytes (the daemon's loader and `emogate update-intel`).
// Throws std::runtime_error when it cannot be read.
std::string read_intel_file(const std::string& path);

// One CSV line, RFC 4180 quoting ("" inside quotes). Public for tests.
std::vector<std::string> split_csv_line(std::string_view line);

}  // namespace emogate
