// UTF-8 decoding and encoding of single code points (RFC 3629), shared by the escapers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cortado::detail {

inline constexpr char32_t kInvalidUtf8 = 0xFFFFFFFF;

// Decodes the code point starting at s[i] and advances i past it. Returns kInvalidUtf8 (and
// advances by one byte) for a malformed, overlong, surrogate or out-of-range sequence.
char32_t decode_utf8(std::string_view s, std::size_t& i) noexcept;

// Appends `cp` (a Unicode scalar value) UTF-8 encoded.
void append_utf8(std::string& out, char32_t cp);

constexpr bool is_scalar_value(std::uint64_t cp) noexcept {
  return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

}  // namespace cortado::detail
