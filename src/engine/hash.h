// SHA-256 as lower-case hex (OpenSSL), for object identities and allow-lists.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>

namespace emogate {

std::string sha256_hex(std::string_view bytes);

}  // namespace emogate
