// emogate's configuration: one TOML file, every key optional with a safe
// default. load_config() rejects unknown keys and bad values with the file,
// line and reason, so `emogate check` can tell the admin exactly what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "emogate/verdict.h"

namespace emogate {

// Every limit bounds work or memory for one message. Hitting a limit gives a
// limit_exceeded finding naming it; the rest of the message is still scanned.
struct Limits {
  int max_depth = 12;                                 // nesting of objects
  std::uint64_t max_objects = 5000;                   // objects per message
  std::uint64_t max_extracted_bytes = 512ull << 20;   // all children, per message
  std::uint64_t max_object_memory = 32ull << 20;      // larger spills to a temp file
  std::uint64_t max_object_size = 256ull << 20;       // one extracted object
  double max_compression_ratio = 250.0;               // per archive member
  std::uint64_t ratio_floor_bytes = 1ull << 20;       // ratio applies past this size
  std::uint32_t scan_timeout_ms = 30000;              // wall time per message
  std::uint64_t max_mime_parts = 1000;
  int max_mime_depth = 20;
  // Password key derivation: hash rounds per message for all tries together
  // (Office spinCount steps, ZIP AES PBKDF2 iterations), and the highest
  // Office spinCount tried at all (Office writes 100,000).
  std::uint64_t max_kdf_rounds = 2000000;
  std::uint32_t max_spin_count = 500000;
  std::uint64_t max_headers = 10000;          // header fields, all blocks together
  std::uint64_t max_header_size = 256 << 10;  // one field, folded lines included
  // OOXML package analysis (relationships, macro sheets, content types):
  // bytes read from all parts of one package together, one part, one .rels
  // or [Content_Types].xml part, part names listed.
  std::uint64_t ooxml_read_budget = 256ull << 20;
  std::uint64_t ooxml_max_part = 64ull << 20;
  std::uint64_t ooxml_max_xml_part = 4ull << 20;
  std::uint64_t ooxml_max_entries = 20000;
  std::string temp_dir = "/tmp";
  // Where scans run: "process" (sandboxed worker processes) or "inprocess"
  // (threads of the daemon; for comparison, fuzzing and debugging).
  std::string isolation = "process";
  std::uint64_t worker_memory = 1ull << 30;   // growth a worker may map
  std::uint32_t worker_max_scans = 1000;      // then it is replaced; 0 = never
  std::uint64_t worker_max_rss = 256ull << 20;  // replaced once its peak RSS passed this; 0 = never
};

struct PasswordSettings {
  std::vector<std::string> static_list = {"infected", "password", "1234"};
  std::uint32_t max_candidates = 100;
  bool show_in_reports = false;  // mask by default (e.g. "Ab*****")
  // The archive_decrypted verdict: members and encrypted Office documents
  // opened with a password (from the message, a PPAP password mail or the
  // static list) are judged by their content, so clean by default; a site
  // that holds every password ZIP sets suspicious. What no candidate opened
  // gives encrypted_archive / encrypted_document at its [verdicts] baseline.
  Verdict opened_archive_verdict = Verdict::clean;
  // Mined candidates tried on an encrypted Office document, best first. Each
  // try costs the document's key derivation (agile: 100,000 SHA-512 rounds,
  // about 30 ms), so far fewer than for a ZIP, whose check costs microseconds.
  std::uint32_t max_document_candidates = 5;
};

// Password sent in a second mail (PPAP): a message whose encrypted archive
// no candidate opened, and that nothing else flags, waits for the password
// mail from the same sender to a shared recipient (see README, PPAP).
enum class PpapMatch { envelope, from };
enum class PpapHoldIn { emogate, postfix };
enum class PpapTimeout { keep, deliver, return_to_sender };
struct PpapSettings {
  bool enabled = true;
  std::uint32_t window_s = 30 * 60;            // how long a message waits
  PpapMatch match = PpapMatch::envelope;       // who may send the password
  PpapHoldIn hold_in = PpapHoldIn::emogate;    // emogate's store: any host can release
  PpapTimeout on_timeout = PpapTimeout::keep;  // keep in quarantine for the admin
  std::uint32_t max_pending_per_sender = 20;
  std::uint32_t max_pending = 10000;
  std::uint32_t max_candidates_per_entry = 20;  // mined candidates tried per pending message
  std::uint64_t max_held_bytes = 4ull << 30;    // all held messages together
};

struct MacroSettings {
  std::vector<std::string> allow_project_sha256;  // known-good VBA projects
  std::vector<std::string> allow_sender_domains;  // senders whose macros are expected
};

enum class Action;

// Which objects a rule set sees: `files` = what a user would save (the
// attachments, archive members, decrypted documents, embedded files);
// `all` = every object, including OLE streams, package parts and the text
// emogate derives (VBA source, XLM formulas, HTML reduced to text);
// `loki` = the files LOKI's default (not "intense") scan hands to YARA: of
// the `files`, those of a type in LOKI's magic table or with one of its
// extensions of interest (services/loki_externals.h).
enum class RuleScope { files, all, loki };
std::string_view to_string(RuleScope s);  // "files", "all", "loki"
std::optional<RuleScope> parse_rule_scope(std::string_view s);  // to_string's inverse

// One [[rules.set]]: rule files loaded and judged together.
struct RuleSetSettings {
  std::string name;
  std::vector<std::string> paths;  // files or folders
  bool strict = false;             // default: [rules] strict
  RuleScope scope = RuleScope::files;
  // A hit whose rule has neither a `verdict` nor a `score` meta; unset:
  // the [verdicts] yara baseline.
  std::optional<Verdict> verdict;
  // The strongest action a finding of this set alone may cause; unset: no cap.
  std::optional<Action> max_action;
  // false: one namespace per file; true: the whole set in one namespace
  // (sets whose files use private rules defined in another file).
  bool one_namespace = false;
  // Summed `score` metas of one object's hits in this set: at or above
  // score_suspicious the scored hits are suspicious, at or above
  // score_malicious malicious, below clean (default: [rules] values).
  std::uint32_t score_suspicious = 60;
  std::uint32_t score_malicious = 100;
};

struct RuleSettings {
  std::vector<std::string> paths = {"/etc/emogate/rules"};  // files or folders
  bool strict = false;  // a broken file or a compiler warning fails the whole set
  std::uint32_t timeout_ms = 5000;  // per object
  std::uint32_t score_suspicious = 60;  // LOKI's "warning" level
  std::uint32_t score_malicious = 100;  // LOKI's "alert" level
  // Memory for remembered scan results of each rule set (keyed by the
  // scanned bytes' SHA-256); 0 = no cache.
  std::uint64_t cache_bytes = 8ull << 20;
  std::vector<RuleSetSettings> sets;  // [[rules.set]], in file order

  // Every set to load: "default" from `paths` (scope all, no cap; absent
  // when paths is empty), then `sets`.
  std::vector<RuleSetSettings> all_sets() const;
  // `emogate update-intel`: a command refreshing the rule folders (e.g. a
  // git pull), run through /bin/sh; empty = rules are not updated.
  std::string update_command;
  std::uint32_t update_timeout_s = 300;  // the command is killed past this
};

struct IntelSettings {
  std::string urlhaus_path;  // URLhaus CSV export; empty = off
  std::string feodo_path;    // Feodo Tracker IP blocklist; empty = off
  // `emogate update-intel` downloads each list whose path and URL are set.
  std::string urlhaus_url = "https://urlhaus.abuse.ch/downloads/csv_recent/";
  std::string feodo_url = "https://feodotracker.abuse.ch/downloads/ipblocklist.csv";
  std::uint64_t min_entries = 1;            // a download with fewer entries is refused
  double min_ratio = 0.5;                   // ...and one with fewer than this times the current list's
  std::uint64_t max_download_size = 64ull << 20;
  std::uint32_t download_timeout_s = 300;   // whole transfer
};

enum class Action { accept, tag, hold, quarantine, reject, tempfail, discard };
std::string_view to_string(Action a);

struct ActionSettings {
  Action clean = Action::tag;
  Action suspicious = Action::hold;
  Action malicious = Action::reject;
  Action on_error = Action::tempfail;  // scan failed, timed out, or queue full
  std::map<FindingType, Action> findings;  // per-finding override
  std::string reject_text = "Message rejected: content policy (emogate)";
  std::string tempfail_text = "Message temporarily deferred (emogate)";
  std::string subject_prefix_suspicious;  // e.g. "[SUSPICIOUS]"
  std::string subject_prefix_malicious;
  bool add_headers = true;  // X-Emogate-Verdict / X-Emogate-Findings on tag
  // Rule set name -> its max_action, from [[rules.set]] (filled by the loader).
  std::map<std::string, Action> rule_set_caps;
};

struct MilterSettings {
  std::string socket = "unix:/run/emogate/emogate.sock";
  std::string user = "emogate";
  std::string group = "postfix";
  std::uint32_t socket_mode = 0660;
  std::uint64_t max_message_size = 64ull << 20;
  std::uint64_t memory_buffer = 4ull << 20;  // spill message to temp file past this
  // With worker processes: a message up to this size is written into one of
  // 2 x workers long-lived shared regions (pages kept between messages)
  // instead of a memfd of its own; 0 = off (see worker/spool.h).
  std::uint64_t spool_region_bytes = 4ull << 20;
  std::uint32_t workers = 0;                 // 0 = number of cores
  std::uint32_t queue_size = 64;
  std::uint32_t timeout_s = 300;  // libmilter's I/O timeout
  // SHA-256 of every object in the reports the milter keeps (quarantine);
  // off: only objects with a finding and archives (see ScanOptions).
  bool hash_all_objects = false;
  std::string pid_file;
  // Postfix's configuration folder and Sendmail's sendmail.cf, read by
  // `emogate check` for what keeps mail from reaching this milter ("" = not
  // read; see config/postfix.h, config/sendmail.h).
  std::string postfix_config;
  std::string sendmail_config;
};

struct QuarantineSettings {
  std::string dir = "/var/lib/emogate/quarantine";
  Action after = Action::discard;  // discard or hold once stored
  std::string sendmail = "/usr/sbin/sendmail";
};

// The shared state store (mail held for its password, locks): SQLite on one
// host, Redis shared by several. Unreachable = [actions] on_error.
struct StateSettings {
  std::string backend = "sqlite";                 // "sqlite" or "redis"
  std::string path = "/var/lib/emogate/state.db";  // sqlite: the database file (0600)
  std::uint32_t busy_timeout_ms = 2000;           // sqlite: wait for another writer
  std::uint32_t outbound_commit_ms = 50;          // sqlite: longest a bookkeeping write waits for its batch
  std::string redis = "127.0.0.1:6379";           // redis: HOST:PORT or unix:/path
  std::string redis_prefix = "emogate:";          // redis: every key starts with it
  std::string redis_password_file;                // redis: AUTH password, read at start
  std::uint32_t connect_timeout_ms = 1000;        // redis: connecting
  std::uint32_t command_timeout_ms = 1000;        // redis: each command's round trip
};

// [outbound]: which mail is ours going out, and what a hijacked account
// costs it. Every list the outbound state keeps is bounded by a key here.
struct OutboundSettings {
  bool enabled = false;  // the milter keeps the outbound log, incidents and freezes in [state]
  std::vector<std::string> submission_daemons;  // {daemon_name} values of the submission service
  bool authenticated_is_outbound = true;        // a session with {auth_authen} sends outbound mail
  std::vector<std::string> client_networks;     // CIDRs whose clients send outbound mail
  std::vector<std::string> local_domains;       // our domains (lower case): spoofing, backscatter, report
  std::vector<std::string> local_names;         // colleagues' display names, for the inbound colleague_name check
  std::uint32_t max_thread_lookups = 20;        // inbound: Message-IDs of In-Reply-To/References looked up (and log records read per ID)
  bool thread_recipient_domain_is_enough = false;  // a reply from a recipient's domain is no thread hijack
  std::uint32_t max_bounce_recipients = 100;    // recipients a bounce's parse keeps
  std::uint32_t max_bounce_message_ids = 16;    // original Message-IDs a bounce's parse keeps (and looks up)
  std::uint32_t max_recipients_per_hour = 200;  // distinct recipients an account may reach in an hour
  std::uint32_t max_same_attachment_per_hour = 10;  // messages with one attachment to unrelated recipients in an hour
  std::uint32_t freeze_after_malicious = 1;     // malicious outbound messages in freeze_window
  std::uint32_t freeze_after_suspicious = 3;    // suspicious outbound messages in freeze_window
  std::uint32_t freeze_window_s = 3600;
  Action frozen_action = Action::reject;        // for every message of a frozen account
  std::string frozen_reply =
      "Your account is blocked from sending mail because it sent malware. Please call the help desk.";
  std::uint32_t retention_s = 90 * 86400;       // outbound log, incidents and counters
  std::uint64_t max_log_entries = 1000000;      // outbound log records, oldest dropped first
  std::uint32_t max_log_recipients = 1000;      // recipients kept per outbound log record
  std::uint32_t max_incidents = 10000;          // accounts with an incident
  std::uint32_t max_incident_recipients = 10000;  // distinct recipients (and domains) counted per incident
  std::uint32_t max_incident_list = 100;        // findings, hashes, queue ids, flagged events per incident
  std::uint32_t max_counter_addresses = 10000;  // local addresses counted for backscatter / spoofed_sender
};

struct LogSettings {
  std::string facility = "mail";
  bool to_stderr = false;
  std::string json_path;  // optional JSON lines, one per message
};

struct MetricsSettings {
  std::string listen;  // e.g. "127.0.0.1:9357"; empty = off
};

// [web]: the help desk's web view (`emogate web`). Every bound of the HTTP
// server and of logins is here.
struct WebSettings {
  std::string listen = "127.0.0.1:9358";  // HOST:PORT; not loopback only with TLS
  std::string certificate;                // TLS: PEM certificate chain; with private_key
  std::string private_key;                // TLS: PEM key (read as root, before dropping privileges)
  std::string users_file;                 // local accounts (`emogate web-user add`); empty = none
  std::vector<std::string> trusted_proxies;  // addresses/CIDRs whose proxy_user_header is believed
  std::string proxy_user_header;          // e.g. "X-Remote-User"; empty = no proxy login
  std::uint32_t session_lifetime_s = 8 * 3600;  // absolute, from login
  std::uint32_t session_idle_s = 1800;          // since the last request
  std::uint32_t max_sessions = 1000;            // oldest session ends first past this
  std::uint32_t login_max_failures = 5;         // failed logins per address, and per user name, in login_window
  std::uint32_t login_window_s = 900;
  std::uint32_t max_login_tracked = 10000;      // addresses and names whose failures are remembered
  std::uint64_t max_request_size = 1ull << 20;  // body bytes
  std::uint32_t max_header_size = 16384;        // request line and headers
  std::uint32_t max_form_fields = 2000;         // pairs in a query or form
  std::uint32_t read_timeout_s = 30;            // a request must arrive whole within this
  std::uint32_t max_connections = 64;           // open at once; more wait in the kernel's backlog
  std::uint32_t metrics_timeout_ms = 500;       // the status page's fetch of [metrics] listen
  std::string time_zone;  // IANA name for the pages' times ("Asia/Tokyo"); empty = the host's local time
};

struct Config {
  std::string source;  // file it came from, for messages
  std::map<std::string, int> lines;  // "section.key" -> line in source, for messages
  Limits limits;
  std::map<FindingType, Verdict> verdicts;  // baseline verdict per finding type
  PasswordSettings passwords;
  PpapSettings ppap;
  MacroSettings macros;
  RuleSettings rules;
  IntelSettings intel;
  ActionSettings actions;
  MilterSettings milter;
  QuarantineSettings quarantine;
  StateSettings state;
  OutboundSettings outbound;
  LogSettings log;
  MetricsSettings metrics;
  WebSettings web;

  Verdict baseline(FindingType t) const;
};

// Defaults for the finding-type -> verdict map (used when the file is silent).
Verdict default_baseline(FindingType t);

struct ConfigError : std::runtime_error {
  ConfigError(std::string file, int line, std::string what);
  std::string file;
  int line;  // 0 when unknown
};

// "90", "90s", "30m", "2h", "1d" -> seconds; none when malformed.
std::optional<std::uint64_t> parse_duration_s(std::string_view s);
// One key the loader reads, as recorded by running it on an empty file:
// what `emogate config-keys` prints and emogate.toml(5) is generated from.
struct ConfigKey {
  std::string key;            // "limits.max_depth"; "rules.set[].name" inside [[rules.set]]
  std::string type;           // "integer", "string", "path", "action", ...
  std::string default_value;  // as TOML ("512M", "\"tag\"", [])
  std::string range;          // accepted values ("1 to 64"), empty when any value of the type
};
std::vector<ConfigKey> describe_config();

// Throws ConfigError. An empty path gives the built-in defaults.
Config load_config(const std::string& path);
Config parse_config(const std::string& toml_text, const std::string& source_name);

// What the daemon will need from this machine, checked as the calling user
// (`emogate check` runs as the daemon's user): temp_dir is a directory,
// the quarantine dir is one or can be created, sendmail is an executable,
// [milter] user and group exist. One error per problem, with file:line of
// the key (line 0 when the key is not in the file).
std::vector<ConfigError> check_environment(const Config& config);

}  // namespace emogate
