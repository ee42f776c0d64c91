// What `emogate check` shares between its readings of Postfix's and
// Sendmail's configuration: a milter socket in libmilter's spelling (the
// one emogate's [milter] socket and Sendmail's S= use: unix:/p, local:/p,
// /p, inet:PORT@HOST, inet6:PORT@HOST, inet:PORT) and whether an MTA's
// address for a milter reaches emogate's listener, and the warnings.
// Trusted input: admin files; only text is compared, no name is resolved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emogate::mta {

inline constexpr std::size_t kMaxFileBytes = 4u << 20;  // of an MTA's configuration file, read at most

// The file's first kMaxFileBytes; `ok` false when it cannot be read.
std::string read_config_text(const std::string& path, bool& ok);

// The logical lines of an MTA's configuration file, trimmed, each with the
// number of its first line: a line that starts with a space or a tab
// continues the one before (joined by one space); blank lines and comment
// lines are skipped. A comment starts with '#' in the first column, or
// after white space too with `indented_comments` (Postfix).
void for_each_logical_line(std::string_view text, bool indented_comments,
                           const std::function<void(std::string_view, std::size_t)>& fn);

// What the checks compare the MTA's settings with: emogate's own.
struct Milter {
  std::string socket;                  // [milter] socket
  std::uint64_t worst_case_ms = 0;     // the longest one message may wait for the answer at end of data
  std::uint64_t max_message_size = 0;  // [milter] max_message_size: larger messages are refused
};

struct MilterSocket {
  bool unix_socket = false;
  std::string path;        // unix
  std::string host, port;  // inet: host "" = every address, "loopback" for localhost, 127.0.0.1, ::1
};

MilterSocket parse_libmilter_socket(std::string_view spec);
std::string normal_host(std::string_view host);  // brackets off, lower case, loopback and any-address folded
// Whether a client connecting to `address` reaches `listener`.
bool reaches(const MilterSocket& address, const MilterSocket& listener);

// A message size limit as both MTAs write it: a number of bytes (0 = no
// limit); none for anything else.
std::optional<std::uint64_t> parse_bytes(std::string_view value);

struct Finding {
  std::string file;
  std::size_t line = 0;  // 0: the file as a whole
  std::string text;
};

struct Report {
  std::size_t candidates = 0;  // services (Postfix) or filters in use (Sendmail) that could reach emogate
  std::size_t reaching = 0;    // of those, the ones that do
  std::vector<Finding> warnings;
  std::string error;  // the configuration could not be read
  // Adds a warning unless the same one is there (a setting several
  // services share is named once).
  void warn(std::string file, std::size_t line, std::string text);
};

}  // namespace emogate::mta
