// The scan engine's public entry point. A Scanner is built once from a
// Config (it compiles rules and loads lists), is safe to share between
// threads, and turns a raw message or a file into a Report.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"

namespace emogate {

// What the MTA knows about a message; all optional for offline scans.
struct Envelope {
  std::string queue_id;
  std::string sender;  // envelope from, without <>
  std::vector<std::string> recipients;
  std::string client_addr;
  std::string auth_user;
};

// Per-call choices that trade report detail for time.
struct ScanOptions {
  // SHA-256 of every object (objects[].sha256). When false, only objects
  // with a finding and archives get one: a milter whose reports are read
  // only for the few messages it stops saves about an eighth of its CPU.
  bool hash_all_objects = true;
  // SHA-256 of the files the message carries (depth 1, not a text body)
  // even without hash_all_objects: the milter sets it for outbound mail,
  // whose log keeps them.
  bool hash_attachments = false;
  // Passwords from outside the message, tried first on its encrypted
  // archives as if they were in it (PPAP: the password mail's, with a source
  // naming that mail's queue id).
  std::vector<SourcedPassword> extra_passwords;
  // Fill Report::ppap.passwords with the follow-up-mail shapes (bounded by
  // [ppap] max_candidates_per_entry); set when the sender has messages
  // waiting for a password.
  bool mine_follow_up_passwords = false;
  // Sender tricks the message alone shows (the `sender` module): a display
  // name carrying another address than From, and, with `local_names` and
  // `local_domains`, a colleague's name on an outside address. Off by
  // default: the milter turns it on for inbound mail.
  bool sender_checks = false;
  std::vector<std::string> local_domains;  // our mail domains (subdomains count)
  std::vector<std::string> local_names;    // colleagues' display names
};

// One loaded YARA rule set: what `emogate check` prints, and the counters
// of its verdict cache since the configuration was loaded.
struct RuleSetInfo {
  std::string name;
  std::string scope;       // "files" or "all"
  std::string max_action;  // "" without a cap
  std::size_t files = 0;
  std::size_t rules = 0;
  std::vector<std::string> skipped;   // "file:line: message"
  std::vector<std::string> warnings;  // "file:line: message"
  double compile_ms = 0;
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t scans = 0;  // YARA scans run (a cache hit runs none)
};

struct ScannerState;  // private: config, rule set, lists, registry

class Scanner {
 public:
  // Throws ConfigError or std::runtime_error when rules or lists cannot load.
  explicit Scanner(Config config);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // raw: the whole RFC 5322 message (headers + body). Never throws for bad
  // input: broken content becomes findings.
  Report scan_message(std::string_view raw, const Envelope& env = {}, const ScanOptions& opts = {}) const;
  // One file scanned as a single attachment named `name`.
  Report scan_file(std::string_view bytes, const std::string& name, const ScanOptions& opts = {}) const;

  // Rebuilds state from a new config (rules, lists) aside and swaps it in
  // only when everything loaded. Throws, keeping the old state, on failure.
  void reload(Config config);

  const Config& config() const;
  // Problems that did not stop loading (e.g. a skipped broken rule file).
  std::vector<std::string> warnings() const;
  // The YARA rule sets of the current configuration, in load order.
  std::vector<RuleSetInfo> rule_sets() const;

 private:
  std::shared_ptr<const ScannerState> state() const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace emogate
