// Password miner: finds the passwords a sender printed in the mail for an
// encrypted attachment ("解凍パスワードは Ab3dEf9 です", "PW: x", "Passwort:").
// Works on the message's decoded text parts (UTF-8) after width folding and
// ranks candidates: keyword values on the same or next line, quoted or
// standalone tokens near the attachment mention, every 4-32 character token,
// then the configured static list; capped by [passwords] max_candidates.
// Trusted input: none; the text is the sender's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "formats/mime/text_part.h"

namespace emogate {

struct PasswordCandidate {
  std::string password;  // UTF-8, as mined
  std::string source;    // e.g. `text/plain part 1, line 4, after "パスワード"`
  int rank = 0;          // 0 keyword, 1 near attachment/quoted, 2 token, 3 static list
};

// NFKC-style folding of what matters for passwords: full-width ASCII,
// ideographic and other spaces, half-width katakana; zero-width marks go.
std::string fold_width(std::string_view utf8);

std::vector<PasswordCandidate> mine_passwords(const std::vector<TextPart>& parts,
                                              const std::vector<std::string>& static_list,
                                              std::size_t max_candidates);

// The passwords a follow-up mail gives for an archive sent in an earlier
// mail (PPAP: 「パスワード通知」, 「解凍パスワードのお知らせ」): keyword
// values, the value after an archive's file name ("見積書.zip：Ab3dEf9"),
// quoted values, and in a short notice a token alone on its line. Only
// values that look like a generated password are kept (printable ASCII,
// 4-64 characters, two character classes or a PIN; an address, a URL,
// a date or a prose word is not one), so a reply that merely mentions
// パスワード gives none. At most `max_candidates`, strongest shapes first.
std::vector<PasswordCandidate> mine_follow_up_passwords(const std::vector<TextPart>& parts,
                                                        std::size_t max_candidates);

// Byte strings to try for one candidate: UTF-8, plus CP932 when it has
// non-ASCII characters (Japanese Windows archivers use the ANSI code page).
std::vector<std::string> password_encodings(std::string_view utf8);

// "Ab3dEf9" -> "Ab*****" (code points, never bytes, so UTF-8 stays valid).
std::string mask_password(std::string_view utf8);

}  // namespace emogate
