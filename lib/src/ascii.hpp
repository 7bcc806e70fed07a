// ASCII character classes and comparisons shared by the byte parsers. Locale-free on purpose:
// <cctype> depends on the C locale and on signedness of char, neither of which HTTP cares about.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace cortado::detail {

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

// -1 if `c` is not a hex digit.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Optional whitespace of HTTP fields (RFC 9110 5.6.3).
constexpr bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

// Control characters (RFC 5234 CTL): what may never appear in a field value we emit.
constexpr bool is_ctl(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Byte classes by table: the header checks run over every byte of every response head, and one
// load per byte beats a chain of comparisons.
namespace ascii_table {
inline constexpr unsigned char kTchar = 1;      // tchar of RFC 9110 5.6.2
inline constexpr unsigned char kLineBreak = 2;  // CR, LF or NUL
constexpr auto make() {
  struct Table {
    unsigned char bits[256] = {};
  } t;
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    for (char p : std::string_view("!#$%&'*+-.^_`|~")) {
      if (c == static_cast<unsigned char>(p)) t.bits[c] |= kTchar;
    }
    if (alnum) t.bits[c] |= kTchar;
    if (c == '\r' || c == '\n' || c == 0) t.bits[c] |= kLineBreak;
  }
  return t;
}
inline constexpr auto kTable = make();
constexpr unsigned char bits(char c) noexcept {
  return kTable.bits[static_cast<unsigned char>(c)];
}
}  // namespace ascii_table

// tchar of RFC 9110 5.6.2: what a token (method, header name, cookie name) is made of.
constexpr bool is_tchar(char c) noexcept {
  return (ascii_table::bits(c) & ascii_table::kTchar) != 0;
}

// A token: one or more tchars (header names, methods).
constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  unsigned char all = ascii_table::kTchar;
  for (char c : s) all &= ascii_table::bits(c);
  return all != 0;
}

// Eight bytes at a time, for text that is mostly printable: whether any byte of `w` is below
// 0x20 (a control character or HTAB), or equal to DEL. Exact as to "any"; which byte, it does
// not tell, so a caller looks at such a word bytewise.
namespace swar {
inline constexpr std::uint64_t kOnes = 0x0101010101010101ull;
inline constexpr std::uint64_t kHighs = 0x8080808080808080ull;
constexpr bool has_below_space(std::uint64_t w) noexcept {
  return ((w - kOnes * 0x20) & ~w & kHighs) != 0;
}
constexpr bool has_del(std::uint64_t w) noexcept {
  const std::uint64_t x = w ^ (kOnes * 0x7f);
  return ((x - kOnes) & ~x & kHighs) != 0;
}
inline std::uint64_t load(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
}  // namespace swar

// Whether `s` holds CR, LF or NUL: what would let emitted header text end its line early
// (response splitting). Only words holding a byte below 0x20 are looked at bytewise.
inline bool has_line_break(std::string_view s) noexcept {
  auto bytewise = [](std::string_view part) {
    unsigned char any = 0;
    for (char c : part) any |= ascii_table::bits(c);
    return (any & ascii_table::kLineBreak) != 0;
  };
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    if (swar::has_below_space(swar::load(s.data() + i)) && bytewise(s.substr(i, 8))) return true;
  }
  return bytewise(s.substr(i));
}

constexpr bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// What Python's str.strip() removes from ASCII text, so that parsers mirroring Tornado strip
// exactly the same bytes (\t \n \v \f \r, \x1c-\x1f and space).
constexpr bool is_python_space(char c) noexcept {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

constexpr std::string_view trim_python(std::string_view s) noexcept {
  while (!s.empty() && is_python_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_python_space(s.back())) s.remove_suffix(1);
  return s;
}

// Removes from `rest` and returns the text before the next `separator` (all of `rest` if there
// is none); the separator itself is dropped. A plain loop, where find() + substr() trips a
// g++ 12 -Wstringop-overread false positive.
constexpr std::string_view split_off(std::string_view& rest, char separator) noexcept {
  std::size_t i = 0;
  while (i < rest.size() && rest[i] != separator) ++i;
  const std::string_view piece = rest.substr(0, i);
  rest = i < rest.size() ? rest.substr(i + 1) : std::string_view{};
  return piece;
}

}  // namespace cortado::detail
