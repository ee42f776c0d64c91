// The result of scanning one message or file: verdict, findings, the object
// tree that was walked, and forensic extras (URLs). Serialises to JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "emogate/verdict.h"

namespace emogate {

struct Finding {
  FindingType type;
  std::string path;    // path inside the message, e.g. "請求書.zip/請求書.xls"
  std::string detail;  // human-readable: keywords, limit name, password source
  Verdict verdict;     // the verdict this finding asks for
  // limit_exceeded only (empty otherwise): what stopped the analysis, for
  // code to read. The config setting's name ("scan_timeout_ms",
  // "max_object_size", "rules.timeout_ms"), an internal bound without a
  // setting ("biff_records", "overlapping_entries"), or the resource a scan
  // could not use ("temp_dir", "memory", "worker_memory", "worker_crash").
  std::string limit = {};
  // yara only (empty / 0 otherwise): the rule set that matched ("default"
  // for [rules] paths, else its [[rules.set]] name; the policy applies its
  // max_action) and the object's summed `score` meta in that set.
  std::string rule_set = {};
  int score = 0;
  // spoofed_sender only (empty otherwise): which sender trick it is
  // ("display_name_address", "colleague_name", "own_domain_unauthenticated",
  // "thread_hijack"), the From address, and what the mail claims: the
  // address in the display name, the colleague's name, our domain, or the
  // Message-ID of our message it answers.
  std::string trick = {};
  std::string sender = {};
  std::string claimed = {};

  bool operator==(const Finding&) const = default;
};

struct ObjectSummary {
  std::string path;
  std::string name;           // declared file name (may be empty)
  std::string declared_type;  // Content-Type or archive hint
  std::string type;           // emogate's true type tag, e.g. "ole2", "zip"
  std::string mime;           // libmagic MIME type
  std::uint64_t size = 0;
  std::string sha256;  // hex
  int depth = 0;
  bool truncated = false;  // content cut short by a limit
  bool derived = false;    // produced by analysis (VBA source, HTML text)
  std::string provenance;  // e.g. "decrypted with password from body-1.txt"
  bool body = false;       // a text body of the message, not a file it carries

  bool operator==(const ObjectSummary&) const = default;
};

// An encrypted archive member (or the package of an encrypted Office
// document) no password candidate opened, with its cheap password-check
// data so that a password arriving in a later mail can be tried without
// the message (PPAP; src/ppap).
struct LockedMember {
  std::string archive;  // the archive's (document's) path in the message, as in findings
  std::string member;   // the member's name ("EncryptedPackage" for a document)
  // Encoded, kind-tagged check data (formats/passwords/lock_check.h); empty
  // when no password could open the member here (unsupported cipher or
  // compression).
  std::string check;

  bool operator==(const LockedMember&) const = default;
};

// A password and where it was found (or where it came from).
struct SourcedPassword {
  std::string password;  // UTF-8
  std::string source;    // e.g. `text/plain part 1, line 3, after "パスワード"`

  bool operator==(const SourcedPassword&) const = default;
};

// What correlating a message with an earlier or later one needs (PPAP).
struct PpapFacts {
  std::string from;                // the message's From address, lower-cased
  std::string subject;             // its decoded Subject
  std::vector<std::string> to;     // its To and Cc addresses, lower-cased
  std::int64_t date = 0;           // its Date header, Unix seconds; 0 = none
  std::vector<LockedMember> locked;  // at most a few per archive
  // Passwords in the shapes of a follow-up mail, mined only when
  // ScanOptions::mine_follow_up_passwords asks; never written by to_json.
  std::vector<SourcedPassword> passwords;

  bool operator==(const PpapFacts&) const = default;
};

// What the sender module read for the checks the milter makes with the
// state store (thread hijack, backscatter), filled only when
// ScanOptions::sender_checks asks; never written by to_json.
struct SenderFacts {
  std::string from;                      // the From address, normalised (formats/sender)
  std::vector<std::string> in_reply_to;  // Message-IDs without <>, the newest [outbound] max_thread_lookups
  std::vector<std::string> references;   // the same for References, in header order
  bool bounce = false;                   // a delivery report or bounce (formats/dsn)
  std::vector<std::string> bounced_ids;  // the original's Message-IDs it names
  std::string bounced_for;               // the local address it returns mail to; "" when none
  std::vector<std::string> bounce_problems;  // what the bounce parser could not read

  bool operator==(const SenderFacts&) const = default;
};

// What one YARA rule set did in a scan: for the milter's metrics and the
// `rule_sets` of to_json. A merged pass (a set whose rules another set's
// group holds too) counts for the set whose group ran it.
struct RuleSetUse {
  std::string name;              // [[rules.set]] name
  std::uint64_t objects = 0;     // objects the set's scope took
  std::uint64_t cache_hits = 0;  // of them, answered whole by its verdict cache
  std::uint64_t passes = 0;      // libyara passes (one per group that applied)
  std::uint64_t bytes = 0;       // bytes those passes read
  double cpu_ms = 0;             // their CPU time (the scanning thread's)

  bool operator==(const RuleSetUse&) const = default;
};

struct Report {
  std::string input;  // file name or queue id
  Verdict verdict = Verdict::clean;
  std::vector<Finding> findings;
  std::vector<ObjectSummary> objects;
  std::vector<std::string> urls;    // every URL extracted, normalised
  std::vector<std::string> errors;  // scan errors (each also a finding)
  // What the scan itself could not complete (temp storage full or missing,
  // an analyser that failed), one line each; every entry also has a finding
  // of at least suspicious. Non-empty: the milter applies [actions] on_error.
  std::vector<std::string> incomplete;
  double scan_ms = 0;
  std::uint64_t size = 0;
  PpapFacts ppap;
  SenderFacts sender;
  std::vector<RuleSetUse> rule_sets;  // sets that took an object, in first-use order

  bool flagged() const { return verdict != Verdict::clean; }
  bool complete() const { return incomplete.empty(); }
  bool operator==(const Report&) const = default;
};

// One JSON object on one line (no trailing newline).
std::string to_json(const Report& report);
// One finding as the JSON object that to_json and the milter's JSON log
// line both write.
nlohmann::json finding_json(const Finding& f);

// "type@path,type@path" in the order found, for headers and log lines.
std::string findings_summary(const Report& report);

}  // namespace emogate
