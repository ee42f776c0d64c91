// The PPAP pending blob: what must be kept about a message held for a
// password that comes in a second mail (the paths and names of its locked
// encrypted archives and Office documents, the cheap password-check data
// of their locked members (lock_check.h), envelope sender,
// From, Subject, queue id, recipients), in a compact, versioned, bounded
// binary form. A store (SQLite, Redis) keeps it beside the held message;
// when it comes back it is treated as hostile: parse_ppap_blob() checks
// the magic, the version, every length and count against the bounds below
// and rejects trailing bytes. It never throws.
// Layout (little-endian; str = u16 length + bytes):
//   "EPB" u8 version | str sender | str from | str subject | str queue_id
//   | u16 n + n*str recipients | u8 n archives:
//     str path | str name | u8 n members: str member name | member check
// where a member check is, in version 2 (written now), a kind-tagged lock
// (encode_lock: u8 kind | the kind's check) and, in version 1 (written
// before Office documents could wait; still read), a ZIP member's check
// (formats/zip/check_data.h) without the kind byte.
// An "archive" here is whatever holds locked members: a ZIP, or an
// encrypted Office document whose one member is its EncryptedPackage.
// Trusted input: none.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/passwords/lock_check.h"

namespace emogate::ppap {

inline constexpr std::uint8_t kPpapBlobVersion = 2;
inline constexpr std::uint8_t kPpapBlobVersionZipOnly = 1;

// Bounds of a blob: an encoder refuses more, a parser rejects more.
struct PpapBlobBounds {
  static constexpr std::size_t max_bytes = 256 * 1024;
  static constexpr std::size_t max_address = 512;     // sender, From, one recipient
  static constexpr std::size_t max_subject = 2048;
  static constexpr std::size_t max_queue_id = 128;
  static constexpr std::size_t max_path = 4096;       // archive path in the message
  static constexpr std::size_t max_name = 1024;       // archive or member name
  static constexpr std::size_t max_recipients = 1000;
  static constexpr std::size_t max_archives = 16;
  static constexpr std::size_t max_members = 16;      // checks kept per archive
};

struct PpapMember {
  std::string name;
  LockCheck check;
  bool operator==(const PpapMember&) const = default;
};

struct PpapArchive {
  std::string path;  // path inside the message, as in findings
  std::string name;  // its file name
  std::vector<PpapMember> members;
  // An encrypted Office document (its members are Office packages), whose
  // finding is encrypted_document rather than encrypted_archive.
  bool document() const;
  bool operator==(const PpapArchive&) const = default;
};

struct PpapBlob {
  std::string sender;   // envelope sender, lower-cased
  std::string from;     // From header address, lower-cased
  std::string subject;  // decoded Subject (UTF-8)
  std::string queue_id;
  std::vector<std::string> recipients;  // envelope recipients, lower-cased
  std::vector<PpapArchive> archives;
  bool operator==(const PpapBlob&) const = default;
};

// The encoded blob; none when a field is over its bound, or there is no
// archive or an archive without members.
std::optional<std::string> encode_ppap_blob(const PpapBlob& b);

// The blob, or none with `error` saying what is wrong.
std::optional<PpapBlob> parse_ppap_blob(std::string_view bytes, std::string* error = nullptr);

}  // namespace emogate::ppap
