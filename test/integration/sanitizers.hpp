// Which sanitizer this build runs under. AddressSanitizer's quarantine keeps freed memory
// resident, so tests that judge memory by RSS measure it only without ASan (gcc defines
// __SANITIZE_ADDRESS__, clang answers __has_feature).
#pragma once

namespace cortado::test {

#if defined(__SANITIZE_ADDRESS__)
#define CORTADO_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORTADO_UNDER_ASAN 1
#endif
#endif
#ifndef CORTADO_UNDER_ASAN
#define CORTADO_UNDER_ASAN 0
#endif

inline constexpr bool kAddressSanitizer = CORTADO_UNDER_ASAN;

}  // namespace cortado::test
