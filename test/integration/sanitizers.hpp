// Which sanitizer this build runs under. AddressSanitizer's quarantine keeps freed memory
// resident, so tests that judge memory by RSS measure it only without ASan (gcc defines
// __SANITIZE_ADDRESS__, clang answers __has_feature).
#pragma once

namespace cortado::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace cortado::test
