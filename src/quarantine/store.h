// Quarantine store: one directory per message holding the raw message, the
// JSON scan report and the envelope metadata. An entry appears atomically
// (written in a temp dir, fsynced, renamed, parent dir fsynced) so a crash
// never leaves half an entry, and every file is 0600 in a 0700 store owned by
// the daemon user. IDs given on the command line are checked against the
// store's own format before they touch a path.
// Trusted input: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emogate {

struct QuarantineMeta {
  std::string id;
  std::int64_t time = 0;  // unix seconds when stored
  std::string queue_id;
  std::string sender;
  std::vector<std::string> recipients;
  std::string client;
  std::string auth_user;
  std::string verdict;
  std::string action;                 // the action that sent it here
  std::vector<std::string> findings;  // "type@path"
  std::uint64_t size = 0;
  std::string released_by;  // empty until released (with --keep)
  std::int64_t released_at = 0;
  // Recipients released to so far when not all of them were (a release
  // to some); empty with released_by set means all of them.
  std::vector<std::string> released_to;
};

class QuarantineStore {
 public:
  explicit QuarantineStore(std::string dir);
  const std::string& dir() const { return dir_; }

  // Creates the store directory (0700) if it is missing and makes an
  // existing one 0700. Throws on failure, and when the directory is a
  // symbolic link.
  void ensure_dir() const;
  // Writes a new entry and returns its ID (meta.id is set). Throws
  // std::runtime_error when any step fails; nothing visible is left behind.
  std::string put(std::string_view raw, std::string_view report_json, QuarantineMeta meta) const;

  std::vector<QuarantineMeta> list() const;  // oldest first; broken entries skipped
  std::optional<QuarantineMeta> meta(std::string_view id) const;
  std::string message(std::string_view id) const;  // throws when absent
  std::string report(std::string_view id) const;   // throws when absent
  // The first `max_bytes` bytes of the stored message (its header, for a
  // listing); throws when absent.
  std::string message_head(std::string_view id, std::size_t max_bytes) const;
  void update_meta(const QuarantineMeta& m) const;  // atomic rewrite
  // False when the entry could not be removed (also when it is a link).
  bool remove(std::string_view id) const;

  // IDs are "YYYYMMDD-HHMMSS-xxxxxxxx" (hex); anything else is refused.
  static bool valid_id(std::string_view id);

 private:
  std::string entry(std::string_view id) const;  // the checked ID
  // A file of an entry, opened without following links; throws.
  std::string read(std::string_view id, const char* file, std::size_t max_bytes = SIZE_MAX) const;
  std::string dir_;
};

// An entry's metadata as the JSON object of its meta.json.
nlohmann::json meta_to_json(const QuarantineMeta& m);
// Unix seconds as "2026-11-25T20:01:02Z" (UTC), as the store's tools show them.
std::string iso_time(std::int64_t t);

}  // namespace emogate
