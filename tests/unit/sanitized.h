// Whether this test binary runs under AddressSanitizer (several times
// slower, its own fault handler): tests size their work or expectations by it.
#pragma once

namespace emogate::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace emogate::test
