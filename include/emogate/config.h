// emogate's configuration: one TOML file, every key optional with a safe
// default. load_config() rejects unknown keys and bad values with the file,
// line and reason, so `emogate check` can tell the admin exactly what is wrong.
#pragma once

#include <cstdint>
#include <map>
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
  // The archive_decrypted verdict: members opened with a password (from the
  // message or the static list) are judged by their content, so clean by
  // default; a site that holds every password ZIP sets suspicious. Members no
  // candidate opened give encrypted_archive at its [verdicts] baseline.
  Verdict opened_archive_verdict = Verdict::clean;
  // Mined candidates tried on an encrypted Office document, best first. Each
  // try costs the document's key derivation (agile: 100,000 SHA-512 rounds,
  // about 30 ms), so far fewer than for a ZIP, whose check costs microseconds.
  std::uint32_t max_document_candidates = 5;
};

struct MacroSettings {
  std::vector<std::string> allow_project_sha256;  // known-good VBA projects
  std::vector<std::string> allow_sender_domains;  // senders whose macros are expected
};

struct RuleSettings {
  std::vector<std::string> paths = {"/etc/emogate/rules"};  // files or folders
  bool strict = false;  // a broken file or a compiler warning fails the whole set
  std::uint32_t timeout_ms = 5000;  // per object
};

struct IntelSettings {
  std::string urlhaus_path;  // URLhaus CSV export; empty = off
  std::string feodo_path;    // Feodo Tracker IP blocklist; empty = off
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
};

struct MilterSettings {
  std::string socket = "unix:/run/emogate/emogate.sock";
  std::string user = "emogate";
  std::string group = "postfix";
  std::uint32_t socket_mode = 0660;
  std::uint64_t max_message_size = 64ull << 20;
  std::uint64_t memory_buffer = 4ull << 20;  // spill message to temp file past this
  std::uint32_t workers = 0;                 // 0 = number of cores
  std::uint32_t queue_size = 64;
  std::uint32_t timeout_s = 300;  // libmilter's I/O timeout
  // SHA-256 of every object in the reports the milter keeps (quarantine);
  // off: only objects with a finding and archives (see ScanOptions).
  bool hash_all_objects = false;
  std::string pid_file;
};

struct QuarantineSettings {
  std::string dir = "/var/lib/emogate/quarantine";
  Action after = Action::discard;  // discard or hold once stored
  std::string sendmail = "/usr/sbin/sendmail";
};

struct LogSettings {
  std::string facility = "mail";
  bool to_stderr = false;
  std::string json_path;  // optional JSON lines, one per message
};

struct MetricsSettings {
  std::string listen;  // e.g. "127.0.0.1:9357"; empty = off
};

struct Config {
  std::string source;  // file it came from, for messages
  std::map<std::string, int> lines;  // "section.key" -> line in source, for messages
  Limits limits;
  std::map<FindingType, Verdict> verdicts;  // baseline verdict per finding type
  PasswordSettings passwords;
  MacroSettings macros;
  RuleSettings rules;
  IntelSettings intel;
  ActionSettings actions;
  MilterSettings milter;
  QuarantineSettings quarantine;
  LogSettings log;
  MetricsSettings metrics;

  Verdict baseline(FindingType t) const;
};

// Defaults for the finding-type -> verdict map (used when the file is silent).
Verdict default_baseline(FindingType t);

struct ConfigError : std::runtime_error {
  ConfigError(std::string file, int line, std::string what);
  std::string file;
  int line;  // 0 when unknown
};

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
